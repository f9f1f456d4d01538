/**
 * Helpers for the Windows lane's checks (scripts/windows-lane.mjs bundles them into
 * .cache/windows/project/checks/ and runs them with `node --test` under Wine). A check starts
 * peers (`peer.child.ts`, another Windows Node process) and talks to them by lines on
 * stdin/stdout, which are Windows pipes between two Windows processes and work under Wine.
 * Every wait polls a condition with a deadline: nothing here asserts on how long anything took.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the bundled checks and children are (the bundle's own folder). */
export const checksDir: string = dirname(fileURLToPath(import.meta.url));
/** The lane's npm project: node_modules with the packed library, and the example packages. */
export const projectDir: string = join(checksDir, '..');

export interface Peer {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every line printed so far. */
  readonly output: readonly string[];
  /** The next line the peer prints (rejects if it exits first). */
  line(): Promise<string>;
  /** The next line that matches, skipping others. */
  lineMatching(pattern: RegExp): Promise<RegExpExecArray>;
  send(line: string): void;
  readonly exited: Promise<{ code: number | null; signal: string | null; stderr: string }>;
  kill(): void;
}

/**
 * Starts `<script>.mjs` from the checks folder (e.g. 'peer.child') with `args`, or any script by
 * absolute path, as a new Windows Node process.
 */
export function startPeer(
  script: string,
  args: readonly (string | number)[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Peer {
  const file = script.includes(':') ? script : join(checksDir, `${script}.mjs`);
  const child = spawn(process.execPath, [file, ...args.map(String)], {
    cwd: options.cwd ?? projectDir,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${file}`);
  const output: string[] = [];
  const unread: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffered = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
      output.push(line);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else unread.push(line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: string | null; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  const line = (): Promise<string> => {
    const ready = unread.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      waiting.push(resolve);
      void exited.then(({ code, signal }) =>
        reject(
          new Error(`${script} exited (${code ?? signal}) before printing a line:\n${stderr}`),
        ),
      );
    });
  };
  return {
    process: child,
    pid: child.pid,
    output,
    line,
    async lineMatching(pattern) {
      for (;;) {
        const next = await line();
        const m = pattern.exec(next);
        if (m) return m;
      }
    },
    send(text) {
      child.stdin.write(`${text}\n`);
    },
    exited,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

/** Polls `probe` every `intervalMs` until it returns something other than undefined. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Whether a Windows process with this pid exists (OpenProcess through process.kill(pid, 0)). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
