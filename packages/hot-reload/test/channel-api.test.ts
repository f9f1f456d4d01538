/**
 * The channel and sync API in one process over a real region: options, errors, unit and latest
 * channels, timeouts, closed regions, corrupt indices, and the polling back end.
 */
import { describe, expect, it } from 'vitest';
import { channel } from '../src/channel/index.js';
import {
  ChannelFullError,
  CorruptRegionError,
  InvalidArgumentError,
  RegionClosedError,
  SchemaError,
  TimeoutError,
  ValueError,
} from '../src/errors.js';
import { fixedString, u32, unit } from '../src/schema/index.js';
import {
  createPollingBackend,
  parkerStats,
  sharedWord,
  syncBackendName,
  waitAsync,
  waitSync,
  wake,
} from '../src/sync/index.js';
import { createFields } from './channel-context.js';
import { layouts } from './channel-schemas.js';
import { spawnChild } from './channel-spawn.js';

describe('channel()', () => {
  it('refuses bad options with SchemaError naming what came', () => {
    expect(() => channel(u32, { capacity: 3 })).toThrow(SchemaError);
    expect(() => channel(u32, { capacity: 3 })).toThrow(/power of two in \[1, 1048576\], got 3/);
    expect(() => channel(u32, { capacity: 0 })).toThrow(SchemaError);
    expect(() => channel(u32, { capacity: 2 ** 21 })).toThrow(SchemaError);
    expect(() => channel(u32, { capacity: 1.5 })).toThrow(SchemaError);
    expect(() => channel(u32, { capacity: 4, latest: 'yes' as unknown as boolean })).toThrow(
      SchemaError,
    );
    expect(() => channel('u32' as unknown as typeof u32, { capacity: 4 })).toThrow(SchemaError);
    expect(() => channel(channel(u32, { capacity: 4 }), { capacity: 4 })).toThrow(/top-level only/);
  });

  it('lays out a ring on 64-byte lines', () => {
    const c = channel(u32, { capacity: 8 });
    expect(c.align).toBe(64);
    expect(c.size).toBe(192);
    expect(c.topLevelOnly).toBe(true);
    expect(c.signature).toBe('channel<u32>(capacity=8)');
    expect(channel(unit, { capacity: 1024 }).size).toBe(128);
    expect(() => c.write(new DataView(new ArrayBuffer(256)), 0, undefined as never)).toThrow(
      SchemaError,
    );
    expect(() => c.check(1, 'events')).toThrow(ValueError);
  });
});

describe('Channel', () => {
  it('sends and receives in order, full means false or ChannelFullError, never a drop', () => {
    const { fields, ctx } = createFields([channel(u32, { capacity: 4, name: 'numbers' })] as const);
    try {
      const ch = fields[0];
      expect(ch.capacity).toBe(4);
      for (let i = 0; i < 4; i++) expect(ch.send(i)).toBe(true);
      expect(ch.length).toBe(4);
      expect(ch.send(99)).toBe(false);
      expect(ch.trySend(99)).toBe(false);
      expect(() => ch.send(99, { onFull: 'throw' })).toThrow(ChannelFullError);
      expect(() => ch.send(99, { onFull: 'throw' })).toThrow(/channel numbers is full: it holds 4/);
      expect(() => ch.send(1, { onFull: 'drop' as 'throw' })).toThrow(InvalidArgumentError);
      expect(ch.tryRecv()).toBe(0);
      expect(ch.drain()).toEqual([1, 2, 3]);
      expect(ch.tryRecv()).toBeUndefined();
      // A message that does not fit its schema is refused and nothing is published.
      expect(() => ch.send(-1)).toThrow(ValueError);
      expect(ch.length).toBe(0);
    } finally {
      ctx.region.unlink();
    }
  });

  it('carries unit messages (zero-byte slots: only the counters move)', () => {
    const { fields, ctx } = createFields([channel(unit, { capacity: 2 })] as const);
    try {
      const ch = fields[0];
      expect(ch.send(null)).toBe(true);
      expect(ch.send(null)).toBe(true);
      expect(ch.send(null)).toBe(false);
      expect(ch.tryRecv()).toBeNull();
      expect(ch.drain()).toEqual([null]);
      expect(ch.tryRecv()).toBeUndefined();
    } finally {
      ctx.region.unlink();
    }
  });

  it('latest: keeps only the newest value, and a new consumer does not get it twice', () => {
    const schema = channel(fixedString(32), { capacity: 1, latest: true });
    const owner = createFields([schema] as const);
    try {
      const ch = owner.fields[0];
      expect(ch.tryRecv()).toBeUndefined();
      for (const t of ['a', 'b', 'title']) expect(ch.send(t)).toBe(true);
      expect(ch.length).toBe(1);
      // A second consumer over the same memory (a new renderer) sees the same seqlock.
      const other = schema.bind(owner.ctx, owner.offsets[0]!);
      expect(other.tryRecv()).toBe('title');
      expect(ch.tryRecv()).toBeUndefined();
      expect(() => ch.send('x'.repeat(40))).toThrow();
      // The refused value left the slot consistent.
      ch.send('next');
      expect(ch.drain()).toEqual(['next']);
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('times out: recvSync returns undefined, recv rejects with TimeoutError, abort rejects', async () => {
    const { fields, ctx } = createFields([channel(u32, { capacity: 4 })] as const);
    try {
      const ch = fields[0];
      expect(ch.recvSync(5)).toBeUndefined();
      const timedOut = await ch.recv({ timeoutMs: 5 }).catch((e: unknown) => e);
      expect(timedOut).toBeInstanceOf(TimeoutError);
      expect(timedOut).toMatchObject({ code: 'HOTSHM_TIMEOUT', timeoutMs: 5 });
      const controller = new AbortController();
      const pending = ch.recv({ signal: controller.signal });
      controller.abort(new Error('stop'));
      await expect(pending).rejects.toThrow('stop');
      expect(() => ch.recvSync(-1)).toThrow(InvalidArgumentError);
      await expect(ch.recv({ timeoutMs: Number.NaN })).rejects.toThrow(InvalidArgumentError);
      // Nothing is left parked once nothing waits: the parker wakes its own sleep (the pool
      // thread's return can take a moment on a loaded machine, hence the loop, not a delay).
      expect(parkerStats().pending).toBe(0);
      while (parkerStats().parked) await new Promise((resolve) => setTimeout(resolve, 5));
      // A message that arrives while recv() waits resolves it.
      const later = ch.recv({ timeoutMs: 5_000 });
      setTimeout(() => ch.send(5), 5);
      await expect(later).resolves.toBe(5);
      // Async iteration.
      ch.send(6);
      ch.send(7);
      const seen: number[] = [];
      for await (const m of ch) {
        seen.push(m);
        if (seen.length === 2) break;
      }
      expect(seen).toEqual([6, 7]);
    } finally {
      ctx.region.unlink();
    }
  });

  it('throws RegionClosedError from every method once the region is closed', async () => {
    const { fields, ctx } = createFields([channel(u32, { capacity: 4 })] as const);
    const ch = fields[0];
    ctx.region.unlink();
    ctx.region.close();
    expect(() => ch.send(1)).toThrow(RegionClosedError);
    expect(() => ch.trySend(1)).toThrow(RegionClosedError);
    expect(() => ch.tryRecv()).toThrow(RegionClosedError);
    expect(() => ch.recvSync(1)).toThrow(RegionClosedError);
    expect(() => ch.drain()).toThrow(RegionClosedError);
    expect(() => ch.length).toThrow(RegionClosedError);
    await expect(ch.recv()).rejects.toThrow(RegionClosedError);
  });

  it('rejects indices out of range as CorruptRegionError (verify and at use)', () => {
    const schema = channel(u32, { capacity: 4 });
    const { fields, ctx, offsets } = createFields([schema] as const);
    try {
      const at = offsets[0]!;
      ctx.view.setUint32(at, 10, true); // writeIndex 10, readIndex 0: 10 queued in a ring of 4
      expect(() => schema.verify?.(ctx.view, at, 'events')).toThrow(CorruptRegionError);
      expect(() => fields[0].tryRecv()).toThrow(/expected at most 4 queued messages/);
    } finally {
      ctx.region.unlink();
    }
  });
});

describe('sync', () => {
  it('uses the futex module on Linux', () => {
    if (process.platform === 'linux') expect(syncBackendName()).toBe('linux-futex');
  });

  it('waitSync: not-equal, timed-out, bad timeout; wake skips the syscall with no waiter', async () => {
    const { ctx, scratch } = createFields(layouts.mixed);
    try {
      const word = sharedWord(ctx.buffer, ctx.address, scratch.byteOffset + 24);
      expect(waitSync(word, 1)).toBe('not-equal');
      expect(waitSync(word, 0, 2)).toBe('timed-out');
      expect(Atomics.load(word.i32, word.waiters)).toBe(0);
      expect(wake(word)).toBe(false);
      expect(() => waitSync(word, 0, -5)).toThrow(InvalidArgumentError);
      expect(await waitAsync(word, 1)).toBe('not-equal');
      expect(await waitAsync(word, 0, 2)).toBe('timed-out');
      const pending = waitAsync(word, 0, 5_000);
      setTimeout(() => {
        Atomics.store(word.i32, word.index, 1);
        // The parker counts itself while it sleeps, so this wake makes the syscall.
        expect(wake(word)).toBe(true);
      }, 5);
      expect(await pending).toBe('ok');
    } finally {
      ctx.region.unlink();
    }
  });

  it('polling backend: sleeps briefly, never reports a timeout, wake is a no-op', async () => {
    const polling = createPollingBackend(1);
    const word = sharedWord(new SharedArrayBuffer(64), 0n, 0);
    expect(polling.name).toBe('polling');
    Atomics.store(word.i32, 0, 1);
    polling.park(word, 0, 1_000); // value differs: returns at once
    polling.park(word, 1, 1); // value equal: a short sleep
    polling.wake(word, 1);
    const result = await new Promise<[Error | undefined, boolean]>((resolve) => {
      polling.parkAsync(word, 1, 1_000, (error, timedOut) => resolve([error, timedOut]));
    });
    expect(result).toEqual([undefined, false]);
  });

  it('polling backend: 2,000 ping-pongs between two processes that both poll', async () => {
    const { ctx } = createFields(layouts.mixed);
    try {
      const env = { HOTSHM_SYNC_BACKEND: 'polling' };
      const echo = spawnChild('channel-child.ts', ['word-pingpong', ctx.regionName, 2_000], env);
      const pinger = spawnChild('channel-child.ts', ['word-pinger', ctx.regionName, 2_000], env);
      expect(await pinger.result).toEqual({ rounds: 2_000, backend: 'polling' });
      expect(await echo.result).toEqual({ rounds: 2_000 });
    } finally {
      ctx.region.unlink();
    }
  });
});
