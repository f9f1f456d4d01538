/**
 * 100,000 channel ping-pongs between real processes, async recv() on this side and recvSync in
 * the child, with random delays so that both sides sometimes spin and sometimes park.
 */
import { describe, expect, it } from 'vitest';
import { parkerStats } from '../src/sync/index.js';
import { createFields } from './channel-context.js';
import { layouts } from './channel-schemas.js';
import { spawnChild } from './channel-spawn.js';

describe('channel ping-pong', () => {
  it('loses no wake-up over 100,000 channel ping-pongs, async recv against recvSync', async () => {
    const owner = createFields(layouts.pingpong);
    try {
      const [ping, pong] = owner.fields;
      const N = 100_000;
      const child = spawnChild('channel-child.ts', ['echo', owner.ctx.regionName, N]);
      // The first round waits for the child to start (its sleeps may run a whole slice).
      ping.send({ seq: 0 });
      expect(await pong.recv({ timeoutMs: 30_000 })).toEqual({ seq: 0 });
      const before = parkerStats();
      for (let i = 1; i < N; i++) {
        expect(ping.send({ seq: i })).toBe(true);
        const m = await pong.recv({ timeoutMs: 30_000 });
        if (m.seq !== i) expect.fail(`round ${i}: got pong ${m.seq}`);
      }
      expect(await child.result).toEqual({ rounds: N });
      const after = parkerStats();
      // Async receives did park (the child's random delays make sure of it), and no sleep ever
      // ran to the end of its 500 ms slice: every one was ended by a wake.
      expect(after.parks).toBeGreaterThan(before.parks);
      expect(after.timeouts).toBe(before.timeouts);
      expect(after.pending).toBe(0);
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('loses no wake-up over 20,000 ping-pongs with async recv on both sides', async () => {
    // Both sides wait on the event loop, so each one's waits go through the parker: right after
    // a send that woke the other side it polls (REPLY_WINDOW_MICROS), then it parks. A message
    // published between the last look of the polling phase and the sleep must still wake it.
    const owner = createFields(layouts.pingpong);
    try {
      const [ping, pong] = owner.fields;
      const N = 20_000;
      const child = spawnChild('channel-child.ts', ['echo-async', owner.ctx.regionName, N]);
      ping.trySend({ seq: 0 });
      expect(await pong.recv({ timeoutMs: 30_000 })).toEqual({ seq: 0 });
      const before = parkerStats();
      for (let i = 1; i < N; i++) {
        expect(ping.trySend({ seq: i })).toBe(true);
        const m = await pong.recv();
        if (m.seq !== i) expect.fail(`round ${i}: got pong ${m.seq}`);
      }
      const after = parkerStats();
      // No sleep on either side ran to the end of its slice: each was ended by a wake. (Our
      // first ping is in the ring before the child starts, so none of its sleeps may either.)
      expect(after.timeouts).toBe(before.timeouts);
      expect(after.pending).toBe(0);
      expect(await child.result).toEqual({ rounds: N, timeouts: 0, pending: 0 });
    } finally {
      owner.ctx.region.unlink();
    }
  });
});
