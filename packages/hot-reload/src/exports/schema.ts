/**
 * `@hotshm/hot-reload/schema`: the schema classes behind the builders, for code that inspects
 * layouts (sizes, offsets, signatures) or fingerprints them.
 */

export type { ChannelSchema } from '../channel/index.js';
export { MAX_CHANNEL_CAPACITY } from '../channel/index.js';
export type { FrameBufferSchema } from '../frames/index.js';
export { MAX_EPOCH, MAX_FRAME_SIDE } from '../frames/index.js';
export type {
  FieldLayout,
  InferStruct,
  PrimitiveKind,
  PrimitiveSchema,
  SliceElement,
  StructFields,
  TypedArrayFor,
} from '../schema/index.js';
export {
  ArraySchema,
  FINGERPRINT_BYTES,
  FixedStringSchema,
  FixedVecSchema,
  fingerprint,
  fingerprintHex,
  isSchema,
  MAX_SIZE,
  SliceSchema,
  StructSchema,
} from '../schema/index.js';
export type { StateLayout } from '../state/layout.js';
