import { describe, expect, it } from 'vitest';
import { RestartPolicy } from './restart.js';

describe('RestartPolicy', () => {
  it('restarts after each of the first two quick crashes and stops at the third', () => {
    const p = new RestartPolicy({ maxQuickCrashes: 3, quickCrashMs: 3000 });
    expect([p.crashed(10), p.crashed(10), p.crashed(10)].map((d) => d.willRestart)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('a crash after a long run is not quick: three more quick ones are needed to stop', () => {
    const p = new RestartPolicy({ maxQuickCrashes: 3, quickCrashMs: 3000 });
    p.crashed(10);
    p.crashed(10);
    const after = [p.crashed(60_000), p.crashed(10), p.crashed(10), p.crashed(10)];
    expect(after.map((d) => d.willRestart)).toEqual([true, true, true, false]);
  });

  it('backs off 100, 200, 400 ms… up to the cap', () => {
    const p = new RestartPolicy({ backoffMs: 100, maxBackoffMs: 500 });
    expect([1, 2, 3, 4, 5].map((n) => p.backoff(n))).toEqual([100, 200, 400, 500, 500]);
    const q = new RestartPolicy({ maxQuickCrashes: 5 });
    expect([q.crashed(1), q.crashed(1), q.crashed(1)].map((d) => d.restartInMs)).toEqual([
      100, 200, 400,
    ]);
  });

  it('a saved change starts the count again', () => {
    const p = new RestartPolicy({ maxQuickCrashes: 2 });
    p.crashed(1);
    p.reset();
    expect(p.crashed(1).willRestart).toBe(true);
    expect(p.crashed(1).willRestart).toBe(false);
  });
});
