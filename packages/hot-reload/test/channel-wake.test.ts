/**
 * Waiting and waking between real processes: no lost wake-ups, a free event loop while recv()
 * waits, the wake syscall only when someone sleeps.
 */
import { describe, expect, it } from 'vitest';
import { parkerStats, sharedWord, storeAndWake, waitSync, wake } from '../src/sync/index.js';
import { createFields } from './channel-context.js';
import { layouts, mixed } from './channel-schemas.js';
import { spawnChild } from './channel-spawn.js';

describe('wake-ups across processes', () => {
  it('loses no wake-up over 100,000 raw ping-pongs with random delays (no timeouts anywhere)', async () => {
    const owner = createFields(layouts.mixed);
    try {
      const base = owner.scratch.byteOffset;
      const ping = sharedWord(owner.ctx.buffer, owner.ctx.address, base + 8, base + 12);
      const pong = sharedWord(owner.ctx.buffer, owner.ctx.address, base + 16, base + 20);
      const N = 100_000;
      const child = spawnChild('channel-child.ts', ['word-pingpong', owner.ctx.regionName, N]);
      // The child maps the region before the first ping; it then waits on ping with no timeout.
      for (let i = 0; i < N; i++) {
        storeAndWake(ping, i + 1);
        // No timeout: a lost wake-up would hang here and fail the test by its own timeout.
        waitSync(pong, i, undefined, { spinMicros: i % 10 === 0 ? 0 : 30 });
        if (Atomics.load(pong.i32, pong.index) !== i + 1) expect.fail(`round ${i}: bad pong`);
      }
      expect(await child.result).toEqual({ rounds: N });
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('keeps the event loop free while recv() waits', async () => {
    const owner = createFields(layouts.mixed);
    try {
      const ch = owner.fields[0];
      let ticks = 0;
      const timer = setInterval(() => {
        ticks++;
        Atomics.store(owner.scratch, 1, ticks);
      }, 5);
      // The child sends only once our timer has ticked 10 times, which can only happen if the
      // event loop runs while recv() is pending.
      const child = spawnChild('channel-child.ts', ['send-after-ticks', owner.ctx.regionName, 10]);
      try {
        const m = await ch.recv();
        expect(m).toEqual(mixed(42));
        expect(ticks).toBeGreaterThanOrEqual(10);
      } finally {
        clearInterval(timer);
      }
      expect(await child.result).toEqual({ sent: 1 });
      // Nothing is left parked once nothing waits.
      // Nothing is left parked once nothing waits: the parker wakes its own sleep (the pool
      // thread's return can take a moment on a loaded machine, hence the loop, not a delay).
      expect(parkerStats().pending).toBe(0);
      while (parkerStats().parked) await new Promise((resolve) => setTimeout(resolve, 5));
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('makes the wake syscall only when a process sleeps on the word', async () => {
    const owner = createFields(layouts.mixed);
    try {
      const ch = owner.fields[0];
      const ready = sharedWord(owner.ctx.buffer, owner.ctx.address, owner.offsets[0]!);
      // Nobody waits: wake() is one atomic read and reports that it skipped the syscall.
      expect(wake(ready)).toBe(false);
      const child = spawnChild('channel-child.ts', ['park', owner.ctx.regionName, 30_000]);
      // Wait until the child is parked (its waiter count is visible in shared memory).
      while (Atomics.load(ready.i32, ready.waiters) === 0)
        await new Promise((r) => setTimeout(r, 5));
      Atomics.add(ready.i32, ready.index, 0);
      expect(ch.send(mixed(7))).toBe(true);
      expect(await child.result).toEqual({ seq: 7 });
      expect(Atomics.load(ready.i32, ready.waiters)).toBe(0);
      expect(wake(ready)).toBe(false);
    } finally {
      owner.ctx.region.unlink();
    }
  });
});
