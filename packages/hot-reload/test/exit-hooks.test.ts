/**
 * The exit hooks of a process ended by a signal run to their end even if the same signal comes
 * again while they run: a terminal's Ctrl+C reaches the owner and `hotshm dev`, which passes it
 * on, so an owner often gets two. The second used to end the process by default halfway through
 * its cleanup (its region left in /dev/shm).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from './fixtures/workspace.js';

/** Whether `pid` has a handler for `signal` (Linux: /proc/<pid>/status SigCgt). */
function catches(pid: number, signal: NodeJS.Signals): boolean {
  const mask = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
  return (
    mask !== undefined &&
    ((BigInt(`0x${mask}`) >> BigInt(constants.signals[signal] - 1)) & 1n) === 1n
  );
}

const CHILD = fileURLToPath(new URL('./fixtures/slow-exit-hook.ts', import.meta.url));
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe.runIf(process.platform === 'linux')('exit hooks on a signal', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`finish when a second ${signal} comes while they run, and the process dies of it`, async () => {
      dir = mkdtempSync(join(tmpdir(), 'hotshm-exit-hooks-'));
      const d = dir;
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, d], {
        stdio: 'ignore',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      const exited = new Promise<NodeJS.Signals | null>((r) =>
        child.once('exit', (_code, s) => r(s)),
      );
      await until('the child to be ready', () => existsSync(join(d, 'ready')));
      child.kill(signal);
      await until('the hook to start', () => existsSync(join(d, 'started')));
      // While the hooks run the signal stays caught (without that, the next one ends the process
      // at once), so the second can come at any time from here.
      await until(`${signal} caught during the hooks`, () => catches(child.pid!, signal));
      child.kill(signal);
      writeFileSync(join(d, 'go'), '');
      expect(await exited).toBe(signal);
      expect(existsSync(join(d, 'finished'))).toBe(true);
    });
  }
});
