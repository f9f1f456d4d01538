/**
 * Issue 11, case 8 (the example's part): with the terminal back end the app logs to
 * `/tmp/hotshm-<pid>.log`. A clean stop (Escape, SIGTERM) removes it; the log of an owner that
 * died without stopping (SIGKILL) stays to be read, and the next start removes it, together with
 * any other dead owner's log, leaving live owners' logs alone. The real app on a real pty
 * (`script`), as `pnpm dev` runs it in a terminal.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../hot-reload/test/x11.js';
import {
  appCommand,
  appDir,
  childrenOf,
  isAlive,
  ownerUnder,
  regionsOf,
  runsNode,
} from './e2e/harness.js';

const logOf = (pid: number): string => join(tmpdir(), `hotshm-${pid}.log`);
const tempDirsOf = (pid: number): string[] =>
  readdirSync(tmpdir()).filter((n) => n.startsWith(`hotshm-${pid}-`));

interface TerminalApp {
  readonly script: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
}

/** The app with HOTSHM_BACKEND=terminal on a pty of its own; resolves once it logs its region. */
async function startInTerminal(): Promise<TerminalApp> {
  const command = `exec ${appCommand('dev')}`;
  const script = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: appDir,
    env: { ...process.env, HOTSHM_BACKEND: 'terminal', COLUMNS: '100', LINES: '40' },
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  const exited = new Promise<number | null>((r) => script.once('exit', (code) => r(code)));
  const pid = await waitFor(
    'the app process on the pty',
    () => {
      // `hotshm dev` on the pty runs the owner as its child.
      const launcher = childrenOf(script.pid!).find(runsNode)?.pid;
      return launcher === undefined ? undefined : ownerUnder(launcher);
    },
    30_000,
  );
  await waitFor(
    'the app to log its region',
    () => {
      try {
        return readFileSync(logOf(pid), 'utf8').includes('hotshm: region') ? true : undefined;
      } catch {
        return undefined;
      }
    },
    30_000,
  );
  return { script, pid, exited };
}

const running: TerminalApp[] = [];
const made: string[] = [];
afterEach(() => {
  for (const app of running.splice(0)) {
    if (isAlive(app.pid)) process.kill(app.pid, 'SIGKILL');
    app.script.kill('SIGKILL');
  }
  for (const f of made.splice(0)) rmSync(f, { force: true });
});

describe("the terminal back end's log files (issue 11, case 8)", () => {
  it('are removed on a clean stop, kept after a SIGKILL, and removed by the next start', async () => {
    // Logs left by an owner that is gone, and by one that is alive.
    const gone = spawnSync('true').pid!;
    const sleeper = spawn('sleep', ['120'], { stdio: 'ignore' });
    try {
      const stale = logOf(gone);
      const live = logOf(sleeper.pid!);
      for (const f of [stale, live]) {
        made.push(f);
        writeFileSync(f, 'an old log\n');
      }

      // Escape: a clean stop.
      const first = await startInTerminal();
      running.push(first);
      expect(existsSync(stale)).toBe(false);
      expect(existsSync(live)).toBe(true);
      first.script.stdin!.write('\x1b');
      expect(await first.exited).toBe(0);
      expect(existsSync(logOf(first.pid))).toBe(false);
      expect(tempDirsOf(first.pid)).toEqual([]);
      expect(regionsOf(first.pid)).toEqual([]);

      // SIGKILL: nothing runs, the log stays to be read.
      const second = await startInTerminal();
      running.push(second);
      made.push(logOf(second.pid));
      process.kill(second.pid, 'SIGKILL');
      await second.exited;
      expect(existsSync(logOf(second.pid))).toBe(true);

      // The next start removes it; a SIGTERM is a clean stop too.
      const third = await startInTerminal();
      running.push(third);
      expect(existsSync(logOf(second.pid))).toBe(false);
      expect(tempDirsOf(second.pid)).toEqual([]);
      expect(existsSync(live)).toBe(true);
      process.kill(third.pid, 'SIGTERM');
      await third.exited;
      await waitFor('the app to be gone', () => (isAlive(third.pid) ? undefined : true));
      expect(existsSync(logOf(third.pid))).toBe(false);
      expect(tempDirsOf(third.pid)).toEqual([]);
      expect(regionsOf(third.pid)).toEqual([]);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
