/**
 * Property tests: random schemas (nested structs, arrays, strings, vecs and slices of every
 * primitive) with random values of them. For each: the layout is coherent (size a multiple of
 * align, every offset aligned) and equal to koffi's C layout; write→read and accessor set→get
 * round-trip exactly without touching bytes outside the field; the signature is deterministic.
 */
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { CapacityError } from '../errors.js';
import { ArraySchema } from './array.js';
import { FixedVecSchema } from './fixed-vec.js';
import {
  array,
  bool,
  f32,
  f64,
  fingerprintHex,
  fixedString,
  fixedVec,
  i8,
  i16,
  i32,
  i64,
  type Schema,
  type SliceElement,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
} from './index.js';
import { koffiType } from './koffi-type.test-helper.js';
import { StructSchema } from './struct.js';
import { TestContext } from './test-context.js';

type AnySchema = Schema<unknown, unknown>;

const PRIMS = { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool, unit } as const;
type PrimName = keyof typeof PRIMS;
const NUMERIC = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64'] as const;
type NumericName = (typeof NUMERIC)[number];

type Spec =
  | { t: 'prim'; name: PrimName }
  | { t: 'str'; cap: number }
  | { t: 'slice'; name: NumericName; n: number }
  | { t: 'struct'; fields: [string, Spec][] }
  | { t: 'array'; el: Spec; n: number }
  | { t: 'vec'; el: Spec; cap: number };

const nameArb = fc
  // Leading '_' is allowed by struct() but koffi rejects such member names, so none here.
  .stringMatching(/^[a-z][a-z0-9_]{0,6}$/)
  .filter((n) => n !== 'get' && n !== 'set');

const { spec: specArb } = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .constantFrom(...(Object.keys(PRIMS) as PrimName[]))
      .map((name): Spec => ({ t: 'prim', name })),
    fc.integer({ min: 1, max: 24 }).map((cap): Spec => ({ t: 'str', cap })),
    fc
      .record({ name: fc.constantFrom(...NUMERIC), n: fc.integer({ min: 1, max: 6 }) })
      .map(({ name, n }): Spec => ({ t: 'slice', name, n })),
    fc
      .uniqueArray(fc.tuple(nameArb, tie('spec')), {
        minLength: 1,
        maxLength: 5,
        selector: ([n]) => n,
      })
      .map((fields): Spec => ({ t: 'struct', fields })),
    fc
      .record({ el: tie('spec'), n: fc.integer({ min: 1, max: 4 }) })
      .map(({ el, n }): Spec => ({ t: 'array', el, n })),
    fc
      .record({ el: tie('spec'), cap: fc.integer({ min: 1, max: 4 }) })
      .map(({ el, cap }): Spec => ({ t: 'vec', el, cap })),
  ),
}));

function build(spec: Spec): AnySchema {
  switch (spec.t) {
    case 'prim':
      return PRIMS[spec.name] as AnySchema;
    case 'str':
      return fixedString(spec.cap);
    case 'slice':
      return slice(PRIMS[spec.name] as SliceElement, spec.n) as AnySchema;
    case 'struct':
      return struct(Object.fromEntries(spec.fields.map(([n, s]) => [n, build(s)]))) as AnySchema;
    case 'array':
      return array(build(spec.el), spec.n) as AnySchema;
    case 'vec':
      return fixedVec(build(spec.el), spec.cap) as AnySchema;
  }
}

/** The longest prefix of whole code points that fits in `cap` bytes, computed independently. */
function fitUtf8(s: string, cap: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > cap) break;
    out += ch;
    bytes += n;
  }
  return out;
}

function primArb(name: PrimName): fc.Arbitrary<unknown> {
  switch (name) {
    case 'u8':
      return fc.integer({ min: 0, max: 0xff });
    case 'u16':
      return fc.integer({ min: 0, max: 0xffff });
    case 'u32':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'i8':
      return fc.integer({ min: -0x80, max: 0x7f });
    case 'i16':
      return fc.integer({ min: -0x8000, max: 0x7fff });
    case 'i32':
      return fc.integer({ min: -0x80000000, max: 0x7fffffff });
    case 'u64':
      return fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'i64':
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
    case 'f32':
      return fc.float(); // every f32 value, NaN, ±0 and ±Infinity included
    case 'f64':
      return fc.double();
    case 'bool':
      return fc.boolean();
    case 'unit':
      return fc.constant(null);
  }
}

const CTORS = {
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  u64: BigUint64Array,
  i8: Int8Array,
  i16: Int16Array,
  i32: Int32Array,
  i64: BigInt64Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

function valueArb(spec: Spec): fc.Arbitrary<unknown> {
  switch (spec.t) {
    case 'prim':
      return primArb(spec.name);
    case 'str':
      return fc.string({ unit: 'binary', maxLength: spec.cap }).map((s) => fitUtf8(s, spec.cap));
    case 'slice': {
      const ctor = CTORS[spec.name] as { from(a: unknown[]): unknown };
      return fc
        .array(primArb(spec.name), { minLength: spec.n, maxLength: spec.n })
        .map((a) => ctor.from(a));
    }
    case 'struct':
      return fc.record(Object.fromEntries(spec.fields.map(([n, s]) => [n, valueArb(s)])));
    case 'array':
      return fc.array(valueArb(spec.el), { minLength: spec.n, maxLength: spec.n });
    case 'vec':
      return fc.array(valueArb(spec.el), { maxLength: spec.cap });
  }
}

const caseArb = specArb.chain((spec) =>
  fc.record({
    spec: fc.constant(spec),
    value: valueArb(spec),
    slot: fc.integer({ min: 0, max: 3 }),
  }),
);

/** Checks coherence of `s` and everything nested in it. */
function checkLayout(s: AnySchema): void {
  expect(s.align & (s.align - 1)).toBe(0);
  expect(s.size % s.align).toBe(0);
  if (s instanceof StructSchema) {
    let end = 0;
    for (const f of s.layout) {
      expect(f.offset % f.schema.align).toBe(0);
      expect(f.offset).toBeGreaterThanOrEqual(end);
      end = f.offset + f.schema.size;
      checkLayout(f.schema);
    }
    expect(s.size).toBeGreaterThanOrEqual(end);
  }
  if (s instanceof ArraySchema) checkLayout(s.element);
  if (s instanceof FixedVecSchema) {
    expect(s.dataOffset % s.element.align).toBe(0);
    checkLayout(s.element);
  }
}

/** Checks our layout against koffi's for `s` and each nested struct. */
function checkAgainstC(s: AnySchema): void {
  const c = koffiType(s);
  expect([s.size, s.align]).toEqual([koffi.sizeof(c), koffi.alignof(c)]);
  if (s instanceof StructSchema) {
    for (const f of s.layout) expect(koffi.offsetof(c, f.name)).toBe(f.offset);
  }
}

describe('random schemas and values', () => {
  it('have coherent C layouts and round-trip through write/read and accessors', () => {
    fc.assert(
      fc.property(caseArb, ({ spec, value, slot }) => {
        const s = build(spec);
        checkLayout(s);
        // C has no zero-size type, so layouts containing unit are checked by checkLayout only.
        if (!s.signature.includes('unit')) checkAgainstC(s);

        // Same spec, built again: same signature and fingerprint.
        const again = build(spec);
        expect(again.signature).toBe(s.signature);
        expect(fingerprintHex(again.signature)).toBe(fingerprintHex(s.signature));

        // write → read, at an aligned offset in the middle of canary bytes.
        const offset = 8 + slot * Math.max(s.align, 8);
        const total = offset + s.size + 16;
        const ctx = new TestContext(total);
        new Uint8Array(ctx.buffer).fill(0xa5);
        s.check(value, 'v');
        s.write(ctx.view, offset, value);
        expect(s.read(ctx.view, offset)).toEqual(value);
        const bytes = new Uint8Array(ctx.buffer);
        for (let i = 0; i < offset; i++)
          if (bytes[i] !== 0xa5) expect.fail(`byte ${i} before the field changed`);
        for (let i = offset + s.size; i < total; i++)
          if (bytes[i] !== 0xa5) expect.fail(`byte ${i} after the field changed`);

        // accessor: reads what write stored, and set → read round-trips on fresh bytes.
        const access = s.bind(ctx, offset);
        const fresh = new TestContext(total);
        const access2 = s.bind(fresh, offset);
        if (spec.t === 'slice') {
          expect(access).toEqual(value);
          (access2 as { set(v: unknown): void }).set(value);
        } else {
          expect((access as { get(): unknown }).get()).toEqual(value);
          (access2 as { set(v: unknown): void }).set(value);
        }
        expect(s.read(fresh.view, offset)).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it('strings truncate at a code-point boundary to the longest prefix that fits', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 24 }),
        fc.integer({ min: 1, max: 24 }),
        (str, cap) => {
          const S = fixedString(cap);
          const ctx = new TestContext(S.size);
          const bytes = Buffer.byteLength(str, 'utf8');
          if (bytes > cap) {
            expect(() => S.write(ctx.view, 0, str)).toThrow(CapacityError);
          } else {
            S.write(ctx.view, 0, str);
            expect(S.read(ctx.view, 0)).toBe(str);
          }
          S.write(ctx.view, 0, str, { truncate: true });
          expect(S.read(ctx.view, 0)).toBe(fitUtf8(str, cap));
        },
      ),
      { numRuns: 300 },
    );
  });
});
