/**
 * Layouts: exact sizes, alignments and offsets, checked against koffi's C layout of the same
 * types; signatures and fingerprints; factory argument errors.
 */
import { createHash } from 'node:crypto';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { SchemaError } from '../errors.js';
import {
  array,
  bool,
  f32,
  f64,
  fingerprint,
  fingerprintHex,
  fixedString,
  fixedVec,
  i8,
  i16,
  i32,
  i64,
  type Schema,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
} from './index.js';
import { koffiType } from './koffi-type.test-helper.js';

const primitives = { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool };

function expectMatchesC(s: Schema<unknown, unknown>): void {
  const c = koffiType(s);
  expect({ size: s.size, align: s.align }).toEqual({
    size: koffi.sizeof(c),
    align: koffi.alignof(c),
  });
}

describe('primitive layout', () => {
  it.each(Object.entries(primitives))('%s has the C size and alignment', (_name, s) => {
    expectMatchesC(s);
  });

  it('unit is zero bytes aligned at 1', () => {
    expect([unit.size, unit.align, unit.signature]).toEqual([0, 1, 'unit']);
  });
});

describe('struct layout', () => {
  const Inner = struct({ x: u16, y: f64 });
  const Outer = struct({ a: u8, b: Inner, c: array(u32, 3), d: bool });

  it('places fields at C offsets and pads to the largest alignment', () => {
    expect([Inner.size, Inner.align, Inner.offsetOf('x'), Inner.offsetOf('y')]).toEqual([
      16, 8, 0, 8,
    ]);
    expect(Outer.size).toBe(40);
    expect(Outer.align).toBe(8);
    expect(Outer.layout.map((f) => [f.name, f.offset])).toEqual([
      ['a', 0],
      ['b', 8],
      ['c', 24],
      ['d', 36],
    ]);
    const c = koffiType(Outer);
    expect(koffi.sizeof(c)).toBe(40);
    expect(koffi.alignof(c)).toBe(8);
    for (const f of Outer.layout) expect(koffi.offsetof(c, f.name)).toBe(f.offset);
  });

  it('keeps the key order as written, not sorted', () => {
    const S = struct({ z: u8, a: u32, m: u16 });
    expect(S.layout.map((f) => f.name)).toEqual(['z', 'a', 'm']);
    expect([S.offsetOf('z'), S.offsetOf('a'), S.offsetOf('m'), S.size]).toEqual([0, 4, 8, 12]);
    expectMatchesC(S);
  });

  it('lays out strings, vecs and slices like their C structs', () => {
    const S = struct({
      flag: bool,
      name: fixedString(5), // 4 + 5 -> 12
      big: u64,
      points: fixedVec(struct({ x: f64, tag: u8 }), 3), // len, pad to 8, 3 × 16 -> 56
      tiny: fixedVec(u8, 3), // 4 + 3 -> 8
      pixels: slice(u32, 7), // 28
      neg: i16,
    });
    expect(S.layout.map((f) => [f.name, f.offset])).toEqual([
      ['flag', 0],
      ['name', 4],
      ['big', 16],
      ['points', 24],
      ['tiny', 80],
      ['pixels', 88],
      ['neg', 116],
    ]);
    expect([S.size, S.align]).toEqual([120, 8]);
    const c = koffiType(S);
    expect([koffi.sizeof(c), koffi.alignof(c)]).toEqual([120, 8]);
    for (const f of S.layout) expect(koffi.offsetof(c, f.name)).toBe(f.offset);
    const points = fixedVec(struct({ x: f64, tag: u8 }), 3);
    expect(points.dataOffset).toBe(koffi.offsetof(koffiType(points), 'items'));
    expect(points.dataOffset).toBe(8);
  });

  it('gives unit fields zero bytes', () => {
    const S = struct({ a: u8, nothing: unit, b: u8 });
    expect(S.layout.map((f) => f.offset)).toEqual([0, 1, 1]);
    expect(S.size).toBe(2);
  });
});

describe('signatures and fingerprints', () => {
  const build = () =>
    struct({
      pos: struct({ x: f32, y: f32 }),
      name: fixedString(32),
      trail: fixedVec(struct({ x: i32, y: i32 }), 8),
      grid: array(array(u8, 4), 4),
      pixels: slice(u32, 16),
      big: u64,
    });

  it('is the same for the same schema built twice', () => {
    const a = build();
    const b = build();
    expect(a.signature).toBe(b.signature);
    expect(fingerprint(a.signature)).toEqual(fingerprint(b.signature));
    expect(fingerprintHex(a.signature)).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprint(a.signature)).toHaveLength(16);
  });

  it('spells names, kinds, offsets, sizes and order', () => {
    expect(struct({ a: u8, b: u32 }).signature).toBe('struct{a@0:u8,b@4:u32}:8/4');
    expect(fixedString(5).signature).toBe('fixedString<5>:12/4');
    expect(fixedVec(f64, 2).signature).toBe('fixedVec<f64,2,data@8>:24/8');
    expect(array(u16, 3).signature).toBe('array<u16,3>:6/2');
    expect(slice(u32, 4).signature).toBe('slice<u32,4>:16/4');
  });

  it('matches a known SHA-256 prefix', () => {
    // Computed here with node:crypto directly, independently of fingerprint.ts.
    const full = createHash('sha256').update('u32').digest('hex');
    expect(fingerprintHex('u32')).toBe(full.slice(0, 32));
  });

  it('changes with any change of name, type, order or capacity', () => {
    const variants = [
      struct({ a: u32, b: u8 }),
      struct({ a: u32, c: u8 }), // name
      struct({ a: u32, b: i8 }), // type, same size
      struct({ a: u32, b: bool }), // type, same size
      struct({ b: u8, a: u32 }), // order
      struct({ a: i32, b: u8 }), // sign
      struct({ a: f32, b: u8 }), // float vs int
      struct({ a: u32, b: u8, c: unit }), // a zero-size field
      struct({ a: struct({ a: u32 }), b: u8 }), // nesting
      struct({ a: array(u32, 1), b: u8 }), // array of one vs the element
      struct({ a: fixedString(4), b: u8 }),
      struct({ a: fixedString(5), b: u8 }), // capacity
      struct({ a: fixedVec(u8, 4), b: u8 }),
      struct({ a: fixedVec(u8, 5), b: u8 }), // capacity
      struct({ a: fixedVec(i8, 4), b: u8 }), // element type
      struct({ a: slice(u8, 4), b: u8 }),
      struct({ a: array(u8, 4), b: u8 }), // slice vs array of the same bytes
    ];
    const hex = variants.map((v) => fingerprintHex(v.signature));
    expect(new Set(hex).size).toBe(variants.length);
  });
});

describe('factory arguments', () => {
  const channelLike = {
    kind: 'channel',
    size: 64,
    align: 64,
    signature: 'channel<u32,8>',
    topLevelOnly: true,
    read: () => null,
    write: () => {},
    check: () => {},
    bind: () => ({}),
  };

  const cases: Array<[string, () => unknown, RegExp]> = [
    [
      'struct of a number',
      () => struct(5 as never),
      /struct: expected an object of field schemas.*got 5/,
    ],
    ['struct of null', () => struct(null as never), /got null/],
    ['struct of an array', () => struct([u8] as never), /got an array of length 1/],
    ['struct of a schema', () => struct(u8 as never), /got the schema u8/],
    ['empty struct', () => struct({}), /expected at least one field, got \{\}/],
    [
      'field given by name',
      () => struct({ a: 'u32' as never }),
      /struct field "a": expected a schema.*got "u32".*not its name/,
    ],
    [
      'field undefined',
      () => struct({ a: undefined as never }),
      /struct field "a": expected a schema.*got undefined/,
    ],
    [
      'unknown kind',
      () => struct({ a: { kind: 'u128', size: 16, align: 16 } as never }),
      /expected a schema.*got an object/,
    ],
    ['reserved name get', () => struct({ get: u8 }), /identifiers other than get, set.*got "get"/],
    ['integer-like name', () => struct({ 1: u8 }), /got "1"/],
    ['name with a dash', () => struct({ 'a-b': u8 }), /got "a-b"/],
    [
      'channel in struct',
      () => struct({ events: channelLike as never }),
      /struct field "events": expected a type that can be nested, got channel, which is top-level only/,
    ],
    [
      'channel in array',
      () => array(channelLike as never, 2),
      /array element: expected a type that can be nested, got channel/,
    ],
    [
      'channel in vec',
      () => fixedVec(channelLike as never, 2),
      /fixedVec element: expected a type that can be nested/,
    ],
    [
      'bad foreign align',
      () => struct({ a: { ...channelLike, topLevelOnly: false, align: 3 } as never }),
      /align is a power of two.*got channel with align 3/,
    ],
    [
      'bad foreign size',
      () => struct({ a: { ...channelLike, topLevelOnly: false, size: 65 } as never }),
      /size is a multiple of its align \(64\).*got channel with size 65/,
    ],
    [
      'array length 0',
      () => array(u8, 0),
      /array length: expected an integer in \[1, 2147483647\], got 0/,
    ],
    ['array length -1', () => array(u8, -1), /got -1/],
    ['array length 2.5', () => array(u8, 2.5), /got 2\.5/],
    ['array length NaN', () => array(u8, Number.NaN), /got NaN/],
    ['array length string', () => array(u8, '4' as never), /got "4"/],
    ['array length 2**31', () => array(u8, 2 ** 31), /got 2147483648/],
    [
      'array too many bytes',
      () => array(u64, 2 ** 30),
      /expected a byte size of at most 2147483647, got 8589934592/,
    ],
    ['array of nothing', () => array(undefined as never, 2), /array element: expected a schema/],
    [
      'fixedString 0',
      () => fixedString(0),
      /fixedString capacity \(bytes\): expected an integer in \[1, 2147483647\], got 0/,
    ],
    ['fixedString 1.5', () => fixedString(1.5), /got 1\.5/],
    ['fixedString huge', () => fixedString(2 ** 31 - 1), /expected a byte size of at most/],
    [
      'fixedVec capacity 0',
      () => fixedVec(u8, 0),
      /fixedVec capacity \(elements\): expected an integer.*got 0/,
    ],
    [
      'fixedVec of a string name',
      () => fixedVec('u8' as never, 2),
      /fixedVec element: expected a schema/,
    ],
    [
      'slice of bool',
      () => slice(bool as never, 4),
      /slice element: expected a numeric primitive.*got the schema bool/,
    ],
    [
      'slice of a struct',
      () => slice(struct({ a: u8 }) as never, 4),
      /got the schema struct\{a@0:u8\}:1\/1/,
    ],
    [
      'slice of a look-alike',
      () => slice({ ...u32 } as never, 4),
      /slice element: expected a numeric primitive/,
    ],
    [
      'slice length 0',
      () => slice(u32, 0),
      /slice length: expected an integer in \[1, 2147483647\], got 0/,
    ],
    [
      'slice too big',
      () => slice(u32, 2 ** 30),
      /expected a byte size of at most 2147483647, got 4294967296/,
    ],
  ];

  it.each(cases)('%s → SchemaError', (_name, build, message) => {
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as Error).message).toMatch(message);
  });
});
