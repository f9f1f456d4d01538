/**
 * A framebuffer field: the renderer draws into a back buffer and presents it; the owner shows the
 * front buffer straight from shared memory (pointer and length for SDL_UpdateTexture) and never
 * sees a half-written frame.
 *
 * Layout (offsets from the field):
 *   0   control line: front, epoch, reading, readingWaiters, frameCounter, frame number of each
 *       buffer (see `Slot`)
 *   64  four pixel buffers of u32 pixels in the field's format (ARGB8888 unless it says
 *       otherwise), each on a 64-byte boundary
 *
 * Four buffers, two per epoch parity: the renderer of epoch E only ever writes buffers 2*(E&1) and
 * 2*(E&1)+1. While the supervisor swaps renderers, the old one (E) may still be drawing; it can
 * only scribble into its own pair, never into the buffers of its successor (E+1). (A renderer two
 * reloads old, E-2 beside E, would share a pair: the supervisor stops a replaced renderer before
 * the next one is started, so that never happens.)
 *
 * `front` packs (epoch << 3) | VALID | bufferIndex: one word names the frame shown and the epoch,
 * so one compare-and-swap publishes a frame only if nothing changed since the renderer looked.
 * Fresh memory is all zeros, which reads as "no frame yet".
 *
 * The epoch that may present lives in this control line rather than in the region header: the
 * framebuffer is then self-contained (any region, any test), and `beginFrameEpoch` can retag the
 * front word in the same step, which is what shuts out a replaced renderer without a race (see
 * there). It is the state layer's, not the API's: a renderer begins its own epoch when it gets its
 * state (`reloadable()`), and the owner gives the floor back to an older one; both through the
 * state layer, which bumps the header epoch with it.
 */

import { InvalidArgumentError, SchemaError, ValueError } from '../errors.js';
import { describe } from '../schema/shared.js';
import type { BindContext, Schema } from '../schema/types.js';
import { type SharedWord, sharedWord, waitSync, wake } from '../sync/index.js';

/** Largest width or height accepted (SDL's usual texture limit). */
export const MAX_FRAME_SIDE = 16384;
/** Epochs are positive integers below 2^29: they share the front word with 3 bits. */
export const MAX_EPOCH = 2 ** 29 - 1;
/**
 * How a pixel's four bytes sit in its 32-bit word, named as SDL names them (the word from its
 * high byte down; the bytes in memory are the reverse on a little-endian machine):
 * - `argb8888`: words 0xAARRGGBB, bytes B, G, R, A — SDL_PIXELFORMAT_ARGB8888, the default;
 * - `abgr8888`: words 0xAABBGGRR, bytes R, G, B, A — SDL_PIXELFORMAT_ABGR8888 (RGBA32), the order
 *   Skia (canvaskit-wasm) draws in at full speed.
 * The window uploads the frame in its own format: nothing converts pixels.
 */
export type PixelFormat = 'argb8888' | 'abgr8888';
const FORMATS: readonly PixelFormat[] = ['argb8888', 'abgr8888'];

export interface FrameBufferOptions {
  /** The pixels' format (default `argb8888`). Part of the layout: both sides must agree. */
  readonly format?: PixelFormat;
}

const LINE = 64;
const BUFFERS = 4;
const VALID = 4;
const INDEX_MASK = 3;
const EPOCH_SHIFT = 3;
/** `reading` when the owner holds no buffer (otherwise bufferIndex + 1). */
const NOT_READING = 0;

/** Index of each control word in the field's Int32Array. */
const Slot = {
  /** (epoch << 3) | VALID | bufferIndex of the frame on screen; 0 before the first present. */
  front: 0,
  /** The epoch allowed to present. */
  epoch: 1,
  /** bufferIndex + 1 of the buffer the owner is copying, or 0. */
  reading: 2,
  /** Renderers parked until `reading` changes. */
  readingWaiters: 3,
  /** Frames presented so far (u32, wrapping). */
  frameCounter: 4,
  /** Frame number held by buffer i, at frameNumber + i. */
  frameNumber: 5,
} as const;
const CONTROL_WORDS = LINE / 4;

/** How long a renderer waits for the owner to finish copying before it looks again. */
const READING_WAIT_SLICE_MS = 50;

/** What the owner gets from `acquireFront`: the shown frame, zero-copy. */
export interface FrontFrame {
  /** The pixels in the field's `format`, row after row (`stride` pixels per row). Valid until `releaseFront`. */
  readonly pixels: Uint32Array;
  /** Native address of the first pixel: hand it to SDL_UpdateTexture without copying. */
  readonly address: bigint;
  readonly byteLength: number;
  /** Bytes per row. */
  readonly pitch: number;
  /** Number of the frame (1 for the first present, counting across renderers). */
  readonly frame: number;
  /** Epoch of the renderer that presented it (or the epoch begun since, see beginFrameEpoch). */
  readonly epoch: number;
}

/** The accessor of a framebuffer field. */
export interface FrameBuffer {
  readonly width: number;
  readonly height: number;
  /** How each pixel's word is laid out: upload the frames in this format. */
  readonly format: PixelFormat;
  /** Pixels per row in the Uint32Arrays (equal to width: rows are packed). */
  readonly stride: number;
  /** Bytes per row (stride * 4). */
  readonly pitch: number;
  /** Bytes of one frame. */
  readonly byteLength: number;
  /** The epoch currently allowed to present. */
  readonly epoch: number;

  /**
   * Renderer: the buffer to draw the next frame into (neither the one on screen nor the one the
   * owner is copying). The same buffer until `present()`. Its content is an older frame of this
   * renderer's pair, or zeros: draw every pixel.
   */
  back(): Uint32Array;
  /**
   * Renderer: publishes the back buffer as the new front. False (and nothing shown) if the owner
   * has begun another epoch since: this renderer has been replaced.
   */
  present(): boolean;

  /** Owner: the frame on screen, held until `releaseFront()`; null before the first present. */
  acquireFront(): FrontFrame | null;
  /** Owner: done copying the held frame. */
  releaseFront(): void;
  /** Frames presented so far, by any renderer. */
  frameCount(): number;
}

const BEGIN_EPOCH: unique symbol = Symbol('hotshm.frames.beginEpoch');

/**
 * What a framebuffer needs to know of the side it is bound on: the writer epoch of the renderer
 * drawing (it draws into its epoch's pair of buffers and presents while the region's epoch is its
 * own). The state layer's context implements it; a plain `BindContext` draws as the first
 * renderer does, epoch 1.
 */
export interface FrameEndpoint {
  readonly epoch: number;
}

function epochOf(ctx: BindContext): number {
  const epoch = (ctx as Partial<FrameEndpoint>).epoch;
  return typeof epoch === 'number' ? epoch : 1;
}

function checkEpoch(epoch: unknown, where: string): asserts epoch is number {
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH) {
    throw new InvalidArgumentError(
      `${where}: expected an epoch, an integer in [1, ${MAX_EPOCH}], got ${describe(epoch)}`,
    );
  }
}

class SharedFrameBuffer implements FrameBuffer {
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
  readonly stride: number;
  readonly pitch: number;
  readonly byteLength: number;
  readonly #ctx: BindContext;
  /** The writer epoch of the side this is bound on (see FrameEndpoint). */
  readonly #epoch: number;
  readonly #path: string;
  readonly #i32: Int32Array;
  readonly #pixels: readonly Uint32Array[];
  readonly #addresses: readonly bigint[];
  readonly #reading: SharedWord;
  /** The back buffer handed out by back() and not yet presented, or -1. */
  #pending = -1;

  constructor(
    ctx: BindContext,
    offset: number,
    width: number,
    height: number,
    format: PixelFormat,
    bufferBytes: number,
    path: string,
  ) {
    this.#ctx = ctx;
    this.#epoch = epochOf(ctx);
    this.#path = path;
    this.width = width;
    this.height = height;
    this.format = format;
    this.stride = width;
    this.pitch = width * 4;
    this.byteLength = width * height * 4;
    this.#i32 = new Int32Array(ctx.buffer, offset, CONTROL_WORDS);
    const pixels: Uint32Array[] = [];
    const addresses: bigint[] = [];
    for (let i = 0; i < BUFFERS; i++) {
      const at = offset + LINE + i * bufferBytes;
      pixels.push(new Uint32Array(ctx.buffer, at, width * height));
      addresses.push(ctx.address + BigInt(at));
    }
    this.#pixels = pixels;
    this.#addresses = addresses;
    this.#reading = sharedWord(
      ctx.buffer,
      ctx.address,
      offset + Slot.reading * 4,
      offset + Slot.readingWaiters * 4,
    );
  }

  get epoch(): number {
    this.#open();
    return Atomics.load(this.#i32, Slot.epoch);
  }

  #open(): void {
    this.#ctx.assertOpen(`framebuffer ${this.#path}`);
  }

  back(): Uint32Array {
    this.#open();
    if (this.#pending >= 0) return this.#pixels[this.#pending]!;
    const first = 2 * (this.#epoch & 1);
    for (let spins = 0; ; spins++) {
      const front = Atomics.load(this.#i32, Slot.front);
      const shown = (front & VALID) !== 0 ? front & INDEX_MASK : -1;
      // Read AFTER front: if the owner is between "store reading" and its re-check of front, its
      // re-check fails unless front is still what we just read (see acquireFront).
      const reading = Atomics.load(this.#i32, Slot.reading);
      for (let b = first; b < first + 2; b++) {
        if (b !== shown && b + 1 !== reading) {
          this.#pending = b;
          return this.#pixels[b]!;
        }
      }
      // One of our pair is on screen and the owner is still copying the other (an older front):
      // its copy is short. Spin a little, then sleep until it releases.
      if (spins < 1000) continue;
      this.#open();
      waitSync(this.#reading, reading, READING_WAIT_SLICE_MS);
    }
  }

  present(): boolean {
    this.#open();
    const b = this.#pending;
    if (b < 0) {
      throw new InvalidArgumentError(
        `framebuffer ${this.#path}: present() needs a frame drawn into back() first, got none since the last present`,
      );
    }
    this.#pending = -1;
    const epoch = this.#epoch;
    const frame = (Atomics.load(this.#i32, Slot.frameCounter) + 1) | 0;
    // Written while the buffer is still ours (neither front nor being read), before the publish.
    Atomics.store(this.#i32, Slot.frameNumber + b, frame);
    const next = (epoch << EPOCH_SHIFT) | VALID | b;
    for (;;) {
      const current = Atomics.load(this.#i32, Slot.front);
      // Checked after reading front, and the CAS below fails if front moved since:
      // beginFrameEpoch stores the epoch THEN retags front, so a renderer it replaced either sees
      // the new epoch here or loses the CAS and sees it on the next turn. No stale frame lands
      // after beginFrameEpoch returns.
      if (Atomics.load(this.#i32, Slot.epoch) !== epoch) return false;
      // The pixel writes above happen-before this CAS: the owner that reads the new front sees
      // the whole frame.
      if (Atomics.compareExchange(this.#i32, Slot.front, current, next) === current) break;
    }
    Atomics.add(this.#i32, Slot.frameCounter, 1);
    return true;
  }

  acquireFront(): FrontFrame | null {
    this.#open();
    let front: number;
    for (;;) {
      front = Atomics.load(this.#i32, Slot.front);
      if ((front & VALID) === 0) return null;
      // Announce the buffer first, then check it is still the front: if it is, any renderer
      // choosing a back buffer from now on reads `reading` after this store and avoids it; if it
      // is not, a renderer may already be drawing into it, so start again with the new front.
      Atomics.store(this.#i32, Slot.reading, (front & INDEX_MASK) + 1);
      if (Atomics.load(this.#i32, Slot.front) === front) break;
    }
    const b = front & INDEX_MASK;
    return {
      pixels: this.#pixels[b]!,
      address: this.#addresses[b]!,
      byteLength: this.byteLength,
      pitch: this.pitch,
      frame: Atomics.load(this.#i32, Slot.frameNumber + b) >>> 0,
      epoch: front >>> EPOCH_SHIFT,
    };
  }

  releaseFront(): void {
    this.#open();
    Atomics.store(this.#i32, Slot.reading, NOT_READING);
    // After the store: a renderer parked for a free buffer wakes (syscall only if one sleeps).
    wake(this.#reading);
  }

  frameCount(): number {
    this.#open();
    return Atomics.load(this.#i32, Slot.frameCounter) >>> 0;
  }

  [BEGIN_EPOCH](epoch: number): void {
    checkEpoch(epoch, `framebuffer ${this.#path}: beginEpoch`);
    this.#open();
    // First the epoch, then retag front: see present(). Retagging changes the front word
    // without changing the frame, so a present() that read front before this store fails its CAS.
    Atomics.store(this.#i32, Slot.epoch, epoch);
    for (;;) {
      const current = Atomics.load(this.#i32, Slot.front);
      const retagged = (epoch << EPOCH_SHIFT) | (current & (VALID | INDEX_MASK));
      if (Atomics.compareExchange(this.#i32, Slot.front, current, retagged) === current) return;
    }
  }
}

/**
 * State layer only: from now on only the renderer of `epoch` may present to `fb`. Frames of
 * earlier renderers are refused from the moment it returns. Not on `FrameBuffer`: a renderer that
 * could call it would lock every other renderer out.
 */
export function beginFrameEpoch(fb: FrameBuffer, epoch: number): void {
  const begin = (fb as Partial<Record<typeof BEGIN_EPOCH, (epoch: number) => void>>)[BEGIN_EPOCH];
  if (typeof begin !== 'function') {
    throw new InvalidArgumentError(
      `beginFrameEpoch: expected a framebuffer bound by its schema, got ${describe(fb)}`,
    );
  }
  begin.call(fb, epoch);
}

/** What `carryFrame` did. */
export interface CarriedFrame {
  /** False when the old framebuffer had no frame yet. */
  readonly carried: boolean;
  /** Rows × columns copied (the overlap of the two sizes). */
  readonly width: number;
  readonly height: number;
}

/**
 * State layer only (a migration): shows the frame on screen in `from` as the front of `to`, a
 * framebuffer in a fresh region, for the renderer of `epoch`, and carries the frame counter.
 * A size change copies the overlapping rectangle (the top-left corner); the rest stays zero.
 *
 * The old front is held the way the owner holds it for SDL (`acquireFront`), so a renderer of
 * the old region still presenting cannot draw into it while it is copied. The frame lands in the
 * pair of the epoch before `epoch` (as if the renderer it replaced had presented it), so the new
 * renderer has both of its own buffers to draw into; `to`'s control line is written before
 * anyone else can see the region (the caller publishes the region afterwards).
 */
export function carryFrame(
  from: FrameBuffer,
  toCtx: BindContext,
  toOffset: number,
  to: FrameBufferSchema,
  epoch: number,
): CarriedFrame {
  checkEpoch(epoch, 'carryFrame');
  const i32 = new Int32Array(toCtx.buffer, toOffset, CONTROL_WORDS);
  const bufferBytes = Math.ceil((to.width * to.height * 4) / LINE) * LINE;
  const target = 2 * ((epoch + 1) & 1);
  const front = from.acquireFront();
  Atomics.store(i32, Slot.epoch, epoch);
  if (front === null) {
    from.releaseFront();
    return { carried: false, width: 0, height: 0 };
  }
  try {
    const dst = new Uint32Array(
      toCtx.buffer,
      toOffset + LINE + target * bufferBytes,
      to.width * to.height,
    );
    const width = Math.min(from.width, to.width);
    const height = Math.min(from.height, to.height);
    if (from.width === to.width) {
      dst.set(front.pixels.subarray(0, width * height));
    } else {
      for (let y = 0; y < height; y++) {
        dst.set(front.pixels.subarray(y * from.stride, y * from.stride + width), y * to.width);
      }
    }
    Atomics.store(i32, Slot.frameNumber + target, front.frame | 0);
    Atomics.store(i32, Slot.frameCounter, from.frameCount() | 0);
    Atomics.store(i32, Slot.front, (epoch << EPOCH_SHIFT) | VALID | target);
    return { carried: true, width, height };
  } finally {
    from.releaseFront();
  }
}

/**
 * State layer only: touches one byte per page of the two buffers `carryFrame` may write the
 * carried front into (which one depends on the epoch, known only at the commit), so the commit
 * copies into memory already mapped instead of taking a page fault every 4 KiB. Call it on fresh
 * (all-zero) bytes: it writes zeros.
 */
export function prefaultCarry(
  buffer: ArrayBuffer,
  offset: number,
  schema: FrameBufferSchema,
): void {
  const bufferBytes = Math.ceil((schema.width * schema.height * 4) / LINE) * LINE;
  const bytes = new Uint8Array(buffer);
  for (const b of [0, 2]) {
    const start = offset + LINE + b * bufferBytes;
    for (let at = start; at < start + bufferBytes; at += 4096) bytes[at] = 0;
  }
}

/** The schema of a framebuffer field. */
export interface FrameBufferSchema extends Schema<never, FrameBuffer> {
  readonly kind: 'framebuffer';
  readonly topLevelOnly: true;
  readonly width: number;
  readonly height: number;
  readonly format: PixelFormat;
}

/**
 * A width × height framebuffer (ARGB8888 words unless `format` says otherwise), as a top-level
 * state field.
 *
 * @example
 * const State = defineState({
 *   name: 'demo',
 *   reloadable: new URL('./renderer.ts', import.meta.url),
 *   args: struct({ width: u16, height: u16 }),
 *   fields: ({ width, height }) => ({ screen: framebuffer(width, height) }),
 * });
 * const s = State.reloadable();                   // renderer
 * s.screen.back().fill(0xff202020);
 * s.screen.present();
 * const state = await State.owner({ width: 640, height: 480 }); // owner
 * const front = state.screen.acquireFront();      // null until the first present
 * if (front !== null) {
 *   SDL_UpdateTexture(texture, null, front.address, front.pitch); // zero-copy
 *   state.screen.releaseFront();
 * }
 */
export function framebuffer(
  width: number,
  height: number,
  options: FrameBufferOptions = {},
): FrameBufferSchema {
  for (const [what, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_FRAME_SIDE) {
      throw new SchemaError(
        `framebuffer: ${what}: expected an integer in [1, ${MAX_FRAME_SIDE}], got ${describe(v)}`,
      );
    }
  }
  const format = options.format ?? 'argb8888';
  if (!FORMATS.includes(format)) {
    throw new SchemaError(
      `framebuffer: format: expected ${FORMATS.map((f) => `'${f}'`).join(' or ')}, got ${describe(format)}`,
    );
  }
  const bufferBytes = Math.ceil((width * height * 4) / LINE) * LINE;
  const size = LINE + BUFFERS * bufferBytes;
  const signature = `framebuffer(${width}x${height},${format},buffers=${BUFFERS})`;
  const noValue = (): never => {
    throw new SchemaError(`${signature} has no plain value: use the bound FrameBuffer`);
  };
  return {
    kind: 'framebuffer',
    topLevelOnly: true,
    width,
    height,
    format,
    size,
    align: LINE,
    signature,
    read: noValue,
    write: noValue,
    check(value: unknown, path: string): void {
      throw new ValueError(
        `${path}: a framebuffer field holds no value, got ${describe(value)}: draw into back() instead`,
      );
    },
    bind(ctx: BindContext, offset: number, path?: string): FrameBuffer {
      if (offset % LINE !== 0) {
        throw new SchemaError(`${signature}: expected an offset aligned to ${LINE}, got ${offset}`);
      }
      return new SharedFrameBuffer(
        ctx,
        offset,
        width,
        height,
        format,
        bufferBytes,
        path ?? 'framebuffer',
      );
    },
    init(view: DataView, offset: number): void {
      // The first renderer has epoch 1 (see state/runtime.ts): it may present without a
      // beginFrameEpoch. Fresh memory is zero, which already means "no frame, nobody reading".
      view.setUint32(offset + Slot.epoch * 4, 1, true);
    },
  };
}
