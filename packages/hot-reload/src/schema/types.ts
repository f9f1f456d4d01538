/**
 * The contract every layout type implements. A schema is a value: it knows its byte size, its C
 * alignment, a canonical signature (for fingerprints and diffs), how to encode and decode a plain
 * value at an offset, and how to bind a zero-copy accessor over a mapped region. `Infer<S>` is the
 * plain TypeScript value type and `Access<S>` the accessor type, both derived from the schema, so
 * a layout is written once.
 */

/** What an accessor needs from the region it is bound to. */
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
  /** Which side this process is on. */
  readonly role: 'owner' | 'reloadable';
  /**
   * The writer epoch of this side: the owner bumps it for each new renderer, and a renderer
   * presents frames only while the region's epoch is still its own.
   */
  readonly epoch: number;
  /** Wakes processes that wait on the region's doorbell (async channel receivers). */
  ringDoorbell(): void;
  /**
   * Closed while this renderer may still overlap with the one it replaces: channels are
   * single-producer, so its sends are held in order until the old renderer is gone. Absent (always
   * open) for the owner and for worker threads.
   */
  readonly producerGate?: ProducerGate;
  /**
   * True once the owner has stopped or replaced this renderer: its channels close (receives end,
   * `for await` loops finish) so that its `main()` can return. Absent or false for the owner.
   */
  readonly retired?: boolean;
  /**
   * True while a newer renderer has begun its epoch (it has its state): messages queued from then
   * on are its own, so this one commits no take, and each message is received in order by the
   * current renderer. Not final, unlike `retired`: if the newer one fails to start, the owner
   * gives the floor back and this one takes again. Absent or false for the owner.
   */
  readonly superseded?: boolean;
  /**
   * Owner side only: a field found damaged while in use (a ring index out of range, a message
   * that does not decode) is repaired by its accessor, which reports it here instead of throwing
   * into the owner's frame loop. Absent: accessors throw `CorruptRegionError`.
   */
  readonly onCorrupt?: (what: string) => void;
}

export interface ProducerGate {
  readonly open: boolean;
  /** Calls `listener` once the gate opens (at once if it is open). */
  whenOpen(listener: () => void): void;
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
