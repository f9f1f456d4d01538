/**
 * The migration's rules, one by one, with the exact values (and, for same types, the exact bytes)
 * that land in the new region, and the report that says so.
 */
import { describe, expect, it } from 'vitest';
import { type Channel, channel } from '../channel/index.js';
import { type FrameBuffer, framebuffer } from '../frames/index.js';
import { HEADER_SIZE } from '../memory/header.js';
import type { Region } from '../memory/index.js';
import {
  array,
  bool,
  f32,
  f64,
  field,
  fixedString,
  fixedVec,
  i8,
  i16,
  i32,
  type Schema,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
} from '../schema/index.js';
import { RegionContext } from './context.js';
import { initFields, layoutState, type StateLayout } from './layout.js';
import { memoryRegion } from './memory-region.test-helper.js';
import { executeMigration, type MigrationReport, planMigration } from './migrate.js';

interface Side {
  readonly layout: StateLayout;
  readonly region: Region;
  readonly view: DataView;
  /** Reads field `name` as a plain value. */
  value(name: string): unknown;
  bind<T>(name: string, epoch?: number): T;
}

function side(fields: Record<string, Schema>, state = 'test'): Side {
  const layout = layoutState(state, fields, HEADER_SIZE);
  const region = memoryRegion(HEADER_SIZE + layout.dataSize + 64);
  const view = new DataView(region.buffer);
  initFields(layout, view);
  const at = (name: string) => layout.fields.find((f) => f.name === name)!;
  return {
    layout,
    region,
    view,
    value: (name) => at(name).schema.read(view, at(name).offset),
    bind: <T>(name: string, epoch = 1) =>
      at(name).schema.bind(new RegionContext(region, 'owner', epoch), at(name).offset, name) as T,
  };
}

function migrate(
  from: Side,
  toFields: Record<string, Schema>,
  epoch = 2,
): { to: Side; report: MigrationReport } {
  const to = side(toFields);
  const report = executeMigration(planMigration(from.layout, to.layout), from.region, to.region, {
    epoch,
  });
  return { to, report };
}

const bytesOf = (s: Side, name: string): number[] => {
  const f = s.layout.fields.find((x) => x.name === name)!;
  return [...new Uint8Array(s.region.buffer, f.offset, f.schema.size)];
};

describe('same type: copied byte for byte', () => {
  it('keeps every byte, a NaN payload and a bool stored as 2 included', () => {
    const S = struct({ f: f32, b: bool, n: u64, s: fixedString(6) });
    const from = side({ memory: S, other: u8 });
    const dv = from.view;
    const at = from.layout.fields[0]!.offset;
    dv.setUint32(at, 0x7fc00123, true); // a NaN with a payload
    dv.setUint8(at + 4, 2);
    dv.setBigUint64(at + 8, 2n ** 63n + 1n, true);
    S.fields.s.write(dv, at + 16, 'héllo');
    const { to, report } = migrate(from, { memory: S, added: u8 });
    expect(bytesOf(to, 'memory')).toEqual(bytesOf(from, 'memory'));
    expect(report.kept).toEqual(['memory']);
    expect(report.added).toEqual(['added']);
    expect(report.dropped).toEqual(['other']);
  });
});

describe('numbers', () => {
  const cases: Array<[string, Schema, Schema, number | bigint, number | bigint]> = [
    ['u8 → u16', u8, u16, 200, 200],
    ['i8 → i32', i8, i32, -100, -100],
    ['u32 → u64', u32, u64, 4294967295, 4294967295n],
    ['u32 → f64', u32, f64, 4294967295, 4294967295],
    ['f32 → f64', f32, f64, 0.1, Math.fround(0.1)],
    ['i16 → f32', i16, f32, -32768, -32768],
    ['u32 → u16 (fits)', u32, u16, 300, 300],
    ['f64 → f32 (exact)', f64, f32, 0.5, 0.5],
    ['u64 → f64 (exact)', u64, f64, 2n ** 40n, 2 ** 40],
    ['f64 → u8 (integral)', f64, u8, 3, 3],
    ['i32 → u32 (non-negative)', i32, u32, 7, 7],
  ];
  it.each(cases)('%s is converted', (_n, a, b, v, expected) => {
    const from = side({ x: a });
    from.bind<{ set(v: unknown): void }>('x').set(v);
    const { to, report } = migrate(from, { x: b });
    expect(to.value('x')).toBe(expected);
    expect(report.converted).toEqual([`x (${a.kind} → ${b.kind})`]);
    expect(report.reset).toEqual([]);
  });

  const narrowing: Array<[string, Schema, Schema, number | bigint, string]> = [
    ['u32 → u16', u32, u16, 70000, '70000 does not fit u16'],
    ['f64 → f32', f64, f32, 0.1, '0.1 does not fit f32'],
    ['i32 → u32', i32, u32, -1, '-1 does not fit u32'],
    ['u64 → f64', u64, f64, 2n ** 53n + 1n, '9007199254740993n does not fit f64'],
    ['f64 → i32', f64, i32, 2.5, '2.5 does not fit i32'],
    ['f64 → u8 (NaN)', f64, u8, Number.NaN, 'NaN does not fit u8'],
  ];
  it.each(narrowing)(
    '%s that does not hold the value exactly is reset and reported',
    (_n, a, b, v, why) => {
      const from = side({ x: a, y: a });
      from.bind<{ set(v: unknown): void }>('x').set(v);
      from.bind<{ set(v: unknown): void }>('y').set(v);
      const { to, report } = migrate(from, {
        x: b,
        y: field(b, { initial: (b === u64 ? 9n : 9) as never }),
      });
      expect(to.value('x')).toBe(b === u64 ? 0n : 0);
      // A reset field starts again at its initial value.
      expect(to.value('y')).toBe(9);
      expect(report.reset).toEqual([
        { path: 'x', why },
        { path: 'y', why },
      ]);
      expect(report.summary).toContain(`reset x (${why})`);
    },
  );

  it('bool and numbers do not convert: the field is reset, with the reason', () => {
    const from = side({ x: bool, y: u8 });
    from.bind<{ set(v: unknown): void }>('x').set(true);
    from.bind<{ set(v: unknown): void }>('y').set(1);
    const { to, report } = migrate(from, { x: u8, y: bool });
    expect([to.value('x'), to.value('y')]).toEqual([0, false]);
    expect(report.reset).toEqual([
      { path: 'x', why: 'it was bool and is now u8' },
      { path: 'y', why: 'it was u8 and is now bool' },
    ]);
  });
});

describe('strings, vecs, arrays and slices', () => {
  it('a fixedString is kept when it fits the new capacity, else reset', () => {
    const from = side({ a: fixedString(16), b: fixedString(16), c: fixedString(4) });
    from.bind<{ set(v: string): void }>('a').set('héllo');
    from.bind<{ set(v: string): void }>('b').set('hello world!');
    from.bind<{ set(v: string): void }>('c').set('abc');
    const { to, report } = migrate(from, {
      a: fixedString(6),
      b: field(fixedString(8), { initial: 'none' }),
      c: fixedString(64),
    });
    expect([to.value('a'), to.value('b'), to.value('c')]).toEqual(['héllo', 'none', 'abc']);
    expect(report.converted).toEqual([
      'a (fixedString(16) → fixedString(6))',
      'b (fixedString(16) → fixedString(8))',
      'c (fixedString(4) → fixedString(64))',
    ]);
    expect(report.reset).toEqual([{ path: 'b', why: '12 bytes do not fit fixedString(8)' }]);
  });

  it('a fixedVec keeps its first min(length, capacity) elements, each converted', () => {
    const from = side({ v: fixedVec(u16, 8), w: fixedVec(u16, 4) });
    from.bind<{ set(v: number[]): void }>('v').set([1, 2, 3, 4, 5]);
    from.bind<{ set(v: number[]): void }>('w').set([1, 300, 2]);
    const { to, report } = migrate(from, { v: fixedVec(u16, 3), w: fixedVec(u8, 4) });
    expect(to.value('v')).toEqual([1, 2, 3]);
    expect(to.value('w')).toEqual([1, 0, 2]);
    expect(report.reset).toEqual([
      { path: 'v[]', why: '2 of 5 elements do not fit fixedVec(…, 3)' },
      { path: 'w[]', why: '300 does not fit u8' },
    ]);
  });

  it('an array keeps the overlap; new elements start at their default', () => {
    const from = side({ a: array(u32, 4), b: array(u8, 2), c: array(struct({ x: u8 }), 1) });
    from.bind<{ set(v: unknown): void }>('a').set([1, 2, 3, 4]);
    from.bind<{ set(v: unknown): void }>('b').set([5, 6]);
    from.bind<{ set(v: unknown): void }>('c').set([{ x: 7 }]);
    const { to, report } = migrate(from, {
      a: array(u32, 2),
      b: array(u16, 4),
      c: array(struct({ x: u8, y: field(u8, { initial: 9 }) }), 2),
    });
    expect(to.value('a')).toEqual([1, 2]);
    expect(to.value('b')).toEqual([5, 6, 0, 0]);
    expect(to.value('c')).toEqual([
      { x: 7, y: 9 },
      { x: 0, y: 9 },
    ]);
    expect(report.reset).toEqual([]);
  });

  it('a slice keeps the overlap, element by element when the element type changes', () => {
    const from = side({ p: slice(u32, 4), q: slice(u16, 3) });
    from.bind<Uint32Array>('p').set([1, 2, 3, 4]);
    from.bind<Uint16Array>('q').set([1, 300, 2]);
    const { to, report } = migrate(from, { p: slice(u32, 2), q: slice(u8, 4) });
    expect([...(to.value('p') as Uint32Array)]).toEqual([1, 2]);
    expect([...(to.value('q') as Uint8Array)]).toEqual([1, 0, 2, 0]);
    expect(report.reset).toEqual([{ path: 'q[]', why: '300 does not fit u8' }]);
  });
});

describe('structs, renames, added and removed fields', () => {
  it('carries nested structs member by member, by name and rename hint', () => {
    const from = side({
      memory: struct({ clicks: u32, colour: u32, inner: struct({ a: u8, b: u8 }), gone: u8 }),
      title: fixedString(8),
      old: u8,
    });
    from.bind<{ set(v: unknown): void }>('memory').set({
      clicks: 5,
      colour: 0xff00ff00,
      inner: { a: 1, b: 2 },
      gone: 3,
    });
    from.bind<{ set(v: string): void }>('title').set('hi');
    const { to, report } = migrate(from, {
      memory: struct({
        taps: field(u64, { renamedFrom: 'clicks' }),
        colour: u32,
        inner: struct({ a: u8, c: field(u8, { initial: 7 }) }),
        score: field(u32, { initial: 100 }),
      }),
      caption: field(fixedString(8), { renamedFrom: ['heading', 'title'] }),
    });
    expect(to.value('memory')).toEqual({
      taps: 5n,
      colour: 0xff00ff00,
      inner: { a: 1, c: 7 },
      score: 100,
    });
    expect(to.value('caption')).toBe('hi');
    expect(report).toMatchObject({
      kept: ['memory.colour', 'memory.inner.a', 'caption'],
      converted: ['memory.taps (u32 → u64)'],
      added: ['memory.inner.c', 'memory.score'],
      dropped: ['memory.inner.b', 'memory.gone', 'old'],
      renamed: [
        { from: 'memory.clicks', to: 'memory.taps' },
        { from: 'title', to: 'caption' },
      ],
      reset: [],
    });
    expect(report.summary).toMatch(
      /^kept memory\.colour, memory\.inner\.a, caption; converted memory\.taps \(u32 → u64\); renamed memory\.clicks → memory\.taps, title → caption; added memory\.inner\.c, memory\.score; dropped memory\.inner\.b, memory\.gone, old \(carried in \d+\.\d ms\)$/,
    );
  });

  it('a field whose type changed to an unrelated one is reset, with the reason', () => {
    const from = side({ x: u32, y: struct({ a: u8 }) });
    from.bind<{ set(v: number): void }>('x').set(5);
    const { to, report } = migrate(from, { x: fixedString(4), y: array(u8, 1) });
    expect([to.value('x'), to.value('y')]).toEqual(['', [0]]);
    expect(report.reset).toEqual([
      { path: 'x', why: 'it was u32 and is now fixedString(4)' },
      { path: 'y', why: 'it was a struct and is now array(u8, 1)' },
    ]);
  });
});

describe('channels', () => {
  const Msg = struct({ kind: u8, x: i32 });

  it('carries pending messages in order, claimed from the old ring so nobody takes them again', () => {
    const from = side({ input: channel(Msg, { capacity: 8 }) });
    const old = from.bind<Channel<{ kind: number; x: number }>>('input');
    for (let i = 0; i < 5; i++) old.trySend({ kind: 1, x: i });
    old.tryRecv(); // the renderer took one
    const { to, report } = migrate(from, { input: channel(Msg, { capacity: 8 }) });
    expect(old.length).toBe(0);
    expect(old.tryRecv()).toBeUndefined();
    const next = to.bind<Channel<{ kind: number; x: number }>>('input');
    expect(next.drain().map((m) => m.x)).toEqual([1, 2, 3, 4]);
    expect(report.channels).toEqual([{ path: 'input', carried: 4, dropped: 0 }]);
    expect(report.kept).toEqual(['input']);
    expect(report.summary).toContain('kept input (4 messages)');
  });

  it('converts messages whose type migrates; drops and counts them when it does not', () => {
    const from = side({
      a: channel(Msg, { capacity: 4 }),
      b: channel(Msg, { capacity: 4 }),
    });
    const a = from.bind<Channel<{ kind: number; x: number }>>('a');
    const b = from.bind<Channel<{ kind: number; x: number }>>('b');
    a.trySend({ kind: 1, x: -5 });
    a.trySend({ kind: 2, x: 70000 });
    b.trySend({ kind: 1, x: 1 });
    const { to, report } = migrate(from, {
      a: channel(struct({ kind: u8, x: i16, y: field(u8, { initial: 3 }) }), { capacity: 4 }),
      b: channel(fixedString(4), { capacity: 4 }),
    });
    expect(to.bind<Channel<unknown>>('a').drain()).toEqual([
      { kind: 1, x: -5, y: 3 },
      { kind: 2, x: 0, y: 3 },
    ]);
    expect(to.bind<Channel<unknown>>('b').length).toBe(0);
    expect(report.channels).toEqual([
      { path: 'a', carried: 2, dropped: 0 },
      { path: 'b', carried: 0, dropped: 1, why: 'it was a struct and is now fixedString(4)' },
    ]);
    expect(report.droppedMessages).toBe(1);
    expect(report.reset).toEqual([{ path: 'a[].x', why: '70000 does not fit i16' }]);
  });

  it('a smaller ring keeps the oldest messages; the rest are dropped and counted', () => {
    const from = side({ c: channel(u32, { capacity: 8 }) });
    const c = from.bind<Channel<number>>('c');
    for (let i = 0; i < 6; i++) c.trySend(i);
    const { to, report } = migrate(from, { c: channel(u32, { capacity: 2 }) });
    expect(to.bind<Channel<number>>('c').drain()).toEqual([0, 1]);
    expect(report.channels).toEqual([
      { path: 'c', carried: 2, dropped: 4, why: 'the new ring holds 2 messages' },
    ]);
    expect(report.converted).toEqual(['c (channel(u32, 8) → channel(u32, 2))']);
  });

  it.each([false, true])(
    'a handled ring: what a gone renderer held and did not commit is carried again, in order (crashed: %s)',
    (crashed) => {
      const from = side({ c: channel(u32, { capacity: 8, delivery: 'handled' }) });
      const owner = from.bind<Channel<number>>('c');
      for (let i = 0; i < 5; i++) owner.trySend(i);
      const f = from.layout.fields[0]!;
      const renderer = f.schema.bind(
        new RegionContext(from.region, 'reloadable', 1),
        f.offset,
        'c',
      ) as Channel<number>;
      expect(renderer.drain()).toEqual([0, 1, 2, 3, 4]);
      renderer.ack(); // 0 handled; 1..4 taken, not committed when it stopped
      expect(owner.releaseClaims(1, { crashed })).toEqual({ released: 4 });
      const { to, report } = migrate(from, {
        c: channel(u32, { capacity: 8, delivery: 'handled' }),
      });
      // Messages a crashed renderer held stay suspects in the new ring: one per receive there.
      const next = to.bind<Channel<number>>('c');
      const got: number[] = [];
      for (let batch = next.drain(); batch.length > 0; batch = next.drain()) got.push(...batch);
      expect(got).toEqual([1, 2, 3, 4]);
      // The old ring gave them up: migrating it again carries nothing.
      const again = migrate(from, { c: channel(u32, { capacity: 8, delivery: 'handled' }) });
      expect(again.report.channels).toEqual([{ path: 'c', carried: 0, dropped: 0 }]);
      expect(report.channels).toEqual([{ path: 'c', carried: 4, dropped: 0 }]);
    },
  );

  it('a latest channel carries its unseen value, and only that', () => {
    const from = side({
      seen: channel(fixedString(8), { capacity: 1, latest: true }),
      unseen: channel(fixedString(8), { capacity: 1, latest: true }),
      ring: channel(u8, { capacity: 4 }),
    });
    from.bind<Channel<string>>('seen').trySend('old');
    from.bind<Channel<string>>('seen').tryRecv();
    from.bind<Channel<string>>('unseen').trySend('a');
    from.bind<Channel<string>>('unseen').trySend('b');
    for (const v of [1, 2, 3]) from.bind<Channel<number>>('ring').trySend(v);
    const { to } = migrate(from, {
      seen: channel(fixedString(8), { capacity: 1, latest: true }),
      unseen: channel(fixedString(8), { capacity: 1, latest: true }),
      ring: channel(u8, { capacity: 1, latest: true }),
    });
    expect(to.bind<Channel<string>>('seen').tryRecv()).toBeUndefined();
    expect(to.bind<Channel<string>>('unseen').drain()).toEqual(['b']);
    // A ring that became a latest channel keeps its newest message.
    expect(to.bind<Channel<number>>('ring').drain()).toEqual([3]);
  });
});

describe('framebuffers', () => {
  const draw = (fb: FrameBuffer, colour: (x: number, y: number) => number): void => {
    const px = fb.back();
    for (let y = 0; y < fb.height; y++) {
      for (let x = 0; x < fb.width; x++) px[y * fb.width + x] = colour(x, y);
    }
    fb.present();
  };

  it('shows the old front frame as the new epoch front, with the frame count', () => {
    const from = side({ fb: framebuffer(4, 3) });
    const fb = from.bind<FrameBuffer>('fb');
    draw(fb, () => 0xff000001);
    draw(fb, (x, y) => 0xff000000 | (y * 16 + x));
    const { to, report } = migrate(from, { fb: framebuffer(4, 3) }, 7);
    const next = to.bind<FrameBuffer>('fb');
    const front = next.acquireFront()!;
    expect([...front.pixels]).toEqual([...fb.acquireFront()!.pixels]);
    expect(front.epoch).toBe(7);
    expect(front.frame).toBe(2);
    expect(next.frameCount()).toBe(2);
    expect(next.epoch).toBe(7);
    next.releaseFront();
    expect(report.kept).toEqual(['fb']);
    // The new epoch's renderer draws into its own pair, next to the carried front.
    draw(to.bind<FrameBuffer>('fb', 7), () => 0xff00ff00);
    expect(next.acquireFront()!.pixels[0]).toBe(0xff00ff00);
  });

  it('on a new size copies the overlapping rectangle (the top-left corner)', () => {
    const from = side({ fb: framebuffer(4, 3) });
    draw(from.bind<FrameBuffer>('fb'), (x, y) => 0xff000000 | (y * 16 + x));
    const { to, report } = migrate(from, { fb: framebuffer(2, 4) });
    const px = to.bind<FrameBuffer>('fb').acquireFront()!.pixels;
    const o = (v: number): number => (0xff000000 | v) >>> 0;
    expect([...px]).toEqual([o(0x00), o(0x01), o(0x10), o(0x11), o(0x20), o(0x21), 0, 0]);
    expect(report.converted).toEqual(['fb (framebuffer(4×3) → framebuffer(2×4))']);
  });

  it('without a frame yet, the new one has none either, and the new epoch may present', () => {
    const from = side({ fb: framebuffer(2, 2) });
    const { to } = migrate(from, { fb: framebuffer(2, 2), added: framebuffer(1, 1) }, 3);
    expect(to.bind<FrameBuffer>('fb').acquireFront()).toBeNull();
    expect(to.bind<FrameBuffer>('fb').epoch).toBe(3);
    expect(to.bind<FrameBuffer>('added').epoch).toBe(3);
  });
});
