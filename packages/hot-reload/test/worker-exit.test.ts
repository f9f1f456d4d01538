/**
 * Issue 11, case 3: a no-hot owner (the renderer on a worker thread) ending right after a burst
 * of input, again and again. Terminating a worker inside a koffi call killed the whole process
 * with SIGSEGV now and then (1 run of 40 of `burst-close` on 6477f0e); the worker host now
 * retires the renderer, whose loops end and whose main() returns, and the thread ends on its own.
 * Every exit must be code 0. `pnpm stress` runs many more of these, on loaded cores.
 */
import { describe, expect, it } from 'vitest';
import { startOwnerProcess } from './fixtures/owners.js';
import { createWorkspace, rendererSource } from './fixtures/workspace.js';

const RED = 0xffff0000;
const RUNS = 4;

describe('a no-hot owner ending right after a burst of input (issue 11, case 3)', () => {
  for (const command of ['burst-close', 'burst-exit'] as const) {
    it(`${command === 'burst-close' ? 'closes, then exits' : 'calls process.exit() without closing'}: ${RUNS} times in a row, every exit code 0`, async () => {
      const ws = createWorkspace(rendererSource(RED));
      const exits: string[] = [];
      try {
        // Two owners at a time: the cores are busy, as on a loaded machine.
        for (let i = 0; i < RUNS; i += 2) {
          const pair = [startOwnerProcess(ws, 'nohot'), startOwnerProcess(ws, 'nohot')];
          try {
            for (const owner of pair) await owner.ready;
            for (const owner of pair) owner.command(command);
            for (const owner of pair) {
              const e = await owner.exited;
              exits.push(e.code === 0 ? '0' : `${e.code ?? e.signal}: ${e.stderr.slice(-400)}`);
            }
          } finally {
            for (const owner of pair) owner.proc.kill('SIGKILL');
          }
        }
      } finally {
        ws.remove();
      }
      expect(exits).toEqual(Array.from({ length: RUNS }, () => '0'));
    });
  }
});
