/**
 * While the terminal back end shows the window, the terminal is the picture: every line printed
 * would scroll it. So what the process writes to stdout and stderr (the app's log, the host's
 * report, the renderers' stderr, which the host copies to `process.stderr`) goes to a log file
 * instead, `<tmpdir>/hotshm-<pid>.log` unless the app names another, until the window closes.
 *
 * A clean close removes the file; the log of an owner that died without closing (SIGKILL) stays to
 * be read, and the next window removes the logs of owners that are gone.
 */
import { closeSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CapturedOutput {
  readonly path: string;
  /** Gives stdout and stderr back; `remove` deletes the log (a clean end). */
  restore(options: { remove: boolean }): void;
}

type Write = NodeJS.WriteStream['write'];

/** The log an owner of this pid writes while its window is in the terminal. */
export function terminalLogPath(pid: number = process.pid): string {
  return join(tmpdir(), `hotshm-${pid}.log`);
}

/**
 * Sends `process.stdout` and `process.stderr` writes to `path` until `restore()`. Writers that
 * took `write` before (the terminal back end) keep writing to the terminal. The file is written
 * synchronously: the log of an owner that crashes is complete, and a clean close can remove it
 * knowing nothing is still on its way.
 */
export function captureOutput(path: string = terminalLogPath()): CapturedOutput {
  removeStaleLogs();
  const fd = openSync(path, 'w');
  const streams = [process.stdout, process.stderr];
  const saved = streams.map((s) => Object.getOwnPropertyDescriptor(s, 'write'));
  const write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    const text =
      typeof chunk === 'string'
        ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
        : (chunk as Uint8Array);
    try {
      writeSync(fd, text);
    } catch {
      // A full disk must not make printing throw in the app; the line is lost.
    }
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as Write;
  for (const s of streams) s.write = write;
  let restored = false;
  return {
    path,
    restore({ remove }) {
      if (restored) return;
      restored = true;
      streams.forEach((s, i) => {
        const own = saved[i];
        if (own) Object.defineProperty(s, 'write', own);
        else delete (s as { write?: Write }).write;
      });
      closeSync(fd);
      if (remove) rmSync(path, { force: true });
    },
  };
}

/** Removes the logs of owners that are gone (`hotshm-<pid>.log` whose pid no longer runs). */
export function removeStaleLogs(dir: string = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^hotshm-(\d+)\.log$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(dir, name), { force: true });
    }
  }
}
