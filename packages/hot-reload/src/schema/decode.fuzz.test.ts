/**
 * Property tests: every decoder fed random bytes. Bytes in shared memory come from another
 * process and are not trusted; reading them must give a valid value of the schema (one that its
 * own `check` accepts) or a HotshmError, never a RangeError, a TypeError or a value that
 * breaks the schema's promises (a string or vec longer than its capacity).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapacityError, HotshmError } from '../errors.js';
import {
  array,
  bool,
  f32,
  f64,
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
import { TestContext } from './test-context.js';

type AnySchema = Schema<unknown, unknown>;

const schemas: Record<string, AnySchema> = {
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
  'fixedString(1)': fixedString(1),
  'fixedString(7)': fixedString(7),
  'fixedString(64)': fixedString(64),
  'fixedVec(u8, 5)': fixedVec(u8, 5),
  'fixedVec(i32, 3)': fixedVec(i32, 3),
  'fixedVec(fixedString(3), 4)': fixedVec(fixedString(3), 4),
  'array(bool, 9)': array(bool, 9),
  'array(fixedString(5), 3)': array(fixedString(5), 3),
  'slice(f32, 4)': slice(f32, 4) as AnySchema,
  struct: struct({
    a: u8,
    name: fixedString(10),
    list: fixedVec(u16, 4),
    flag: bool,
    deep: struct({ x: f64, tags: array(fixedVec(u8, 2), 2) }),
  }) as AnySchema,
};

/** Decodes, then proves the result is a value the schema accepts; or returns the error. */
function decode(schema: AnySchema, bytes: Uint8Array): { value?: unknown; error?: unknown } {
  const buffer = new ArrayBuffer(schema.size + 8);
  new Uint8Array(buffer).set(bytes.subarray(0, schema.size + 8));
  const view = new DataView(buffer);
  try {
    const value = schema.read(view, 8);
    return { value };
  } catch (error) {
    return { error };
  }
}

describe('decoders fed random bytes', () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: a valid value or a HotshmError, never a crash`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: schema.size + 8, maxLength: schema.size + 8 }),
          (bytes) => {
            const { value, error } = decode(schema, bytes);
            if (error !== undefined) {
              expect(error).toBeInstanceOf(HotshmError);
              return;
            }
            // What came out fits back in: no vec over capacity, no out-of-range integer (NaN payloads
            // of floats are values too). One exception: bytes that are not UTF-8 decode to U+FFFD,
            // three bytes each, so such a string may be longer than its capacity once re-encoded;
            // it still has at most `capacity` UTF-16 units (one per byte read at most).
            try {
              schema.check(value, name);
            } catch (error) {
              expect(error).toBeInstanceOf(CapacityError);
              expect(JSON.stringify(value)).toContain('\uFFFD');
            }
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('bound accessors read random bytes the same way (valid or HotshmError)', () => {
    const s = struct({ name: fixedString(12), list: fixedVec(u32, 3) });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: s.size, maxLength: s.size }), (bytes) => {
        const ctx = new TestContext(s.size);
        new Uint8Array(ctx.buffer).set(bytes);
        const access = s.bind(ctx, 0, 'fuzz') as unknown as {
          name: { get(): string };
          list: { get(): number[]; length: number };
        };
        for (const read of [
          () => access.name.get(),
          () => access.list.get(),
          () => access.list.length,
        ]) {
          try {
            const v = read();
            if (typeof v === 'string') expect(Buffer.byteLength(v)).toBeLessThanOrEqual(12 * 3);
            if (Array.isArray(v)) expect(v.length).toBeLessThanOrEqual(3);
            if (typeof v === 'number') expect(v).toBeLessThanOrEqual(3);
          } catch (error) {
            expect(error).toBeInstanceOf(HotshmError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
