/** Starts owner-child.ts in its own process and reads its JSON lines. */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const OWNER_CHILD = fileURLToPath(new URL('./owner-child.ts', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** Inherited by every process an owner child starts: how its whole tree is found in /proc. */
export const TAG_VAR = 'HOTSHM_STRESS_TAG';

/** A wrapper for startOwnerChild: the owner sees a 1 MiB tmpfs on /dev/shm (a private mount namespace). */
export const SMALL_SHM: readonly string[] = [
  'unshare',
  '-m',
  '--propagation',
  'private',
  'sh',
  '-c',
  'mount -t tmpfs -o size=1m hotshm-stress /dev/shm && exec "$@"',
  'sh',
];

export interface OwnerChild {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly tag: string;
  readonly messages: Record<string, unknown>[];
  /** Resolves with the first message of type `t` (undefined if the child exits first). */
  next(t: string): Promise<Record<string, unknown> | undefined>;
  readonly exited: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    at: number;
  }>;
}

export function startOwnerChild(
  mode: string,
  entry: string,
  wrapper: readonly string[] = [],
): OwnerChild {
  const tag = randomBytes(6).toString('hex');
  const argv = [...wrapper, process.execPath, '--import', 'tsx', OWNER_CHILD, mode, entry];
  const proc = spawn(argv[0]!, argv.slice(1), {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [TAG_VAR]: tag, NODE_OPTIONS: '' },
  });
  const messages: Record<string, unknown>[] = [];
  const waiters: { t: string; resolve: (m: Record<string, unknown> | undefined) => void }[] = [];
  let buffered = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8');
  proc.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      let m: Record<string, unknown>;
      try {
        m = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue;
      }
      messages.push(m);
      for (const w of waiters.filter((x) => x.t === m.t)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_384);
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
    at: number;
  }>((resolve) => {
    proc.once('exit', (code, signal) => {
      for (const w of waiters.splice(0)) w.resolve(undefined);
      resolve({ code, signal, stderr, at: performance.now() });
    });
  });
  return {
    proc,
    pid: proc.pid!,
    tag,
    messages,
    exited,
    next(t) {
      const found = messages.find((m) => m.t === t);
      if (found) return Promise.resolve(found);
      if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(undefined);
      return new Promise((resolve) => waiters.push({ t, resolve }));
    },
  };
}
