/**
 * Helpers for the Windows lane's checks (scripts/windows-lane.mjs bundles them into
 * .cache/windows/project/checks/ and runs them with `node --test` under Wine). A check starts
 * peers (`peer.child.ts`, another Windows Node process) and talks to them by lines on
 * stdin/stdout, which are Windows pipes between two Windows processes and work under Wine.
 * Every wait polls a condition with a deadline: nothing here asserts on how long anything took.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';

/** Where the bundled checks and children are (the bundle's own folder). */
export const checksDir: string = dirname(fileURLToPath(import.meta.url));
/** The lane's npm project: node_modules with the packed library, and the example packages. */
export const projectDir: string = join(checksDir, '..');

export interface Peer {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Every line printed so far. */
  readonly output: readonly string[];
  /** Everything printed on stderr so far. */
  readonly stderr: string;
  /** Whether the process has exited. */
  readonly gone: boolean;
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
    get stderr() {
      return stderr;
    },
    get gone() {
      return child.exitCode !== null || child.signalCode !== null;
    },
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

export type OwnerEvent = Record<string, unknown> & { event?: string };

/** app/owner.mjs running in `dir`, and the JSON lines it prints (events and answers). */
export interface AppOwner {
  readonly peer: Peer;
  /** The next JSON line that satisfies `match`, skipping others; fails fast if the owner exits. */
  next(what: string, match: (e: OwnerEvent) => boolean, timeoutMs?: number): Promise<OwnerEvent>;
  /** Sends a command line and returns the answer: the next JSON line that has `key`. */
  command(line: string, key: string, timeoutMs?: number): Promise<OwnerEvent>;
  /** Kills it and keeps what it printed in logs/<name>.log, which the lane shows on a failure. */
  stop(name: string): void;
}

export function startAppOwner(dir: string, env?: Record<string, string>): AppOwner {
  const peer = startPeer(join(dir, 'owner.mjs'), [], { cwd: dir, ...(env ? { env } : {}) });
  let seen = 0;
  const parse = (line: string): OwnerEvent | undefined => {
    if (!line.startsWith('{')) return undefined;
    try {
      return JSON.parse(line) as OwnerEvent;
    } catch {
      return undefined;
    }
  };
  const next = (
    what: string,
    match: (e: OwnerEvent) => boolean,
    timeoutMs = 60_000,
  ): Promise<OwnerEvent> =>
    waitFor(
      what,
      () => {
        if (peer.gone && seen >= peer.output.length) {
          throw new Error(`the owner exited (${peer.process.exitCode}): ${peer.stderr}`);
        }
        for (; seen < peer.output.length; seen++) {
          const e = parse(peer.output[seen]!);
          if (e && match(e)) {
            seen++;
            return e;
          }
        }
        return undefined;
      },
      timeoutMs,
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}; the owner printed:\n${peer.output.join('\n')}\n${peer.stderr}`,
      );
    });
  return {
    peer,
    next,
    command(line, key, timeoutMs) {
      peer.send(line);
      return next(`the owner's answer to ${line}`, (e) => key in e, timeoutMs);
    },
    stop(name) {
      peer.kill();
      mkdirSync(join(projectDir, 'logs'), { recursive: true });
      writeFileSync(
        join(projectDir, 'logs', `${name}.log`),
        `${peer.output.join('\n')}\n--- stderr\n${peer.stderr}`,
      );
    },
  };
}

/** A fresh copy of the lane's app (test/windows/app) inside the project, for a check to edit. */
export function copyApp(): string {
  const dir = mkdtempSync(join(projectDir, 'work-'));
  cpSync(join(checksDir, 'app'), dir, { recursive: true });
  return dir;
}

interface Toolhelp {
  snapshot(): Array<{ pid: number; parent: number; exe: string }>;
}
let toolhelp: Toolhelp | undefined;

/**
 * Every process on the machine with its parent, from a Toolhelp32 snapshot. PROCESSENTRY32W is
 * declared from tlhelp32.h and koffi lays it out; Process32FirstW fails unless dwSize is the size
 * Windows expects (568 bytes on x64), so a wrong layout fails here instead of returning nothing.
 */
export function listProcesses(): Array<{ pid: number; parent: number; exe: string }> {
  toolhelp ??= (() => {
    const k = koffi.load('kernel32.dll');
    const Entry = koffi.struct('hotshm_lane_PROCESSENTRY32W', {
      dwSize: 'uint32',
      cntUsage: 'uint32',
      th32ProcessID: 'uint32',
      th32DefaultHeapID: 'uintptr_t',
      th32ModuleID: 'uint32',
      cntThreads: 'uint32',
      th32ParentProcessID: 'uint32',
      pcPriClassBase: 'int32',
      dwFlags: 'uint32',
      szExeFile: koffi.array('uint16', 260),
    });
    const fn = (name: string, result: string, params: unknown[]) =>
      k.func('__stdcall', name, result, params as string[]);
    const CreateToolhelp32Snapshot = fn('CreateToolhelp32Snapshot', 'intptr', ['uint32', 'uint32']);
    const Process32FirstW = fn('Process32FirstW', 'int', [
      'intptr',
      koffi.inout(koffi.pointer(Entry)),
    ]);
    const Process32NextW = fn('Process32NextW', 'int', [
      'intptr',
      koffi.inout(koffi.pointer(Entry)),
    ]);
    const CloseHandle = fn('CloseHandle', 'int', ['intptr']);
    const GetLastError = fn('GetLastError', 'uint32', []);
    const TH32CS_SNAPPROCESS = 2;
    const size = koffi.sizeof(Entry);
    return {
      snapshot() {
        const snap = Number(CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0));
        if (snap === -1) throw new Error(`CreateToolhelp32Snapshot failed: ${GetLastError()}`);
        try {
          const out: Array<{ pid: number; parent: number; exe: string }> = [];
          const entry: Record<string, unknown> = { dwSize: size };
          if (!Process32FirstW(snap, entry)) {
            throw new Error(`Process32FirstW failed (dwSize ${size}): error ${GetLastError()}`);
          }
          do {
            const chars = entry.szExeFile as number[];
            const end = chars.indexOf(0);
            out.push({
              pid: entry.th32ProcessID as number,
              parent: entry.th32ParentProcessID as number,
              exe: String.fromCharCode(...chars.slice(0, end < 0 ? chars.length : end)),
            });
            entry.dwSize = size;
          } while (Process32NextW(snap, entry));
          return out;
        } finally {
          CloseHandle(snap);
        }
      },
    };
  })();
  return toolhelp.snapshot();
}

/** The pids of every live descendant of `root` (children, their children, …). */
export function descendants(root: number): number[] {
  const all = listProcesses();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const p of all) {
      if (p.parent === parent && p.pid !== root && !found.includes(p.pid)) {
        found.push(p.pid);
        queue.push(p.pid);
      }
    }
  }
  return found;
}
