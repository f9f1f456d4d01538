/**
 * Layout descriptors: every schema kind the library makes is described as JSON and rebuilt with
 * the real factories to the very same layout; bad data is a SchemaError that names what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { channel } from '../channel/index.js';
import { SchemaError } from '../errors.js';
import { framebuffer } from '../frames/index.js';
import { HEADER_SIZE } from '../memory/header.js';
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
  i64,
  type Schema,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
} from '../schema/index.js';
import {
  describeLayout,
  describeSchema,
  layoutFromDescriptor,
  opaque,
  schemaFromDescriptor,
  valueFromJson,
  valueToJson,
} from './descriptor.js';
import { layoutState } from './layout.js';

/** Through JSON text, as it travels. */
const roundTrip = (s: Schema): Schema =>
  schemaFromDescriptor(JSON.parse(JSON.stringify(describeSchema(s))));

const KINDS: Record<string, Schema> = {
  u8,
  u16,
  u32,
  u64,
  i8,
  i16,
  i32,
  i64,
  f32,
  f64,
  bool,
  unit,
  struct: struct({ a: u8, b: f64, c: struct({ d: i16 }) }),
  array: array(struct({ x: u16 }), 3),
  fixedString: fixedString(17),
  fixedVec: fixedVec(f32, 9),
  slice: slice(i32, 100),
  channel: channel(struct({ x: i32 }), { capacity: 16 }),
  latest: channel(fixedString(8), { capacity: 1, latest: true }),
  handled: channel(struct({ x: u8 }), { capacity: 8, delivery: 'handled' }),
  framebuffer: framebuffer(32, 24),
  abgr8888: framebuffer(32, 24, { format: 'abgr8888' }),
  fieldElement: array(field(u8, { initial: 4, renamedFrom: 'old' }), 2),
};

describe('describeSchema / schemaFromDescriptor', () => {
  it.each(Object.entries(KINDS))('%s round-trips to the same signature, not opaque', (_k, s) => {
    const d = describeSchema(s);
    expect(d.kind).not.toBe('opaque');
    const back = roundTrip(s);
    expect(back.signature).toBe(s.signature);
    expect([back.size, back.align, back.kind]).toEqual([s.size, s.align, s.kind]);
  });

  it('describes primitives, structs and containers as plain data', () => {
    expect(describeSchema(struct({ a: u8, b: fixedVec(u16, 2) }))).toEqual({
      kind: 'struct',
      fields: [
        { name: 'a', offset: 0, type: { kind: 'u8' } },
        {
          name: 'b',
          offset: 4,
          type: { kind: 'fixedVec', element: { kind: 'u16' }, capacity: 2 },
        },
      ],
    });
    expect(describeSchema(channel(u8, { capacity: 4 }))).toEqual({
      kind: 'channel',
      message: { kind: 'u8' },
      capacity: 4,
      latest: false,
    });
    expect(describeSchema(framebuffer(3, 2))).toEqual({ kind: 'framebuffer', width: 3, height: 2 });
    expect(describeSchema(framebuffer(3, 2, { format: 'abgr8888' }))).toEqual({
      kind: 'framebuffer',
      width: 3,
      height: 2,
      format: 'abgr8888',
    });
    expect(() =>
      schemaFromDescriptor({ kind: 'framebuffer', width: 3, height: 2, format: 'rgb565' } as never),
    ).toThrow("framebuffer: format: expected 'argb8888' or 'abgr8888', got \"rgb565\"");
    expect(describeSchema(channel(u8, { capacity: 4, delivery: 'handled' }))).toEqual({
      kind: 'channel',
      message: { kind: 'u8' },
      capacity: 4,
      latest: false,
      delivery: 'handled',
    });
    expect(() =>
      schemaFromDescriptor({
        kind: 'channel',
        message: { kind: 'u8' },
        capacity: 4,
        latest: false,
        delivery: 'taken',
      }),
    ).toThrow("type: delivery: expected 'handled' (or no delivery, for 'taken'), got \"taken\"");
  });

  it('keeps initial values and rename hints of struct members, as JSON', () => {
    const S = struct({
      big: field(u64, { initial: 2n ** 63n + 5n }),
      neg: field(f64, { initial: -0, renamedFrom: ['negative', 'n'] }),
      nan: field(f32, { initial: Number.NaN }),
      name: field(fixedString(8), { initial: 'héllo' }),
      px: field(slice(u64, 2), { initial: new BigUint64Array([1n, 2n]) }),
    });
    const d = describeSchema(S);
    expect(JSON.parse(JSON.stringify(d))).toEqual({
      kind: 'struct',
      fields: [
        { name: 'big', offset: 0, type: { kind: 'u64' }, initial: '9223372036854775813' },
        {
          name: 'neg',
          offset: 8,
          type: { kind: 'f64' },
          initial: '-0',
          renamedFrom: ['negative', 'n'],
        },
        { name: 'nan', offset: 16, type: { kind: 'f32' }, initial: 'NaN' },
        { name: 'name', offset: 20, type: { kind: 'fixedString', capacity: 8 }, initial: 'héllo' },
        {
          name: 'px',
          offset: 32,
          type: { kind: 'slice', element: 'u64', length: 2 },
          initial: ['1', '2'],
        },
      ],
    });
    const back = roundTrip(S) as typeof S;
    expect(back.layout.map((m) => m.meta)).toEqual([
      { hasInitial: true, initial: 2n ** 63n + 5n, renamedFrom: [] },
      { hasInitial: true, initial: -0, renamedFrom: ['negative', 'n'] },
      { hasInitial: true, initial: Number.NaN, renamedFrom: [] },
      { hasInitial: true, initial: 'héllo', renamedFrom: [] },
      { hasInitial: true, initial: new BigUint64Array([1n, 2n]), renamedFrom: [] },
    ]);
    expect(Object.is((back.layout[1]!.meta as { initial: number }).initial, -0)).toBe(true);
  });

  it('describes a schema it does not know as opaque bytes, and refuses to use them', () => {
    const foreign: Schema = { ...opaque('custom<3>', 12, 4), kind: 'custom' };
    expect(describeSchema(foreign)).toEqual({
      kind: 'opaque',
      signature: 'custom<3>',
      size: 12,
      align: 4,
    });
    const back = roundTrip(foreign);
    expect([back.signature, back.size, back.align]).toEqual(['custom<3>', 12, 4]);
    expect(() => back.read(new DataView(new ArrayBuffer(12)), 0)).toThrow(SchemaError);
    expect(roundTrip(struct({ a: u8, b: foreign })).signature).toBe(
      struct({ a: u8, b: foreign }).signature,
    );
  });

  it('refuses bad data with a SchemaError naming where it is', () => {
    const bad =
      (d: unknown): (() => Schema) =>
      () =>
        schemaFromDescriptor(d);
    expect(bad({ kind: 'u33' })).toThrow(SchemaError);
    expect(bad({ kind: 'u33' })).toThrow('type: kind: expected one of u8, u16');
    expect(bad({ kind: 'u8', extra: 1 })).toThrow('type: expected only kind, got "extra"');
    expect(bad({ kind: 'array', element: { kind: 'u8' } })).toThrow(
      'type: expected a "length", got none',
    );
    // The factories' own checks apply.
    expect(bad({ kind: 'array', element: { kind: 'u8' }, length: 0 })).toThrow(
      'array length: expected an integer in [1, 2147483647], got 0',
    );
    expect(bad({ kind: 'channel', message: { kind: 'u8' }, capacity: 3, latest: false })).toThrow(
      'channel: capacity: expected a power of two',
    );
    expect(
      bad({ kind: 'struct', fields: [{ name: 'a', offset: 1, type: { kind: 'u32' } }] }),
    ).toThrow('type: member "a" is at byte 1 in the descriptor, expected 0 for its type');
    expect(
      bad({
        kind: 'struct',
        fields: [
          { name: 'a', offset: 0, type: { kind: 'u8' } },
          { name: 'a', offset: 1, type: { kind: 'u8' } },
        ],
      }),
    ).toThrow('member "a" appears twice');
    expect(
      bad({
        kind: 'struct',
        fields: [{ name: 'a', offset: 0, type: { kind: 'u8' }, initial: 256 }],
      }),
    ).toThrow('type.fields[0] ("a"): initial: expected an integer in [0, 255], got 256');
    expect(bad({ kind: 'slice', element: 'bool', length: 2 })).toThrow(
      'element: expected one of u8',
    );
    expect(bad({ kind: 'opaque', signature: 's', size: 3, align: 2 })).toThrow(
      'size: expected a multiple of its align (2), got 3',
    );
    let deep: unknown = { kind: 'u8' };
    for (let i = 0; i < 100; i++) deep = { kind: 'array', element: deep, length: 1 };
    expect(bad(deep)).toThrow('expected types nested at most 64 deep');
    expect(bad('u8')).toThrow(`type: expected a type descriptor such as { kind: 'u32' }, got "u8"`);
  });
});

describe('describeLayout / layoutFromDescriptor', () => {
  const fields = {
    framebuffer: framebuffer(16, 8),
    toRenderer: channel(struct({ kind: u8, x: i32 }), { capacity: 64 }),
    memory: struct({ clicks: field(u32, { initial: 2 }), colour: u32 }),
    title: field(fixedString(32), { initial: 'hi', renamedFrom: 'caption' }),
  };
  const layout = layoutState('demo', fields, HEADER_SIZE);

  it('rebuilds the same layout: offsets, size, signature and fingerprint', () => {
    const d = describeLayout(layout);
    expect(d).toMatchObject({
      format: 1,
      state: 'demo',
      start: HEADER_SIZE,
      size: layout.dataSize,
      fingerprint: Buffer.from(layout.fingerprint).toString('hex'),
    });
    expect(d.fields.map((f) => [f.name, f.offset])).toEqual(
      layout.fields.map((f) => [f.name, f.offset]),
    );
    expect(d.fields[3]).toEqual({
      name: 'title',
      offset: layout.fields[3]!.offset,
      type: { kind: 'fixedString', capacity: 32 },
      initial: 'hi',
      renamedFrom: ['caption'],
    });
    const back = layoutFromDescriptor(JSON.parse(JSON.stringify(d)));
    expect(back.signature).toBe(layout.signature);
    expect(back.fingerprint).toEqual(layout.fingerprint);
    expect(back.dataSize).toBe(layout.dataSize);
    expect(back.fields.map((f) => [f.name, f.offset, f.schema.signature, f.meta])).toEqual(
      layout.fields.map((f) => [f.name, f.offset, f.schema.signature, f.meta]),
    );
  });

  it('checks the offsets, size and fingerprint it states against the ones recomputed', () => {
    const d = describeLayout(layout);
    const fp = d.fingerprint;
    const at = (i: number, offset: number) => ({
      ...d,
      fields: d.fields.map((f, j) => (j === i ? { ...f, offset } : f)),
    });
    expect(() => layoutFromDescriptor(at(1, 200))).toThrow(
      `layout descriptor: field "toRenderer" is at byte 200 in the descriptor, expected ${layout.fields[1]!.offset} for its type`,
    );
    expect(() => layoutFromDescriptor({ ...d, size: 1 })).toThrow(
      `layout descriptor: its size is 1, expected ${layout.dataSize} for its fields`,
    );
    expect(() => layoutFromDescriptor({ ...d, fingerprint: '00' })).toThrow(
      `layout descriptor: its fingerprint is "00", expected ${fp} for its fields`,
    );
    expect(() => layoutFromDescriptor({ ...d, format: 2 })).toThrow(
      'layout descriptor: expected format 1, got 2',
    );
    expect(() => layoutFromDescriptor({ ...d, fields: [...d.fields, d.fields[0]] })).toThrow(
      'layout descriptor: field "framebuffer" appears twice',
    );
    expect(() => layoutFromDescriptor(null)).toThrow(
      'layout descriptor: expected an object, got null',
    );
  });
});

describe('values as JSON', () => {
  it('round-trips bigints, non-finite floats, -0 and typed arrays', () => {
    const S = struct({
      a: u64,
      b: i64,
      c: f64,
      d: f32,
      e: slice(f32, 3),
      f: fixedVec(i64, 2),
      g: array(bool, 2),
      h: unit,
    });
    const value = {
      a: 2n ** 64n - 1n,
      b: -(2n ** 63n),
      c: Number.NEGATIVE_INFINITY,
      d: -0,
      e: new Float32Array([1.5, Number.NaN, Number.POSITIVE_INFINITY]),
      f: [-1n],
      g: [true, false],
      h: null,
    };
    const json = JSON.parse(JSON.stringify(valueToJson(S, value)));
    expect(json).toEqual({
      a: '18446744073709551615',
      b: '-9223372036854775808',
      c: '-Infinity',
      d: '-0',
      e: [1.5, 'NaN', 'Infinity'],
      f: ['-1'],
      g: [true, false],
      h: null,
    });
    const back = valueFromJson(S, json, 'v') as typeof value;
    expect(back).toEqual(value);
    expect(Object.is(back.d, -0)).toBe(true);
  });

  it('refuses values that do not fit, naming where', () => {
    expect(() => valueFromJson(u64, '-1', 'x.initial')).toThrow(SchemaError);
    expect(() => valueFromJson(u64, '-1', 'x.initial')).toThrow(
      'x.initial: expected a bigint in [0,',
    );
    expect(() => valueFromJson(u64, 5, 'x')).toThrow('expected a u64 as a decimal string, got 5');
    expect(() => valueFromJson(slice(u8, 2), [1, 2, 3], 'x')).toThrow(
      'x: expected a Uint8Array of length 2',
    );
  });
});
