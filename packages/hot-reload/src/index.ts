/**
 * @hotshm/hot-reload: hot reload for graphical Node.js apps over typed shared memory.
 *
 * The root is what an app needs: `defineState`, the schema builders, channels and framebuffers,
 * their types, and `HotshmError` with its `ErrorCode`s. Lower-level parts live on subpaths:
 * `@hotshm/hot-reload/errors` (every error class), `/memory` (named regions), `/sync`
 * (cross-process wait and wake), `/schema` (schema classes, fingerprints).
 */

export type {
  Channel,
  ChannelOptions,
  Delivery,
  PoisonMessage,
  RecvOptions,
  ReleasedClaims,
  ReleaseOptions,
  SendOptions,
} from './channel/index.js';
export { channel } from './channel/index.js';
export { ErrorCode, HotshmError } from './errors.js';
export type { FrameBuffer, FrameBufferOptions, FrontFrame, PixelFormat } from './frames/index.js';
export { framebuffer } from './frames/index.js';
export type {
  CrashEvent,
  HostEvents,
  HostStats,
  MigrateEvent,
  MigrateReason,
  OutputSink,
  ProcessHost,
  ProcessHostStats,
  ReloadEvent,
  ReloadReason,
  ReloadTimings,
  RendererHost,
  ThreadHost,
} from './host/events.js';
export type { Region } from './memory/index.js';
export type { HostOptions, OwnerOptions, OwnerState, StateDefinition } from './owner.js';
export { defineState } from './owner.js';
export type {
  Access,
  ArrayAccess,
  Cell,
  FieldOptions,
  Infer,
  Schema,
  StringAccess,
  StructAccess,
  VecAccess,
  WriteOptions,
} from './schema/index.js';
export {
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
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
} from './schema/index.js';
export type {
  RegionRepair,
  ReloadableState,
  StateFields,
  StateSpec,
} from './state/define.js';
export type { ChannelCarry, MigrationReport } from './state/migrate.js';
