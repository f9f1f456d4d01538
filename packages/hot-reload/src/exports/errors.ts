/**
 * `@hotshm/hot-reload/errors`: every error class the library throws or reports, one per kind of
 * failure, each a `HotshmError` with a stable `code` (`ErrorCode`), a message that says what was
 * expected and what came, and a `cause` when there is one. The root exports `HotshmError` and
 * `ErrorCode` only: catch everything with `instanceof HotshmError` or by `code`, and import a
 * class from here to tell one failure from another.
 *
 * @example
 * import { EntryNotFoundError } from '@hotshm/hot-reload/errors';
 * try {
 *   await State.owner(args);
 * } catch (e) {
 *   if (e instanceof EntryNotFoundError) console.error('no renderer module:', e.message);
 *   else throw e;
 * }
 */
export type { BuildMessage } from '../errors.js';
export {
  BadMagicError,
  BuildError,
  CanvasError,
  CapacityError,
  ChannelClosedError,
  ChannelFullError,
  CorruptRegionError,
  EntryNotFoundError,
  ErrorCode,
  HotshmError,
  IncompatibleChangeError,
  InvalidArgumentError,
  LayoutMismatchError,
  NativeCallError,
  NotReloadableError,
  OwnerBuildError,
  OwnerGoneError,
  RegionClosedError,
  RegionExistsError,
  RegionNotFoundError,
  RegionNotReadyError,
  RegionSystemError,
  RendererCrashError,
  RendererStartError,
  SchemaError,
  SizeMismatchError,
  SpawnError,
  TimeoutError,
  UnsafeDirectoryError,
  UnsupportedPlatformError,
  ValueError,
  VersionMismatchError,
} from '../errors.js';
