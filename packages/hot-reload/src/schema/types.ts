/**
 * The contract every layout type implements. A schema is a value: it knows its byte size, its C
 * alignment, a canonical signature (for fingerprints and diffs), how to encode and decode a plain
 * value at an offset, and how to bind a zero-copy accessor over a mapped region. `Infer<S>` is the
 * plain TypeScript value type and `Access<S>` the accessor type, both derived from the schema, so
 * a layout is written once.
 */

/**
 * What an accessor needs from the region it is bound to: its bytes, its address, and whether it
 * is still open. Nothing about who uses it: the channel and frames layers define what they need
 * to know of the side they are bound on (`ChannelEndpoint`, `FrameEndpoint`), and the state
 * layer's context implements those too.
 */
export interface BindContext {
  /** The name of the region, for error messages. */
  readonly regionName: string;
  /** The whole mapping, zero-copy. Offsets passed to `bind` are from its start. */
  readonly buffer: ArrayBuffer;
  /** A DataView over the whole mapping. */
  readonly view: DataView;
  /** Native address of byte 0 of the mapping (for futex words and for handing pixels to C). */
  readonly address: bigint;
  /** True once the region is closed; accessors must then throw `RegionClosedError`. */
  readonly closed: boolean;
  /** Throws `RegionClosedError` if the region is closed. */
  assertOpen(what?: string): void;
}

export interface WriteOptions {
  /** Cut strings and vecs that are over capacity (at a code-point boundary) instead of throwing. */
  readonly truncate?: boolean;
}

export interface Schema<T = unknown, A = unknown> {
  /** The kind of type: 'u32', 'struct', 'fixedString'… */
  readonly kind: string;
  /** Byte size, including trailing padding (a multiple of `align`). */
  readonly size: number;
  /** C alignment in bytes. */
  readonly align: number;
  /** Canonical, stable description of the whole type (sizes and offsets included). */
  readonly signature: string;
  /**
   * True for types that only make sense as top-level state fields (channels, framebuffers): they
   * cannot be nested in structs, arrays or vecs and have no plain value.
   */
  readonly topLevelOnly?: boolean;
  /** Decodes the value at `offset`. */
  read(view: DataView, offset: number): T;
  /** Encodes `value` at `offset`, after checking it fits (throws ValueError/CapacityError). */
  write(view: DataView, offset: number, value: T, options?: WriteOptions): void;
  /** Throws `ValueError` naming `path` when `value` is not a valid `T`. */
  check(value: unknown, path: string): void;
  /**
   * Builds the zero-copy accessor for a field of this type at `offset`; `path` names the field in
   * error messages (`memory.clicks: expected an integer in [0, 4294967295], got -1`).
   */
  bind(ctx: BindContext, offset: number, path?: string): A;
  /** Prepares fresh bytes at `offset` when the owner creates the region (all bytes start at 0). */
  init?(view: DataView, offset: number): void;
  /**
   * Checks bytes read from shared memory before any accessor uses them (channel indices in range,
   * lengths within capacity); throws `CorruptRegionError`.
   */
  verify?(view: DataView, offset: number, path: string): void;
  /**
   * Owner side, for top-level fields with control words (channels): puts a damaged field back in
   * a usable state and says what was wrong, or returns undefined when nothing was. `deep` also
   * checks the values it holds (costlier: after a renderer crashed, not on every timer tick).
   */
  repair?(view: DataView, offset: number, path: string, deep: boolean): string | undefined;
}

/** The plain TypeScript value type of a schema. */
export type Infer<S> = S extends Schema<infer T, unknown> ? T : never;
/** The accessor type a schema binds to. */
export type Access<S> = S extends Schema<unknown, infer A> ? A : never;
