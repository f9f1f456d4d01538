/**
 * Channels between real processes over a real region: complete, in order, exactly once.
 */
import { describe, expect, it } from 'vitest';
import type { Channel } from '../src/channel/index.js';
import { createFields } from './channel-context.js';
import {
  type Big,
  bigError,
  layouts,
  mixedError,
  mixed as mixedMessage,
} from './channel-schemas.js';
import { spawnChild } from './channel-spawn.js';

const nap = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('channel across processes', () => {
  it('delivers 100,000 messages of mixed sizes complete, in order, once (async recv)', async () => {
    const owner = createFields(layouts.mixed);
    try {
      const ch = owner.fields[0];
      const N = 100_000;
      const producer = spawnChild('channel-child.ts', [
        'produce',
        owner.ctx.regionName,
        'mixed',
        0,
        N,
      ]);
      for (let i = 0; i < N; i++) {
        const m = await ch.recv({ timeoutMs: 30_000 });
        const error = mixedError(m, i);
        if (error !== null) expect.fail(error);
      }
      expect(await producer.result).toEqual({ sent: N });
      // Nothing more: each message arrived once.
      expect(ch.tryRecv()).toBeUndefined();
      expect(ch.length).toBe(0);
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('keeps messages for the next consumer when one is killed with SIGKILL mid-stream', async () => {
    const owner = createFields(layouts.small);
    try {
      const ch = owner.fields[0];
      const N = 30_000;
      const readIndex = new Int32Array(owner.ctx.buffer, owner.offsets[0]! + 64, 1);
      const first = spawnChild('channel-child.ts', ['consume', owner.ctx.regionName, 'small', N]);
      let seq = 0;
      // Send until the first consumer has taken a good part, then kill it while we keep sending.
      while (Atomics.load(owner.scratch, 0) < 5_000) {
        while (seq < N && ch.trySend(mixedMessage(seq))) seq++;
        await nap(0);
      }
      first.process.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      // Messages sent while no consumer runs wait in the ring (64 of them) for the next one.
      while (ch.trySend(mixedMessage(seq))) seq++;
      expect(ch.length).toBe(64);
      // The channel's own counter says exactly how many the dead consumer took.
      const taken = Atomics.load(readIndex, 0);
      const second = spawnChild('channel-child.ts', [
        'consume',
        owner.ctx.regionName,
        'small',
        N - taken,
      ]);
      while (seq < N) {
        while (seq < N && ch.trySend(mixedMessage(seq))) seq++;
        await nap(0);
      }
      // It starts exactly after the last message the killed consumer took, and gets every one
      // after that, in order (checked message by message in the child).
      expect(await second.result).toEqual({ first: taken, count: N - taken });
      expect(ch.length).toBe(0);
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('never yields a torn message when producers are killed mid-send', async () => {
    const owner = createFields(layouts.big);
    try {
      const ch = owner.fields[0] as Channel<Big>;
      let received = 0;
      for (let round = 0; round < 5; round++) {
        const producer = spawnChild('channel-child.ts', [
          'produce',
          owner.ctx.regionName,
          'big',
          received,
          2 ** 31,
        ]);
        // Let it run flat out (the ring of 8 big messages is full most of the time) and kill it
        // at an arbitrary point, often in the middle of encoding 8 KiB.
        const stopAt = received + 500 + Math.floor(Math.random() * 1_000);
        while (received < stopAt) {
          const m = await ch.recv({ timeoutMs: 30_000 });
          const error = bigError(m, received);
          if (error !== null) expect.fail(error);
          received++;
        }
        producer.process.kill('SIGKILL');
        await producer.exited;
        // Everything it published is complete; nothing half-written ever shows.
        for (const m of ch.drain()) {
          const error = bigError(m, received);
          if (error !== null) expect.fail(error);
          received++;
        }
      }
      expect(received).toBeGreaterThanOrEqual(2_500);
    } finally {
      owner.ctx.region.unlink();
    }
  });
});
