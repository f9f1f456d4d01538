/**
 * Test helper: the C type koffi builds for a schema, so tests can check our sizes, alignments and
 * offsets against a real C layout engine instead of against numbers we computed ourselves.
 */
import koffi from 'koffi';
import { ArraySchema } from './array.js';
import { FixedStringSchema } from './fixed-string.js';
import { FixedVecSchema } from './fixed-vec.js';
import { SliceSchema } from './slice.js';
import { StructSchema } from './struct.js';
import type { Schema } from './types.js';

export type KoffiType = ReturnType<typeof koffi.struct>;

const C_NAMES: Record<string, string> = {
  u8: 'uint8_t',
  u16: 'uint16_t',
  u32: 'uint32_t',
  u64: 'uint64_t',
  i8: 'int8_t',
  i16: 'int16_t',
  i32: 'int32_t',
  i64: 'int64_t',
  f32: 'float',
  f64: 'double',
  bool: 'bool',
};

/** The koffi type of `s` (unit has no C equivalent and throws). */
export function koffiType(s: Schema<unknown, unknown>): KoffiType {
  const name = C_NAMES[s.kind];
  if (name !== undefined) return koffi.type(name);
  if (s instanceof StructSchema) {
    return koffi.struct(Object.fromEntries(s.layout.map((f) => [f.name, koffiType(f.schema)])));
  }
  if (s instanceof ArraySchema) return koffi.array(koffiType(s.element), s.length, 'Array');
  if (s instanceof SliceSchema) return koffi.array(koffiType(s.element), s.length, 'Array');
  if (s instanceof FixedStringSchema) {
    return koffi.struct({ len: 'uint32_t', bytes: koffi.array('uint8_t', s.capacity, 'Array') });
  }
  if (s instanceof FixedVecSchema) {
    return koffi.struct({
      len: 'uint32_t',
      items: koffi.array(koffiType(s.element), s.capacity, 'Array'),
    });
  }
  throw new Error(`no C type for ${s.signature}`);
}
