/**
 * `field()`: initial values and rename hints beside a layout, without changing its bytes or its
 * types; checked when declared.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { SchemaError } from '../errors.js';
import {
  type Access,
  array,
  type Cell,
  defaultValue,
  FieldSchema,
  f64,
  field,
  fixedString,
  fixedVec,
  hasInitial,
  type Infer,
  i64,
  type StringAccess,
  slice,
  struct,
  u8,
  u32,
} from './index.js';
import { TestContext } from './test-context.js';

describe('field()', () => {
  it('keeps the types of the schema it wraps', () => {
    const S = struct({ a: field(u32, { initial: 3 }), b: field(fixedString(8)), c: i64 });
    expectTypeOf<Infer<typeof S>>().toEqualTypeOf<{ a: number; b: string; c: bigint }>();
    expectTypeOf<Access<typeof S>['a']>().toEqualTypeOf<Cell<number>>();
    expectTypeOf<Access<typeof S>['b']>().toEqualTypeOf<StringAccess>();
    expectTypeOf<Infer<ReturnType<typeof field<typeof u8>>>>().toEqualTypeOf<number>();
  });

  it('changes no byte: size, alignment, offsets and signature are those without it', () => {
    const plain = struct({ a: u8, b: f64, c: fixedString(5) });
    const withFields = struct({
      a: field(u8, { initial: 7 }),
      b: field(f64, { renamedFrom: 'bee' }),
      c: field(fixedString(5), { initial: 'hi' }),
    });
    expect(withFields.size).toBe(plain.size);
    expect(withFields.align).toBe(plain.align);
    expect(withFields.signature).toBe(plain.signature);
    expect(withFields.layout.map((m) => [m.name, m.offset])).toEqual(
      plain.layout.map((m) => [m.name, m.offset]),
    );
  });

  it('is unwrapped by struct(): the layout holds the wrapped schema and the options beside it', () => {
    const S = struct({ a: field(u32, { initial: 3, renamedFrom: ['x', 'y'] }), b: u8 });
    expect(S.layout[0]!.schema).toBe(u32);
    expect(S.layout[0]!.meta).toEqual({ hasInitial: true, initial: 3, renamedFrom: ['x', 'y'] });
    expect(S.layout[1]!.meta).toBeUndefined();
    expect(S.fields.a).toBeInstanceOf(FieldSchema);
    // The accessor is the wrapped schema's own cell.
    const ctx = new TestContext(64);
    const access = S.bind(ctx, 0, 'value');
    access.a.set(9);
    expect(access.get()).toEqual({ a: 9, b: 0 });
    expect(Object.getPrototypeOf(access.a)).toBe(Object.getPrototypeOf(u32.bind(ctx, 8, 'other')));
  });

  it('checks the initial value against the schema when declared', () => {
    expect(() => field(u8, { initial: 300 })).toThrow(SchemaError);
    expect(() => field(u8, { initial: 300 })).toThrow(
      'field(u8): the initial value does not fit: initial: expected an integer in [0, 255], got 300',
    );
    expect(() => field(fixedString(2), { initial: 'abc' })).toThrow(
      'field(fixedString<2>:8/4): the initial value does not fit: initial: expected at most 2 bytes, got 3',
    );
    expect(() => field(struct({ x: u8 }), { initial: { x: 1, y: 2 } as never })).toThrow(
      'got an extra field "y"',
    );
    expect(() => field(u32, { initial: 1, other: 2 } as never)).toThrow(
      'field(u32): expected the options initial and renamedFrom, got "other"',
    );
    expect(() => field('u32' as never)).toThrow(
      'field(schema): expected a schema (u32, struct(…), channel(…)…), got "u32"',
    );
    expect(() => field(field(u32))).toThrow('is not already a field()');
  });

  it('keeps its own copy of the initial value', () => {
    const initial = { xs: [1, 2] };
    const f = field(struct({ xs: fixedVec(u8, 4) }), { initial });
    initial.xs.push(3);
    expect(f.meta.initial).toEqual({ xs: [1, 2] });
  });

  it('checks rename hints, alone and against the other members', () => {
    expect(() => field(u8, { renamedFrom: [] })).toThrow(
      'renamedFrom: expected a field name or a non-empty array of them, got an array of length 0',
    );
    expect(() => field(u8, { renamedFrom: '1x' })).toThrow(
      'renamedFrom: expected field names (identifiers), got "1x"',
    );
    expect(() => field(u8, { renamedFrom: ['a', 'a'] })).toThrow('expected distinct names');
    expect(() => struct({ a: field(u8, { renamedFrom: 'a' }) })).toThrow(
      'struct: field "a" is renamedFrom itself',
    );
    expect(() => struct({ a: u8, b: field(u8, { renamedFrom: 'a' }) })).toThrow(
      'struct: field "b" is renamedFrom "a", which is a field here too',
    );
    expect(() =>
      struct({ a: field(u8, { renamedFrom: 'old' }), b: field(u8, { renamedFrom: 'old' }) }),
    ).toThrow('struct: fields "a" and "b" are both renamedFrom "old"');
  });

  it('takes no initial value for a schema that holds none', () => {
    const top = { kind: 'channel', topLevelOnly: true } as const;
    const fake = {
      ...u32,
      ...top,
      read: u32.read,
      write: u32.write,
      check: u32.check,
      bind: u32.bind,
    };
    expect(() => field(fake as never, { initial: 1 } as never)).toThrow(
      'field(channel): a channel holds no value, so it takes no initial value, got 1',
    );
    expect(field(fake as never, { renamedFrom: 'old' }).topLevelOnly).toBe(true);
  });

  it('still works where it is not unwrapped (an array element), delegating to its schema', () => {
    const A = array(field(u8, { initial: 5 }), 3);
    const ctx = new TestContext(16);
    A.write(ctx.view, 0, [1, 2, 3]);
    expect(A.read(ctx.view, 0)).toEqual([1, 2, 3]);
    expect(A.bind(ctx, 0, 'a').at(1).get()).toBe(2);
    expect(() => A.write(ctx.view, 0, [1, 2, 256])).toThrow('value[2]: expected an integer');
  });
});

describe('defaultValue / hasInitial', () => {
  it('composes the initial values of the members, zeros elsewhere', () => {
    const S = struct({
      a: field(u32, { initial: 3 }),
      b: struct({ c: field(fixedString(8), { initial: 'hey' }), d: i64 }),
      e: array(struct({ f: field(u8, { initial: 1 }) }), 2),
      g: fixedVec(u8, 3),
      h: slice(u8, 2),
    });
    expect(defaultValue(S)).toEqual({
      a: 3,
      b: { c: 'hey', d: 0n },
      e: [{ f: 1 }, { f: 1 }],
      g: [],
      h: new Uint8Array(2),
    });
    expect(hasInitial(S)).toBe(true);
    expect(hasInitial(struct({ a: u8, b: array(u32, 4) }))).toBe(false);
    // A field's own initial value wins over its members'.
    const outer = field(struct({ x: field(u8, { initial: 1 }) }), { initial: { x: 2 } });
    expect(defaultValue(outer)).toEqual({ x: 2 });
    expect(defaultValue(struct({ n: field(struct({ x: field(u8, { initial: 1 }) })) }))).toEqual({
      n: { x: 1 },
    });
  });
});
