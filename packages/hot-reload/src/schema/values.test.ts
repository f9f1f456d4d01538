/**
 * Values: every primitive round-trips at its limits through `write`/`read` and through its cell,
 * out-of-range writes throw ValueError naming the path (never wrap), strings and vecs enforce
 * capacity or truncate at a code-point boundary, and every accessor throws RegionClosedError once
 * its region is closed.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CapacityError, CorruptRegionError, RegionClosedError, ValueError } from '../errors.js';
import {
  type Access,
  type ArrayAccess,
  array,
  bool,
  type Cell,
  f32,
  f64,
  fixedString,
  fixedVec,
  type Infer,
  i8,
  i16,
  i32,
  i64,
  type Schema,
  type StringAccess,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
  type VecAccess,
} from './index.js';
import { TestContext } from './test-context.js';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw, got none');
}

/** Writes through `write`, reads through `read` and through a cell at the same place. */
function roundTrip<T>(s: Schema<T, Cell<T>>, value: T): { viaView: T; viaCell: T } {
  const ctx = new TestContext(64);
  s.write(ctx.view, 8, value);
  const viaView = s.read(ctx.view, 8);
  const ctx2 = new TestContext(64);
  const cell = s.bind(ctx2, 16);
  cell.set(value);
  return { viaView, viaCell: cell.get() };
}

describe('primitive round-trips at the limits', () => {
  const cases: Array<[string, Schema<never, Cell<never>>, unknown[]]> = [
    ['u8', u8 as never, [0, 1, 127, 128, 255]],
    ['i8', i8 as never, [-128, -1, 0, 127]],
    ['u16', u16 as never, [0, 0x8000, 0xffff]],
    ['i16', i16 as never, [-32768, -1, 32767]],
    ['u32', u32 as never, [0, 0x80000000, 0xffffffff]],
    ['i32', i32 as never, [-2147483648, -1, 0, 2147483647]],
    ['u64', u64 as never, [0n, 1n, 2n ** 63n, 2n ** 64n - 1n]],
    ['i64', i64 as never, [-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n]],
    [
      'f32',
      f32 as never,
      [0, -0, Number.NaN, Infinity, -Infinity, 1.5, Math.fround(3.4028234663852886e38), 2 ** -149],
    ],
    [
      'f64',
      f64 as never,
      [0, -0, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, -Math.PI],
    ],
    ['bool', bool as never, [true, false]],
    ['unit', unit as never, [null]],
  ];
  it.each(cases)('%s', (_name, s, values) => {
    for (const v of values) {
      const { viaView, viaCell } = roundTrip(s, v as never);
      // Object.is: NaN equals NaN and -0 differs from 0.
      expect(Object.is(viaView, v), `${String(v)} via view`).toBe(true);
      expect(Object.is(viaCell, v), `${String(v)} via cell`).toBe(true);
    }
  });

  it('stores little-endian bytes, the same through cells and DataView', () => {
    const ctx = new TestContext(16);
    u32.bind(ctx, 0).set(0x01020304);
    u64.bind(ctx, 8).set(0x0102030405060708n);
    expect([...new Uint8Array(ctx.buffer, 0, 4)]).toEqual([4, 3, 2, 1]);
    expect([...new Uint8Array(ctx.buffer, 8, 8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
  });

  it('rounds f32 and keeps the nearest float', () => {
    const { viaView, viaCell } = roundTrip(f32, 0.1);
    expect(viaView).toBe(Math.fround(0.1));
    expect(viaCell).toBe(Math.fround(0.1));
  });

  it('works at an unaligned offset through the DataView fallback', () => {
    const ctx = new TestContext(16);
    const cell = u32.bind(ctx, 3);
    cell.set(0xdeadbeef);
    expect(cell.get()).toBe(0xdeadbeef);
    expect(ctx.view.getUint32(3, true)).toBe(0xdeadbeef);
    expect(() => cell.set(-1)).toThrow(ValueError);
  });
});

describe('out-of-range values throw, never wrap', () => {
  const bad: Array<[string, Schema<never, Cell<never>>, unknown, string]> = [
    ['u8 300', u8 as never, 300, 'expected an integer in [0, 255], got 300'],
    ['u8 -1', u8 as never, -1, 'expected an integer in [0, 255], got -1'],
    ['u8 1.5', u8 as never, 1.5, 'got 1.5'],
    ['u8 NaN', u8 as never, Number.NaN, 'got NaN'],
    ['u8 "1"', u8 as never, '1', 'got "1"'],
    ['i8 128', i8 as never, 128, 'expected an integer in [-128, 127], got 128'],
    ['u16 65536', u16 as never, 65536, 'expected an integer in [0, 65535], got 65536'],
    ['i16 -32769', i16 as never, -32769, 'got -32769'],
    ['u32 2**32', u32 as never, 2 ** 32, 'expected an integer in [0, 4294967295], got 4294967296'],
    ['u32 -1', u32 as never, -1, 'got -1'],
    ['u32 Infinity', u32 as never, Infinity, 'got Infinity'],
    ['u32 1n', u32 as never, 1n, 'got 1n'],
    [
      'i32 2**31',
      i32 as never,
      2 ** 31,
      'expected an integer in [-2147483648, 2147483647], got 2147483648',
    ],
    [
      'u64 2**64',
      u64 as never,
      2n ** 64n,
      'expected a bigint in [0, 18446744073709551615], got 18446744073709551616n',
    ],
    ['u64 -1n', u64 as never, -1n, 'got -1n'],
    ['u64 number', u64 as never, 5, 'got 5'],
    [
      'i64 2**63',
      i64 as never,
      2n ** 63n,
      'expected a bigint in [-9223372036854775808, 9223372036854775807]',
    ],
    ['f32 1e39', f32 as never, 1e39, 'expected a number within the f32 range'],
    ['f32 string', f32 as never, 'x', 'got "x"'],
    ['f64 null', f64 as never, null, 'expected a number, got null'],
    ['bool 1', bool as never, 1, 'expected a boolean, got 1'],
    ['unit undefined', unit as never, undefined, 'expected null, got undefined'],
  ];

  it.each(bad)('%s', (_name, s, value, message) => {
    const ctx = new TestContext(32);
    ctx.view.setUint32(8, 0x5a5a5a5a);
    const before = new Uint8Array(ctx.buffer).slice();
    // check, write and the cell all refuse, with the path in the message, and touch nothing.
    const e1 = thrown(() => s.check(value, 'state.pos.x'));
    expect(e1).toBeInstanceOf(ValueError);
    expect(e1.message).toBe(`state.pos.x: ${e1.message.slice('state.pos.x: '.length)}`);
    expect(e1.message).toContain(message);
    expect(thrown(() => s.write(ctx.view, 8, value as never))).toBeInstanceOf(ValueError);
    // Our schemas take the path as an optional third argument of bind.
    const cell = (s.bind as (c: TestContext, o: number, p: string) => Cell<never>)(
      ctx,
      8,
      'state.pos.x',
    );
    const e2 = thrown(() => cell.set(value as never));
    expect(e2).toBeInstanceOf(ValueError);
    expect(e2.message).toContain(`state.pos.x: expected`);
    expect(new Uint8Array(ctx.buffer)).toEqual(before);
  });

  it('names nested paths', () => {
    const S = struct({ pos: struct({ x: u8, y: u8 }), list: array(u8, 2) });
    const ctx = new TestContext(S.size);
    const s = S.bind(ctx, 0, 'state');
    expect(thrown(() => s.pos.x.set(300)).message).toBe(
      'state.pos.x: expected an integer in [0, 255], got 300',
    );
    expect(thrown(() => s.list.at(1).set(-1)).message).toBe(
      'state.list[1]: expected an integer in [0, 255], got -1',
    );
    expect(thrown(() => S.check({ pos: { x: 1, y: 256 }, list: [0, 0] }, 'state')).message).toBe(
      'state.pos.y: expected an integer in [0, 255], got 256',
    );
    expect(thrown(() => s.set({ pos: { x: 1 }, list: [0, 0] } as never)).message).toBe(
      'state.pos.y: expected an integer in [0, 255], got undefined',
    );
    expect(thrown(() => s.set({ pos: { x: 1, y: 2, z: 3 }, list: [0, 0] } as never)).message).toBe(
      'state.pos: expected only the fields x, y, got an extra field "z"',
    );
    expect(thrown(() => s.set({ pos: 5, list: [0, 0] } as never)).message).toBe(
      'state.pos: expected an object with the fields x, y, got 5',
    );
    expect(thrown(() => s.list.set([1, 2, 3])).message).toBe(
      'state.list: expected an array of length 2, got an array of length 3',
    );
    expect(thrown(() => s.list.at(2)).message).toBe(
      'state.list: expected an index in [0, 1], got 2',
    );
    expect(thrown(() => s.list.at(2)).message).toBe(
      'state.list: expected an index in [0, 1], got 2',
    );
  });

  it('leaves a struct untouched when one field is bad', () => {
    const S = struct({ a: u32, b: u8, c: fixedString(4) });
    const ctx = new TestContext(S.size);
    const s = S.bind(ctx, 0);
    s.set({ a: 1, b: 2, c: 'ok' });
    expect(() => s.set({ a: 7, b: 999, c: 'x' })).toThrow(ValueError);
    expect(() => s.set({ a: 7, b: 9, c: 'too long' })).toThrow(CapacityError);
    expect(s.get()).toEqual({ a: 1, b: 2, c: 'ok' });
  });
});

describe('fixedString', () => {
  it('round-trips multi-byte UTF-8 and reports its byte length', () => {
    const S = fixedString(16);
    const ctx = new TestContext(S.size);
    const s = S.bind(ctx, 0);
    expect(s.capacity).toBe(16);
    s.set('héllo 😀');
    expect(s.get()).toBe('héllo 😀');
    expect(s.byteLength).toBe(11);
    s.set('');
    expect([s.get(), s.byteLength]).toEqual(['', 0]);
    s.set('😀😀😀😀'); // exactly 16 bytes
    expect(s.get()).toBe('😀😀😀😀');
  });

  it('throws CapacityError over capacity', () => {
    const S = fixedString(64);
    const ctx = new TestContext(S.size);
    const s = S.bind(ctx, 0, 'state.title');
    s.set('keep');
    const e = thrown(() => s.set('x'.repeat(71)));
    expect(e).toBeInstanceOf(CapacityError);
    expect(e.message).toBe('state.title: expected at most 64 bytes, got 71');
    expect((e as CapacityError).capacity).toBe(64);
    expect((e as CapacityError).given).toBe(71);
    expect(s.get()).toBe('keep');
    expect(thrown(() => S.check('é'.repeat(33), 'v')).message).toBe(
      'v: expected at most 64 bytes, got 66',
    );
  });

  it('truncates at a code-point boundary, never inside one', () => {
    const S = fixedString(6);
    const ctx = new TestContext(S.size);
    const s = S.bind(ctx, 0);
    s.set('ab😀cd', { truncate: true }); // a b [4 bytes] = 6
    expect(s.get()).toBe('ab😀');
    s.set('abc😀', { truncate: true }); // the emoji would need bytes 3..6: dropped whole
    expect([s.get(), s.byteLength]).toEqual(['abc', 3]);
    s.set('ééé€', { truncate: true }); // 2+2+2 = 6, € (3 bytes) dropped
    expect(s.get()).toBe('ééé');
    s.set('aéééé', { truncate: true }); // 1+2+2 = 5, the next é would end at 7
    expect([s.get(), s.byteLength]).toEqual(['aéé', 5]);
    S.write(ctx.view, 0, '😀😀', { truncate: true });
    expect(S.read(ctx.view, 0)).toBe('😀');
  });

  it('rejects non-strings and lone surrogates', () => {
    const S = fixedString(8);
    expect(thrown(() => S.check(5, 'p')).message).toBe('p: expected a string, got 5');
    expect(thrown(() => S.check('a\uD800b', 'p')).message).toBe(
      'p: expected a well-formed string, got one with a lone UTF-16 surrogate at index 1',
    );
  });

  it('verify reports a stored length over capacity, and read stays in bounds', () => {
    const S = fixedString(4);
    const ctx = new TestContext(16);
    ctx.view.setUint32(0, 99, true);
    new Uint8Array(ctx.buffer, 4, 4).set([65, 66, 67, 68]);
    expect(S.read(ctx.view, 0)).toBe('ABCD');
    expect(() => S.verify(ctx.view, 0, 'state.name')).toThrow(CorruptRegionError);
    expect(thrown(() => S.verify(ctx.view, 0, 'state.name')).message).toBe(
      'state.name: expected a string length of at most 4 bytes, got 99',
    );
  });
});

describe('fixedVec', () => {
  const P = struct({ x: i16, y: i16 });

  it('pushes, pops, iterates, and clears', () => {
    const V = fixedVec(P, 3);
    const ctx = new TestContext(V.size);
    const v = V.bind(ctx, 0, 'state.trail');
    expect([v.length, v.capacity]).toEqual([0, 3]);
    v.push({ x: 1, y: -1 });
    v.push({ x: 2, y: -2 });
    expect(v.length).toBe(2);
    expect(v.at(1)).toEqual({ x: 2, y: -2 });
    expect([...v]).toEqual([
      { x: 1, y: -1 },
      { x: 2, y: -2 },
    ]);
    v.setAt(0, { x: 9, y: 9 });
    expect(v.toArray()).toEqual([
      { x: 9, y: 9 },
      { x: 2, y: -2 },
    ]);
    expect(v.pop()).toEqual({ x: 2, y: -2 });
    expect(v.get()).toEqual([{ x: 9, y: 9 }]);
    v.clear();
    expect([v.length, v.pop(), v.toArray()]).toEqual([0, undefined, []]);
  });

  it('throws CapacityError in elements when full, and names the index when out of range', () => {
    const V = fixedVec(u8, 2);
    const ctx = new TestContext(V.size);
    const v = V.bind(ctx, 0, 'state.keys');
    v.push(1);
    v.push(2);
    const e = thrown(() => v.push(3));
    expect(e).toBeInstanceOf(CapacityError);
    expect(e.message).toBe('state.keys: expected at most 2 elements, got 3');
    expect(v.toArray()).toEqual([1, 2]);
    v.pop();
    expect(thrown(() => v.at(1)).message).toBe('state.keys: expected an index in [0, 0], got 1');
    expect(thrown(() => v.at(-1))).toBeInstanceOf(ValueError);
    v.clear();
    expect(thrown(() => v.at(0)).message).toBe('state.keys: expected none: it is empty, got 0');
    expect(thrown(() => v.push(256)).message).toBe(
      'state.keys[0]: expected an integer in [0, 255], got 256',
    );
    expect(v.length).toBe(0);
  });

  it('set enforces capacity or truncates at capacity', () => {
    const V = fixedVec(fixedString(4), 2);
    const ctx = new TestContext(V.size);
    const v = V.bind(ctx, 0, 'v');
    expect(thrown(() => v.set(['a', 'b', 'c'])).message).toBe(
      'v: expected at most 2 elements, got 3',
    );
    v.set(['a', 'b', 'c'], { truncate: true });
    expect(v.toArray()).toEqual(['a', 'b']);
    // truncation reaches nested strings too
    v.set(['abcdef', '😀x'], { truncate: true });
    expect(v.toArray()).toEqual(['abcd', '😀']);
    expect(thrown(() => v.set(['abcdef'])).message).toBe('v[0]: expected at most 4 bytes, got 6');
  });

  it('verify reports a stored length over capacity', () => {
    const V = fixedVec(u32, 2);
    const ctx = new TestContext(V.size);
    ctx.view.setUint32(0, 3, true);
    expect(V.bind(ctx, 0).length).toBe(2); // clamped
    expect(thrown(() => V.verify(ctx.view, 0, 'q')).message).toBe(
      'q: expected a vec length of at most 2 elements, got 3',
    );
  });
});

describe('slice', () => {
  it('binds a zero-copy typed array over the shared bytes', () => {
    const S = struct({ w: u16, px: slice(u32, 4) });
    const ctx = new TestContext(S.size);
    const s = S.bind(ctx, 0);
    expect(s.px).toBeInstanceOf(Uint32Array);
    expect(s.px.buffer).toBe(ctx.buffer);
    expect(s.px.byteOffset).toBe(4);
    s.px.set([1, 2, 3, 0xffffffff]);
    expect(ctx.view.getUint32(16, true)).toBe(0xffffffff);
    const copy = s.get().px;
    expect(copy).toEqual(new Uint32Array([1, 2, 3, 0xffffffff]));
    expect(copy.buffer).not.toBe(ctx.buffer);
    s.set({ w: 1, px: new Uint32Array([5, 6, 7, 8]) });
    expect([...s.px]).toEqual([5, 6, 7, 8]);
  });

  it('checks the typed array type and length', () => {
    const S = slice(f64, 2);
    expect(thrown(() => S.check(new Float32Array(2), 'p')).message).toBe(
      'p: expected a Float64Array of length 2, got a Float32Array of length 2',
    );
    expect(thrown(() => S.check([1, 2], 'p')).message).toBe(
      'p: expected a Float64Array of length 2, got an array of length 2',
    );
    expect(() => S.bind(new TestContext(32), 4)).toThrow(/multiple of 8/);
  });

  it('u64 and i64 slices are bigint arrays', () => {
    const S = slice(u64, 2);
    const ctx = new TestContext(S.size);
    const a = S.bind(ctx, 0);
    a[1] = 2n ** 64n - 1n;
    expect(S.read(ctx.view, 0)).toEqual(new BigUint64Array([0n, 2n ** 64n - 1n]));
  });
});

describe('closed regions', () => {
  const S = struct({
    n: u32,
    b: bool,
    big: i64,
    z: unit,
    name: fixedString(8),
    list: array(u8, 2),
    vec: fixedVec(u8, 2),
    px: slice(u32, 2),
  });

  it('every accessor method throws RegionClosedError after close', () => {
    const ctx = new TestContext(S.size, { regionName: '/hotshm-1-deadbeef' });
    const s = S.bind(ctx, 0, 'state');
    const el = s.list.at(0);
    s.px[0] = 7;
    ctx.closed = true;
    const calls: Array<[string, () => unknown]> = [
      ['n.get', () => s.n.get()],
      ['n.set', () => s.n.set(1)],
      ['b.get', () => s.b.get()],
      ['b.set', () => s.b.set(true)],
      ['big.get', () => s.big.get()],
      ['big.set', () => s.big.set(1n)],
      ['z.get', () => s.z.get()],
      ['z.set', () => s.z.set(null)],
      ['name.get', () => s.name.get()],
      ['name.set', () => s.name.set('a')],
      ['name.byteLength', () => s.name.byteLength],
      ['list.at', () => s.list.at(1)],
      ['list.get', () => s.list.get()],
      ['list.set', () => s.list.set([1, 2])],
      ['element get', () => el.get()],
      ['vec.length', () => s.vec.length],
      ['vec.at', () => s.vec.at(0)],
      ['vec.setAt', () => s.vec.setAt(0, 1)],
      ['vec.push', () => s.vec.push(1)],
      ['vec.pop', () => s.vec.pop()],
      ['vec.clear', () => s.vec.clear()],
      ['vec.set', () => s.vec.set([])],
      ['vec.toArray', () => s.vec.toArray()],
      ['vec iterate', () => [...s.vec]],
      ['struct get', () => s.get()],
      ['struct set', () => s.set(S.read(new TestContext(S.size).view, 0))],
      ['bind', () => S.bind(ctx, 0, 'state')],
    ];
    for (const [name, call] of calls) {
      const e = thrown(call);
      expect(e, name).toBeInstanceOf(RegionClosedError);
      expect(e.message, name).toMatch(/^region \/hotshm-1-deadbeef is closed: this field state/);
    }
    expect(thrown(() => s.n.get()).message).toBe(
      'region /hotshm-1-deadbeef is closed: this field state.n can no longer be used',
    );
    // The slice is a raw typed array: the memory layer makes it read zeros after close; here the
    // buffer is plain memory, so it still reads what was there. It does not throw.
    expect(s.px[0]).toBe(7);
  });
});

describe('types', () => {
  const S = struct({
    a: u8,
    big: u64,
    neg: i64,
    ok: bool,
    z: unit,
    pos: struct({ x: f32, y: f64 }),
    name: fixedString(8),
    list: array(i16, 3),
    vec: fixedVec(struct({ id: u32 }), 4),
    px: slice(u32, 4),
    bytes: slice(u8, 4),
    samples: slice(f32, 4),
    wide: slice(i64, 2),
  });

  it('Infer gives the plain value type', () => {
    expectTypeOf<Infer<typeof S>>().toEqualTypeOf<{
      a: number;
      big: bigint;
      neg: bigint;
      ok: boolean;
      z: null;
      pos: { x: number; y: number };
      name: string;
      list: number[];
      vec: { id: number }[];
      px: Uint32Array;
      bytes: Uint8Array;
      samples: Float32Array;
      wide: BigInt64Array;
    }>();
    expectTypeOf<Infer<typeof u64>>().toEqualTypeOf<bigint>();
    expectTypeOf<Infer<typeof unit>>().toEqualTypeOf<null>();
  });

  it('Access gives precise accessors', () => {
    type A = Access<typeof S>;
    expectTypeOf<A['a']>().toEqualTypeOf<Cell<number>>();
    expectTypeOf<A['big']>().toEqualTypeOf<Cell<bigint>>();
    expectTypeOf<A['ok']>().toEqualTypeOf<Cell<boolean>>();
    expectTypeOf<A['pos']['x']>().toEqualTypeOf<Cell<number>>();
    expectTypeOf<A['pos']['get']>().returns.toEqualTypeOf<{ x: number; y: number }>();
    expectTypeOf<A['name']>().toEqualTypeOf<StringAccess>();
    expectTypeOf<A['list']>().toEqualTypeOf<ArrayAccess<number, Cell<number>>>();
    expectTypeOf<A['vec']>().toEqualTypeOf<VecAccess<{ id: number }>>();
    expectTypeOf<A['px']>().toEqualTypeOf<Uint32Array>();
    expectTypeOf<A['get']>().returns.toEqualTypeOf<Infer<typeof S>>();
    expectTypeOf<Access<typeof u32>>().toEqualTypeOf<Cell<number>>();
  });
});
