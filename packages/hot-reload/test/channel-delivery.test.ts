/**
 * `delivery: 'handled'` over a real region, with renderers of several epochs bound to it as
 * separate mappings (as separate processes would be): a message is committed only when its
 * consumer asks for the next one or acknowledges it; a newer renderer never takes what an older
 * one still holds; the owner gives back what a gone renderer held, one at a time after a crash,
 * and drops a message whose holders crashed twice.
 */
import { describe, expect, it } from 'vitest';
import { channel } from '../src/channel/index.js';
import {
  ChannelClosedError,
  InvalidArgumentError,
  SchemaError,
  ValueError,
} from '../src/errors.js';
import { HEADER_SIZE, HeaderSlot } from '../src/memory/header.js';
import { struct, u32 } from '../src/schema/index.js';
import type { Schema } from '../src/schema/types.js';
import { RegionContext } from '../src/state/context.js';
import { parkerStats } from '../src/sync/index.js';
import { type Bound, createFields, openFields } from './channel-context.js';

const Click = struct({ seq: u32 });
const handled = channel(Click, { capacity: 8, delivery: 'handled' });
const fields = [handled] as const;

/** Index of each consumer-line word, from the module comment of channel.ts. */
const Word = { read: 16, claimer: 17, claimEnd: 19, suspectEnd: 20, poisoned: 21 } as const;

interface World {
  readonly owner: Bound<typeof fields>;
  /** A renderer of `epoch`, over its own mapping of the region. */
  renderer(epoch: number): Bound<typeof fields>;
  /** What `reloadable()` (or the owner giving the floor back) does to the header's epoch word. */
  beginEpoch(epoch: number): void;
  retire(epoch: number): void;
  word(index: number): number;
  send(...seqs: number[]): void;
  close(): void;
}

function world(): World {
  const owner = createFields(fields);
  const header = new Int32Array(owner.ctx.buffer, 0, HEADER_SIZE / 4);
  const words = new Int32Array(owner.ctx.buffer, owner.offsets[0]!, 32);
  const opened: Bound<typeof fields>[] = [];
  return {
    owner,
    renderer(epoch) {
      const r = openFields(fields, owner.ctx.regionName, 'reloadable', epoch);
      opened.push(r);
      return r;
    },
    beginEpoch: (epoch) => Atomics.store(header, HeaderSlot.epoch, epoch),
    retire: (epoch) => Atomics.store(header, HeaderSlot.retired, epoch),
    word: (index) => Atomics.load(words, index) >>> 0,
    send(...seqs) {
      for (const seq of seqs) expect(owner.fields[0].send({ seq })).toBe(true);
    },
    close() {
      for (const r of opened) r.ctx.region.close();
      owner.ctx.region.unlink();
      owner.ctx.region.close();
    },
  };
}

const seqs = (ms: readonly { seq: number }[]): number[] => ms.map((m) => m.seq);

describe("channel(…, { delivery: 'handled' })", () => {
  it('is part of the signature; the layout is the same size; latest channels refuse it', () => {
    expect(handled.delivery).toBe('handled');
    expect(handled.signature).toBe(`channel<${Click.signature}>(capacity=8,delivery=handled)`);
    const taken = channel(Click, { capacity: 8 });
    expect(taken.delivery).toBe('taken');
    expect(taken.signature).toBe(`channel<${Click.signature}>(capacity=8)`);
    expect(channel(Click, { capacity: 8, delivery: 'taken' }).signature).toBe(taken.signature);
    expect(handled.size).toBe(taken.size);
    expect(() => channel(u32, { capacity: 4, delivery: 'once' as 'taken' })).toThrow(
      /delivery: expected 'taken' or 'handled', got "once"/,
    );
    expect(() => channel(u32, { capacity: 1, latest: true, delivery: 'handled' })).toThrow(
      SchemaError,
    );
  });
});

describe('handled delivery', () => {
  it('commits a message when the consumer asks for the next one or acknowledges it', () => {
    const w = world();
    try {
      const r1 = w.renderer(1).fields[0];
      w.beginEpoch(1);
      w.send(0, 1, 2);
      expect(r1.tryRecv()).toEqual({ seq: 0 });
      // Taken, not committed: still in its slot, claimed by epoch 1 (claimer holds epoch + 1).
      expect(w.word(Word.read)).toBe(0);
      expect(w.word(Word.claimer)).toBe(2);
      expect(w.word(Word.claimEnd)).toBe(1);
      expect(r1.length).toBe(3);
      expect(r1.tryRecv()).toEqual({ seq: 1 });
      expect(w.word(Word.read)).toBe(1);
      expect(r1.ack()).toBe(true);
      expect(w.word(Word.read)).toBe(2);
      // Nothing held now: the claim is gone and ack has nothing to commit.
      expect(w.word(Word.claimer)).toBe(0);
      expect(r1.ack()).toBe(false);
      expect(r1.tryRecv()).toEqual({ seq: 2 });
      expect(r1.tryRecv()).toBeUndefined();
      expect(w.word(Word.read)).toBe(3);
      expect(w.word(Word.claimer)).toBe(0);
    } finally {
      w.close();
    }
  });

  it('drain claims a batch that the next receive commits, or ack() one message at a time', () => {
    const w = world();
    try {
      const r1 = w.renderer(1).fields[0];
      w.send(0, 1, 2, 3);
      expect(seqs(r1.drain())).toEqual([0, 1, 2, 3]);
      expect(w.word(Word.read)).toBe(0);
      expect(r1.ack()).toBe(true);
      expect(r1.ack()).toBe(true);
      expect(w.word(Word.read)).toBe(2);
      w.send(4);
      expect(seqs(r1.drain())).toEqual([4]);
      expect(w.word(Word.read)).toBe(4);
      expect(r1.drain()).toEqual([]);
      expect(w.word(Word.read)).toBe(5);
    } finally {
      w.close();
    }
  });

  it('a newer renderer takes nothing an older one holds; it takes the rest once that one asks again', () => {
    const w = world();
    try {
      const r1 = w.renderer(1).fields[0];
      const r2 = w.renderer(2).fields[0];
      w.beginEpoch(1);
      w.send(0, 1, 2);
      expect(r1.tryRecv()).toEqual({ seq: 0 });
      // The hand-over: the new renderer has its state while the old one still handles message 0.
      w.beginEpoch(2);
      expect(r2.tryRecv()).toBeUndefined();
      expect(r2.drain()).toEqual([]);
      // The old one asks for more: message 0 is committed, and it takes nothing new.
      expect(r1.tryRecv()).toBeUndefined();
      expect(w.word(Word.read)).toBe(1);
      expect(seqs(r2.drain())).toEqual([1, 2]);
      // The new start fails: the owner gives the floor back to epoch 1 and releases epoch 2's
      // claim once its process is gone. Epoch 1 gets those messages again, in order.
      w.beginEpoch(1);
      expect(r1.tryRecv()).toBeUndefined();
      expect(w.owner.fields[0].releaseClaims(2, { crashed: false })).toEqual({ released: 2 });
      expect(seqs(r1.drain())).toEqual([1, 2]);
    } finally {
      w.close();
    }
  });

  it('a retired renderer commits what it handled when its loop asks for the next message', async () => {
    const w = world();
    try {
      const r1 = w.renderer(1).fields[0];
      w.send(0, 1);
      const seen: number[] = [];
      for await (const m of r1) {
        seen.push(m.seq);
        // Retired while handling message 0: the loop's next step commits it, then ends.
        if (m.seq === 0) w.retire(1);
      }
      expect(seen).toEqual([0]);
      expect(w.word(Word.read)).toBe(1);
      expect(w.word(Word.claimer)).toBe(0);
      expect(() => r1.tryRecv()).toThrow(ChannelClosedError);
      const r2 = w.renderer(2).fields[0];
      w.beginEpoch(2);
      expect(seqs(r2.drain())).toEqual([1]);
    } finally {
      w.close();
    }
  });

  it('gives back what a gone renderer held; after a crash one at a time; a second crash drops it as poison', () => {
    const w = world();
    try {
      const owner = w.owner.fields[0];
      w.send(0, 1, 2, 3);
      const r1 = w.renderer(1).fields[0];
      expect(seqs(r1.drain())).toEqual([0, 1, 2, 3]);
      expect(r1.ack()).toBe(true); // message 0 handled
      // Renderer 1 dies while handling message 1 (of 1, 2, 3, all taken).
      expect(owner.releaseClaims(1, { crashed: true })).toEqual({ released: 3 });
      expect(w.word(Word.claimer)).toBe(0);
      expect(w.word(Word.suspectEnd)).toBe(4);
      // Asked again for epoch 1, or for an epoch that holds nothing: nothing to do.
      expect(owner.releaseClaims(1, { crashed: true })).toEqual({ released: 0 });
      expect(owner.releaseClaims(7, { crashed: true })).toEqual({ released: 0 });

      // The suspects come one at a time, even to drain.
      const r2 = w.renderer(2).fields[0];
      expect(seqs(r2.drain())).toEqual([1]);
      expect(seqs(r2.drain())).toEqual([2]);
      // Message 2 crashes renderer 2 too: its holders crashed twice.
      const released = owner.releaseClaims(2, { crashed: true });
      expect(released.released).toBe(0);
      expect(released.poison).toMatchObject({ index: 2, message: { seq: 2 }, total: 1 });
      expect(released.poison?.report).toMatch(
        /^channel .*: message 2 \{"seq":2\} was being handled by two renderers that crashed; it was dropped \(1 dropped so far\)$/,
      );
      expect(w.word(Word.poisoned)).toBe(1);
      expect(w.word(Word.read)).toBe(3);

      const r3 = w.renderer(3).fields[0];
      expect(seqs(r3.drain())).toEqual([3]); // still a suspect: alone
      w.send(4, 5);
      expect(seqs(r3.drain())).toEqual([4, 5]); // past the suspects: batches again
      expect(r3.tryRecv()).toBeUndefined();
      expect(w.word(Word.read)).toBe(6);
    } finally {
      w.close();
    }
  });

  it('a renderer that exits without crashing gives its messages back with no strike against them', () => {
    const w = world();
    try {
      const owner = w.owner.fields[0];
      w.send(0);
      for (const epoch of [1, 2, 3]) {
        const r = w.renderer(epoch).fields[0];
        expect(seqs(r.drain())).toEqual([0]);
        expect(owner.releaseClaims(epoch, { crashed: false })).toEqual({ released: 1 });
      }
      expect(w.word(Word.poisoned)).toBe(0);
      // One crash makes it a suspect, not poison.
      expect(seqs(w.renderer(4).fields[0].drain())).toEqual([0]);
      expect(owner.releaseClaims(4, { crashed: true })).toEqual({ released: 1 });
      const r5 = w.renderer(5).fields[0];
      expect(seqs(r5.drain())).toEqual([0]);
      expect(r5.drain()).toEqual([]);
      expect(w.word(Word.read)).toBe(1);
    } finally {
      w.close();
    }
  });

  it('a renderer killed after it claimed and before it took anything held nothing', () => {
    const w = world();
    try {
      w.send(0, 1);
      // Renderer 1 exits holding both; the owner releases them (claimEnd back to readIndex).
      expect(seqs(w.renderer(1).fields[0].drain())).toEqual([0, 1]);
      expect(w.owner.fields[0].releaseClaims(1, { crashed: false })).toEqual({ released: 2 });
      expect(w.word(Word.claimEnd)).toBe(0);
      // What a renderer killed between its claim and its copies leaves: its claim alone.
      const words = new Int32Array(w.owner.ctx.buffer, w.owner.offsets[0]!, 32);
      Atomics.store(words, Word.claimer, 2 + 1);
      expect(w.owner.fields[0].releaseClaims(2, { crashed: true })).toEqual({ released: 0 });
      expect(w.word(Word.suspectEnd)).toBe(0);
      expect(seqs(w.renderer(3).fields[0].drain())).toEqual([0, 1]);
    } finally {
      w.close();
    }
  });

  it('a receive blocked by another renderer’s claim is woken by its release', async () => {
    const w = world();
    try {
      const r1 = w.renderer(1).fields[0];
      const r2 = w.renderer(2).fields[0];
      w.send(0, 1);
      expect(r1.tryRecv()).toEqual({ seq: 0 });
      // Let the parker of this process settle, then count the slices it sleeps out.
      while (parkerStats().parked) await new Promise((resolve) => setTimeout(resolve, 5));
      const timeouts = parkerStats().timeouts;
      const next = r2.recv({ spinMicros: 0 });
      // Renderer 1 dies holding message 0; the owner releases it.
      setTimeout(() => w.owner.fields[0].releaseClaims(1, { crashed: false }), 5);
      expect(await next).toEqual({ seq: 0 });
      // Woken by the release, not by its sleep running out and a second look.
      expect(parkerStats().timeouts).toBe(timeouts);
      const after = r2.recv({ spinMicros: 0 });
      expect(await after).toEqual({ seq: 1 });
    } finally {
      w.close();
    }
  });

  it('releaseClaims is the owner’s and checks its arguments; taken delivery has nothing to release', () => {
    const w = world();
    try {
      const owner = w.owner.fields[0];
      const r1 = w.renderer(1).fields[0];
      expect(() => r1.releaseClaims(1, { crashed: true })).toThrow(InvalidArgumentError);
      expect(() => r1.releaseClaims(1, { crashed: true })).toThrow(
        /the owner's, called in a renderer/,
      );
      expect(() => owner.releaseClaims(0, { crashed: true })).toThrow(
        /expected a renderer's epoch \(an integer ≥ 1\), got 0/,
      );
      expect(() => owner.releaseClaims(1.5, { crashed: true })).toThrow(InvalidArgumentError);
      expect(() => owner.releaseClaims(1, {} as { crashed: boolean })).toThrow(
        /expected options \{ crashed: boolean \}/,
      );
      const plain = createFields([channel(u32, { capacity: 4 })] as const);
      try {
        const ch = plain.fields[0];
        ch.send(1);
        expect(ch.tryRecv()).toBe(1);
        expect(ch.ack()).toBe(false);
        expect(ch.releaseClaims(1, { crashed: true })).toEqual({ released: 0 });
      } finally {
        plain.ctx.region.unlink();
        plain.ctx.region.close();
      }
    } finally {
      w.close();
    }
  });

  it('the owner empties a damaged ring under a claim; the holder drops what it held and goes on', () => {
    const Text = channel(struct({ seq: u32, ok: u32 }), { capacity: 4, delivery: 'handled' });
    const owner = createFields([Text] as const);
    const r1 = openFields([Text] as const, owner.ctx.regionName, 'reloadable', 1);
    try {
      owner.fields[0].send({ seq: 0, ok: 1 });
      owner.fields[0].send({ seq: 1, ok: 1 });
      expect(r1.fields[0].tryRecv()).toEqual({ seq: 0, ok: 1 });
      // Indices out of range (another process scribbled over the producer's line).
      owner.ctx.view.setUint32(owner.offsets[0]!, 99, true);
      expect(Text.repair?.(owner.ctx.view, owner.offsets[0]!, 'text', false)).toMatch(
        /the ring was emptied/,
      );
      // The holder's commit fails (readIndex moved under it): it drops what it held and goes on.
      expect(r1.fields[0].tryRecv()).toBeUndefined();
      owner.fields[0].send({ seq: 2, ok: 1 });
      expect(r1.fields[0].tryRecv()).toEqual({ seq: 2, ok: 1 });
    } finally {
      r1.ctx.region.close();
      owner.ctx.region.unlink();
      owner.ctx.region.close();
    }
  });
});

/** A u32 whose value 0xdead does not decode (as bytes another process scribbled on might not). */
const Strict: Schema<number, never> = {
  kind: 'strict',
  size: 4,
  align: 4,
  signature: 'strict',
  read(view, offset) {
    const v = view.getUint32(offset, true);
    if (v === 0xdead) throw new ValueError(`strict: expected anything but 0xdead, got ${v}`);
    return v;
  },
  write(view, offset, value) {
    view.setUint32(offset, value, true);
  },
  check() {},
  bind(): never {
    throw new Error('strict: no accessor');
  },
};

describe('handled delivery and the owner’s repairs', () => {
  it('an owner consuming a renderer’s handled ring drops a message that does not decode, under its claim, and reports it', () => {
    const schema = channel(Strict, { capacity: 8, delivery: 'handled' });
    const owner = createFields([schema] as const);
    const renderer = openFields([schema] as const, owner.ctx.regionName, 'reloadable', 1);
    const found: string[] = [];
    const ctx = new RegionContext(owner.ctx.region, 'owner', 0, undefined, (what) =>
      found.push(what),
    );
    const inbox = schema.bind(ctx, owner.offsets[0]!, 'inbox');
    try {
      for (const v of [1, 0xdead, 3, 0xdead]) renderer.fields[0].send(v);
      // The good ones before the bad one, then the bad one is dropped and the rest taken.
      expect(inbox.drain()).toEqual([1]);
      expect(inbox.drain()).toEqual([3]);
      expect(found).toEqual([
        'channel inbox: message 1 does not decode (strict: expected anything but 0xdead, got 57005); it was dropped',
      ]);
      expect(inbox.drain()).toEqual([]);
      expect(found).toHaveLength(2);
      expect(inbox.length).toBe(0);
    } finally {
      renderer.ctx.region.close();
      owner.ctx.region.unlink();
      owner.ctx.region.close();
    }
  });

  it('deep repair empties a ring whose held messages do not decode; the dead holder’s release then gives back nothing', () => {
    const schema = channel(Strict, { capacity: 8, delivery: 'handled' });
    const owner = createFields([schema] as const);
    const r1 = openFields([schema] as const, owner.ctx.regionName, 'reloadable', 1);
    const at = owner.offsets[0]!;
    const words = new Int32Array(owner.ctx.buffer, at, 32);
    try {
      for (const v of [1, 2, 3]) owner.fields[0].send(v);
      expect(r1.fields[0].drain()).toEqual([1, 2, 3]);
      // Renderer 1 dies; before the owner hears of it, message 3's bytes are overwritten.
      owner.ctx.view.setUint32(at + 128 + 2 * 4, 0xdead, true);
      expect(schema.repair?.(owner.ctx.view, at, 'inbox', true)).toBe(
        'inbox: queued message 2 does not decode (strict: expected anything but 0xdead, got 57005); the ring was emptied',
      );
      expect(owner.fields[0].releaseClaims(1, { crashed: true })).toEqual({ released: 0 });
      expect(Atomics.load(words, Word.claimer)).toBe(0);
      owner.fields[0].send(4);
      const r2 = openFields([schema] as const, owner.ctx.regionName, 'reloadable', 2);
      try {
        expect(r2.fields[0].drain()).toEqual([4]);
      } finally {
        r2.ctx.region.close();
      }
    } finally {
      r1.ctx.region.close();
      owner.ctx.region.unlink();
      owner.ctx.region.close();
    }
  });

  it('repair brings a suspect range left far behind (or scribbled on) back to readIndex, and verify ignores the claim words', () => {
    const w = world();
    try {
      const at = w.owner.offsets[0]!;
      const words = new Int32Array(w.owner.ctx.buffer, at, 32);
      w.send(0, 1);
      // A suspect end 2^31 messages away would make messages one-at-a-time (and a crash poison)
      // once readIndex wrapped round to it.
      Atomics.store(words, Word.suspectEnd, 2 ** 31);
      Atomics.store(words, Word.poisoned, -1);
      Atomics.store(words, Word.claimEnd, 12345);
      expect(() => handled.verify?.(w.owner.ctx.view, at, 'clicks')).not.toThrow();
      expect(handled.repair?.(w.owner.ctx.view, at, 'clicks', false)).toBeUndefined();
      expect(w.word(Word.suspectEnd)).toBe(0);
      // claimEnd means nothing without a claimer: the next take batches and claims as usual.
      expect(seqs(w.renderer(1).fields[0].drain())).toEqual([0, 1]);
      expect(w.word(Word.claimEnd)).toBe(2);
    } finally {
      w.close();
    }
  });
});
