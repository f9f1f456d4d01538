/**
 * Schemas: binary layouts as values. Primitives are singletons, composites come from factories,
 * and each knows its C size, alignment and offsets, its signature (for fingerprints), how to read
 * and write a plain value, and how to bind a zero-copy accessor over a mapped region.
 */
export type { ArrayAccess } from './array.js';
export { ArraySchema, array } from './array.js';
export type { FieldMeta, FieldOptions } from './field.js';
export {
  checkRenames,
  defaultValue,
  FieldSchema,
  field,
  hasInitial,
  unwrapField,
} from './field.js';
export { FINGERPRINT_BYTES, fingerprint, fingerprintHex } from './fingerprint.js';
export type { StringAccess } from './fixed-string.js';
export { FixedStringSchema, fixedString } from './fixed-string.js';
export type { VecAccess } from './fixed-vec.js';
export { FixedVecSchema, fixedVec } from './fixed-vec.js';
export type { Cell, PrimitiveKind, PrimitiveSchema } from './primitives.js';
export { bool, f32, f64, i8, i16, i32, i64, u8, u16, u32, u64, unit } from './primitives.js';
export { isSchema, MAX_SIZE } from './shared.js';
export type { SliceElement, TypedArrayFor } from './slice.js';
export { SliceSchema, slice } from './slice.js';
export type { FieldLayout, InferStruct, StructAccess, StructFields } from './struct.js';
export { StructSchema, struct } from './struct.js';
export type { Access, BindContext, Infer, Schema, WriteOptions } from './types.js';
