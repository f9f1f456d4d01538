/**
 * Worker faults: worker.terminate() landing while a worker waits on a word of a real region, in
 * synchronous and async futex waits at once (test/terminate-child.ts). The process must survive
 * every termination: a crash in a foreign call (issue 11's SIGSEGV) ends the child with a signal,
 * and the terminations it did not reach count as not survived. The region it maps is its own and
 * is removed by it; a crash would leave it, so it is counted as leaked then.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Row } from './table.js';

const CHILD = fileURLToPath(new URL('../terminate-child.ts', import.meta.url));

export async function workerFaults(
  count: number,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const last = out.trim().split('\n').pop() ?? '';
  const done = last === '' ? 0 : (JSON.parse(last) as { terminated: number }).terminated;
  const clean = exit.code === 0 && done === count;
  const notes: string[] = [];
  if (!clean) {
    notes.push(
      `worker terminations: the child ended with ${exit.signal ?? `exit ${exit.code}`} after ${done} of ${count}: ${err.trim().split('\n').slice(-3).join(' / ')}`,
    );
  }
  log(`worker terminations: ${done} of ${count}, ${exit.signal ?? `exit ${exit.code}`}`);
  return {
    rows: [
      {
        fault: 'worker terminated mid-wait',
        injected: clean ? count : done + 1,
        survived: done,
        lost: 0,
        torn: 0,
        orphaned: 0,
        leaked: clean ? 0 : 1,
      },
    ],
    notes,
  };
}
