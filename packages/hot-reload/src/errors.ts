/**
 * Every failure the library reports is one of these classes. Each has a stable `code`, a message
 * that says what was expected and what came, and an optional `cause`. Programmer errors (bad
 * arguments, values that do not fit) throw; runtime failures of a renderer host (a build that
 * fails, a renderer that crashes) go to its events, where they carry one of these too. The same
 * failure is the same class in both modes (a renderer process or a worker thread).
 */

export const ErrorCode = {
  InvalidArgument: 'HOTSHM_INVALID_ARGUMENT',
  Schema: 'HOTSHM_SCHEMA',
  ValueOutOfRange: 'HOTSHM_VALUE_OUT_OF_RANGE',
  Capacity: 'HOTSHM_CAPACITY',
  RegionClosed: 'HOTSHM_REGION_CLOSED',
  RegionExists: 'HOTSHM_REGION_EXISTS',
  RegionNotFound: 'HOTSHM_REGION_NOT_FOUND',
  RegionSystem: 'HOTSHM_REGION_SYSTEM',
  BadMagic: 'HOTSHM_BAD_MAGIC',
  VersionMismatch: 'HOTSHM_VERSION_MISMATCH',
  LayoutMismatch: 'HOTSHM_LAYOUT_MISMATCH',
  SizeMismatch: 'HOTSHM_SIZE_MISMATCH',
  RegionNotReady: 'HOTSHM_REGION_NOT_READY',
  OwnerGone: 'HOTSHM_OWNER_GONE',
  CorruptRegion: 'HOTSHM_CORRUPT_REGION',
  ChannelFull: 'HOTSHM_CHANNEL_FULL',
  UnsupportedPlatform: 'HOTSHM_UNSUPPORTED_PLATFORM',
  NotReloadable: 'HOTSHM_NOT_RELOADABLE',
  Build: 'HOTSHM_BUILD',
  EntryNotFound: 'HOTSHM_ENTRY_NOT_FOUND',
  Timeout: 'HOTSHM_TIMEOUT',
  Spawn: 'HOTSHM_SPAWN',
  RendererStart: 'HOTSHM_RENDERER_START',
  RendererCrash: 'HOTSHM_RENDERER_CRASH',
  ChannelClosed: 'HOTSHM_CHANNEL_CLOSED',
  UnsafeDirectory: 'HOTSHM_UNSAFE_DIRECTORY',
  Migration: 'HOTSHM_MIGRATION',
  IncompatibleChange: 'HOTSHM_INCOMPATIBLE_CHANGE',
  NativeCall: 'HOTSHM_NATIVE_CALL',
  BackendUnavailable: 'HOTSHM_BACKEND_UNAVAILABLE',
  WindowFrame: 'HOTSHM_WINDOW_FRAME',
  OwnerBuild: 'HOTSHM_OWNER_BUILD',
  Canvas: 'HOTSHM_CANVAS',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class HotshmError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A public function was called with an argument of the wrong type or range. */
export class InvalidArgumentError extends HotshmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidArgument, message, options);
  }
}

/** A schema cannot be built as asked (bad size, unknown field, a channel nested in a struct…). */
export class SchemaError extends HotshmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Schema, message, options);
  }
}

/** A value does not fit its schema: wrong type, out of the integer range, wrong length. */
export class ValueError extends HotshmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ValueOutOfRange, message, options);
  }
}

/** A fixed-capacity string or vec was given more than it holds. */
export class CapacityError extends HotshmError {
  readonly capacity: number;
  readonly given: number;
  constructor(what: string, capacity: number, given: number, unit = 'bytes') {
    super(ErrorCode.Capacity, `${what}: expected at most ${capacity} ${unit}, got ${given}`);
    this.capacity = capacity;
    this.given = given;
  }
}

/** An accessor was used after its region was closed. */
export class RegionClosedError extends HotshmError {
  constructor(regionName: string, what = 'field') {
    super(
      ErrorCode.RegionClosed,
      `region ${regionName} is closed: this ${what} can no longer be used`,
    );
  }
}

/** Creating a region failed because the name is taken (never opened as ours). */
export class RegionExistsError extends HotshmError {
  constructor(name: string, options?: { cause?: unknown }) {
    super(ErrorCode.RegionExists, `region ${name} already exists: expected a fresh name`, options);
  }
}

/** Opening a region failed because no region has that name. */
export class RegionNotFoundError extends HotshmError {
  constructor(name: string, options?: { cause?: unknown }) {
    super(ErrorCode.RegionNotFound, `region ${name} does not exist`, options);
  }
}

/** An OS call on a region failed (shm_open, ftruncate, mmap, fallocate…). */
export class RegionSystemError extends HotshmError {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, detail: string, options?: { cause?: unknown }) {
    super(ErrorCode.RegionSystem, `${syscall} failed: ${detail} (errno ${errno})`, options);
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** The region does not start with hotshm's magic number. */
export class BadMagicError extends HotshmError {
  constructor(name: string, expected: number, got: number) {
    super(
      ErrorCode.BadMagic,
      `region ${name} is not a hotshm region: expected magic 0x${expected.toString(16)}, got 0x${got.toString(16)}`,
    );
  }
}

/** The region was written by another format version of this library. */
export class VersionMismatchError extends HotshmError {
  constructor(name: string, expected: number, got: number) {
    super(
      ErrorCode.VersionMismatch,
      `region ${name} has format version ${got}, expected ${expected}: owner and reloadable use different @hotshm/hot-reload versions`,
    );
  }
}

/** The two sides disagree about the layout of the region. */
export class LayoutMismatchError extends HotshmError {
  readonly differences: readonly string[];
  constructor(name: string, expected: string, got: string, differences: readonly string[]) {
    const detail = differences.length > 0 ? `: ${differences.join('; ')}` : '';
    super(
      ErrorCode.LayoutMismatch,
      `region ${name} has layout ${got}, expected ${expected}${detail}`,
    );
    this.differences = differences;
  }
}

/** The region is smaller (or larger) than its header or schema says. */
export class SizeMismatchError extends HotshmError {
  constructor(message: string) {
    super(ErrorCode.SizeMismatch, message);
  }
}

/** The owner has not finished initialising the region. */
export class RegionNotReadyError extends HotshmError {
  constructor(name: string) {
    super(
      ErrorCode.RegionNotReady,
      `region ${name} is not ready: its owner has not finished creating it`,
    );
  }
}

/** The process that owns the region is gone. */
export class OwnerGoneError extends HotshmError {
  constructor(name: string, pid: number) {
    super(ErrorCode.OwnerGone, `the owner of region ${name} (pid ${pid}) is gone`);
  }
}

/** Bytes in the region contradict its layout (a channel index out of range…). */
export class CorruptRegionError extends HotshmError {
  constructor(message: string) {
    super(ErrorCode.CorruptRegion, message);
  }
}

/** `send` with `{ onFull: 'throw' }` found the channel full. */
export class ChannelFullError extends HotshmError {
  constructor(name: string, capacity: number) {
    super(
      ErrorCode.ChannelFull,
      `channel ${name} is full: it holds ${capacity} messages and none has been received`,
    );
  }
}

/** No module for this operating system. */
export class UnsupportedPlatformError extends HotshmError {
  constructor(what: string, platform: string = process.platform) {
    super(
      ErrorCode.UnsupportedPlatform,
      `${what} is not supported on ${platform}: expected linux, darwin or win32`,
    );
  }
}

/** `State.reloadable()` was called outside a process or worker started by `State.owner()`. */
export class NotReloadableError extends HotshmError {
  constructor(message: string) {
    super(ErrorCode.NotReloadable, message);
  }
}

/** One message of a failed build: esbuild's text, and where it points when it points somewhere. */
export interface BuildMessage {
  /** esbuild's message, formatted with file, line and a code frame. */
  readonly text: string;
  /** `/abs/path/file.ts:line:column`, or undefined for messages about no file. */
  readonly location: string | undefined;
}

/** The reloadable's entry did not build (a syntax or type-stripping error, an unresolved import). */
export class BuildError extends HotshmError {
  readonly messages: readonly string[];
  readonly locations: readonly string[];
  readonly buildMs: number;
  constructor(entry: string, messages: readonly BuildMessage[], buildMs = 0) {
    const first = messages[0]?.text.split('\n')[0] ?? 'no message';
    super(
      ErrorCode.Build,
      `the reloadable ${entry} does not build: ${first}${messages.length > 1 ? ` (and ${messages.length - 1} more)` : ''}`,
    );
    this.messages = messages.map((m) => m.text);
    this.locations = messages.map((m) => m.location ?? '(no location)');
    this.buildMs = buildMs;
  }
}

/** The owner module that `hotshm dev` or `hotshm start` runs did not build. */
export class OwnerBuildError extends HotshmError {
  readonly messages: readonly string[];
  readonly locations: readonly string[];
  constructor(owner: string, messages: readonly BuildMessage[]) {
    const first = messages[0]?.text.split('\n')[0] ?? 'no message';
    super(
      ErrorCode.OwnerBuild,
      `the owner ${owner} does not build: ${first}${messages.length > 1 ? ` (and ${messages.length - 1} more)` : ''}`,
    );
    this.messages = messages.map((m) => m.text);
    this.locations = messages.map((m) => m.location ?? '(no location)');
  }
}

/** The reloadable's entry (a package name, a path or a URL) cannot be found. */
export class EntryNotFoundError extends HotshmError {
  readonly entry: string;
  constructor(entry: string, detail: string, options?: { cause?: unknown }) {
    super(ErrorCode.EntryNotFound, `cannot find the reloadable ${entry}: ${detail}`, options);
    this.entry = entry;
  }
}

/** A wait with a deadline ran out (`recv({ timeoutMs })`, a renderer that never became ready). */
export class TimeoutError extends HotshmError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super(ErrorCode.Timeout, message);
    this.timeoutMs = timeoutMs;
  }
}

/** A renderer process or worker could not be started at all (EMFILE, EAGAIN, a missing file…). */
export class SpawnError extends HotshmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Spawn, message, options);
  }
}

/**
 * A renderer failed before it became ready: its module threw while loading, `main` is missing or
 * threw, or it did not reach `State.reloadable()` in time. `stage` says which.
 */
export class RendererStartError extends HotshmError {
  /** import: loading the program; state: its state did not fit; main: in main(); timeout; exit. */
  readonly stage: 'import' | 'state' | 'main' | 'timeout' | 'exit';
  constructor(
    stage: 'import' | 'state' | 'main' | 'timeout' | 'exit',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.RendererStart, message, options);
    this.stage = stage;
  }
}

/** A renderer that was running ended on its own: an uncaught error, a non-zero exit, a signal. */
export class RendererCrashError extends HotshmError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  constructor(message: string, exitCode: number | null, signal: string | null) {
    super(ErrorCode.RendererCrash, message);
    this.exitCode = exitCode;
    this.signal = signal;
  }
}

/**
 * A renderer's channel was closed under it: the owner stopped this renderer or replaced it. `for
 * await` loops simply end; a pending `recv()` rejects with this.
 */
export class ChannelClosedError extends HotshmError {
  constructor(name: string, why: string) {
    super(ErrorCode.ChannelClosed, `channel ${name} is closed: ${why}`);
  }
}

/**
 * A directory hotshm keeps private files in (the owner's region records) is not safe to use: a
 * symbolic link, not a directory, owned by another user, or open to group or others.
 */
export class UnsafeDirectoryError extends HotshmError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(
      ErrorCode.UnsafeDirectory,
      `${path}: expected a directory owned by this user with mode 0700, got ${problem}; refusing to use it`,
    );
    this.path = path;
  }
}

/**
 * A new state definition removes or retypes a field the owner's code uses, so the owner cannot
 * carry on over the new layout: it must restart (its code is written for the old field). Also
 * thrown when the owner's code reaches such a field after a migration it did not use it in.
 */
export class IncompatibleChangeError extends HotshmError {
  /** The field, as the owner's code names it: `memory.clicks`. */
  readonly path: string;
  readonly reason: string;
  constructor(path: string, reason: string) {
    super(
      ErrorCode.IncompatibleChange,
      `the owner's code uses ${path}, but the new state definition ${reason}: the owner must restart to use the new definition`,
    );
    this.path = path;
    this.reason = reason;
  }
}

/**
 * A call into a C library could not be made: koffi could not bind the function or could not pass
 * an argument to it (an asynchronous call reports that to its callback). The call never reached
 * the system; `cause` is koffi's own error. A system call that ran and failed is a
 * `RegionSystemError` with its errno instead.
 */
export class NativeCallError extends HotshmError {
  readonly call: string;
  constructor(call: string, cause: unknown) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(ErrorCode.NativeCall, `expected koffi to call ${call}, it could not: ${detail}`, {
      cause,
    });
    this.call = call;
  }
}

/**
 * Drawing with Skia (`@hotshm/hot-reload/canvas`) cannot start: canvaskit-wasm is not installed
 * or failed to load, a surface could not be made, or a font file is not a font.
 */
export class CanvasError extends HotshmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.Canvas, message, options);
  }
}
