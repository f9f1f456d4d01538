/**
 * `fixedString(capacity)`: UTF-8 text of at most `capacity` bytes, stored in place as a u32 byte
 * length followed by `capacity` bytes (C: `struct { uint32_t len; uint8_t bytes[capacity]; }`).
 * Truncation never splits a code point: `TextEncoder.encodeInto` writes whole characters only.
 */
import { Buffer } from 'node:buffer';
import { CapacityError, CorruptRegionError, ValueError } from '../errors.js';
import {
  alignUp,
  assertCount,
  assertSize,
  defaultPath,
  describe,
  encode,
  type Internal,
  throwClosed,
  validate,
} from './shared.js';
import type { BindContext, Schema, WriteOptions } from './types.js';

/** The accessor of a fixed-capacity string. */
export interface StringAccess {
  /** Capacity in bytes of UTF-8. */
  readonly capacity: number;
  /** Current length in bytes of UTF-8. */
  readonly byteLength: number;
  get(): string;
  /** Throws CapacityError over capacity, unless `{ truncate: true }`. */
  set(value: string, options?: WriteOptions): void;
}

const LENGTH_BYTES = 4;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
// With the `u` flag a surrogate pair is one code point, so this matches lone surrogates only:
// UTF-8 cannot hold them (TextEncoder would silently write U+FFFD instead).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

export class FixedStringSchema implements Schema<string, StringAccess>, Internal<string> {
  readonly kind = 'fixedString';
  readonly size: number;
  readonly align = 4;
  readonly signature: string;
  readonly capacity: number;

  constructor(capacity: number) {
    assertCount(capacity, 'fixedString capacity (bytes)');
    this.capacity = capacity;
    this.size = alignUp(LENGTH_BYTES + capacity, this.align);
    assertSize(this.size, `fixedString(${capacity})`);
    this.signature = `fixedString<${capacity}>:${this.size}/${this.align}`;
  }

  read(view: DataView, offset: number): string {
    // A length over capacity can only come from corrupt bytes; clamping keeps the read inside
    // the field (`verify` reports it).
    const length = Math.min(view.getUint32(offset, true), this.capacity);
    return decoder.decode(
      new Uint8Array(view.buffer, view.byteOffset + offset + LENGTH_BYTES, length),
    );
  }

  write(view: DataView, offset: number, value: string, options?: WriteOptions): void {
    const truncate = options?.truncate === true;
    this[validate](value, 'value', truncate);
    this[encode](view, offset, value);
  }

  check(value: unknown, path: string): void {
    this[validate](value, path, false);
  }

  [validate](value: unknown, path: string, truncate: boolean): void {
    if (typeof value !== 'string') {
      throw new ValueError(`${path}: expected a string, got ${describe(value)}`);
    }
    if (LONE_SURROGATE.test(value)) {
      throw new ValueError(
        `${path}: expected a well-formed string, got one with a lone UTF-16 surrogate at index ${value.search(LONE_SURROGATE)}`,
      );
    }
    // Strings are UTF-16 in memory: fewer than capacity/3 code units always fit.
    if (!truncate && value.length * 3 > this.capacity) {
      const bytes = Buffer.byteLength(value, 'utf8');
      if (bytes > this.capacity) throw new CapacityError(path, this.capacity, bytes);
    }
  }

  /** Writes whole code points up to capacity, so an over-long string is cut at a boundary. */
  [encode](view: DataView, offset: number, value: string): void {
    const bytes = new Uint8Array(
      view.buffer,
      view.byteOffset + offset + LENGTH_BYTES,
      this.capacity,
    );
    const { written } = encoder.encodeInto(value, bytes);
    view.setUint32(offset, written, true);
  }

  verify(view: DataView, offset: number, path: string): void {
    const length = view.getUint32(offset, true);
    if (length > this.capacity) {
      throw new CorruptRegionError(
        `${path}: expected a string length of at most ${this.capacity} bytes, got ${length}`,
      );
    }
  }

  /** `path` names the string in error messages; it defaults to `fixedString@<offset>`. */
  bind(
    ctx: BindContext,
    offset: number,
    path: string = defaultPath(this.kind, offset),
  ): StringAccess {
    if (ctx.closed) throwClosed(ctx, path);
    return new StringAccessor(this, ctx, offset, path);
  }

  toString(): string {
    return this.signature;
  }
}

class StringAccessor implements StringAccess {
  readonly capacity: number;
  readonly #schema: FixedStringSchema;
  readonly #ctx: BindContext;
  readonly #offset: number;
  readonly #path: string;

  constructor(schema: FixedStringSchema, ctx: BindContext, offset: number, path: string) {
    this.capacity = schema.capacity;
    this.#schema = schema;
    this.#ctx = ctx;
    this.#offset = offset;
    this.#path = path;
  }

  get byteLength(): number {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    return Math.min(this.#ctx.view.getUint32(this.#offset, true), this.capacity);
  }

  get(): string {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    return this.#schema.read(this.#ctx.view, this.#offset);
  }

  set(value: string, options?: WriteOptions): void {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    this.#schema[validate](value, this.#path, options?.truncate === true);
    this.#schema[encode](this.#ctx.view, this.#offset, value);
  }
}

/**
 * A UTF-8 string of at most `capacity` bytes, stored inline.
 *
 * @example
 * const Title = fixedString(64);
 * state.title.set('héllo 😀');          // 11 bytes
 * state.title.set(long, { truncate: true }); // cut at a code-point boundary
 */
export function fixedString(capacity: number): FixedStringSchema {
  return new FixedStringSchema(capacity);
}
