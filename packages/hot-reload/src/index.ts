/**
 * @hotshm/hot-reload: hot reload for graphical Node.js apps over typed shared memory.
 * Each concern lives in its own folder; this file re-exports their public surface by name.
 */

export type {
  Channel,
  ChannelOptions,
  ChannelSchema,
  RecvOptions,
  SendOptions,
} from './channel/index.js';
export { channel, MAX_CHANNEL_CAPACITY } from './channel/index.js';
export * from './errors.js';
export type { FrameBuffer, FrameBufferSchema, FrontFrame } from './frames/index.js';
export { framebuffer, MAX_EPOCH, MAX_FRAME_SIDE } from './frames/index.js';
export type { HeaderExpectation, RegionHeader } from './memory/header.js';
export { HEADER_SIZE, readHeader, validateHeader } from './memory/header.js';
export type { CreateRegionOptions, Region } from './memory/index.js';
export {
  createRegion,
  listStaleRegions,
  newRegionName,
  openRegion,
  removeStaleRegions,
  unlinkRegion,
} from './memory/index.js';
export { unlinkOnExit } from './memory/lifetime.js';
export type {
  Access,
  ArrayAccess,
  BindContext,
  Cell,
  FieldLayout,
  Infer,
  InferStruct,
  PrimitiveKind,
  PrimitiveSchema,
  Schema,
  SliceElement,
  StringAccess,
  StructAccess,
  StructFields,
  TypedArrayFor,
  VecAccess,
  WriteOptions,
} from './schema/index.js';
export {
  ArraySchema,
  array,
  bool,
  FINGERPRINT_BYTES,
  FixedStringSchema,
  FixedVecSchema,
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
  isSchema,
  MAX_SIZE,
  SliceSchema,
  StructSchema,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
} from './schema/index.js';
export type {
  OwnerOptions,
  OwnerState,
  ReloadableState,
  RendererHost,
  StateDefinition,
  StateFields,
  StateSpec,
} from './state/define.js';
export { defineState } from './state/define.js';
export type { StateLayout } from './state/layout.js';
export type {
  ReloadTimings,
  SupervisorEvents,
  SupervisorOptions,
} from './supervisor/supervisor.js';
export { Supervisor } from './supervisor/supervisor.js';
export type { SharedWord, SyncBackendName, WaitResult } from './sync/index.js';
export { sharedWord, syncBackendName, waitAsync, waitSync, wake } from './sync/index.js';
