/**
 * `slice(T, length)`: a large run of a numeric primitive (pixels, samples, vertices) whose accessor
 * is a typed array over the shared bytes themselves: no copy and no per-element call, so a
 * renderer fills a framebuffer at typed-array speed.
 *
 * The slice is aligned to its element size, which is what a typed array needs (the mapping itself
 * starts on a page boundary). Unlike other accessors, the typed array cannot check whether its
 * region was closed: the memory layer remaps a closed region's range to private zero pages, so a
 * stale slice never faults, it reads zeros and its writes go nowhere.
 */
import { SchemaError, ValueError } from '../errors.js';
import {
  type PrimitiveKind,
  type PrimitiveSchema,
  type TypedArrayConstructor,
  typedArrayOf,
} from './primitives.js';
import {
  assertCount,
  assertSize,
  defaultPath,
  describe,
  encode,
  type Internal,
  throwClosed,
  validate,
} from './shared.js';
import type { BindContext, Schema } from './types.js';

interface TypedArrayByKind {
  u8: Uint8Array;
  u16: Uint16Array;
  u32: Uint32Array;
  u64: BigUint64Array;
  i8: Int8Array;
  i16: Int16Array;
  i32: Int32Array;
  i64: BigInt64Array;
  f32: Float32Array;
  f64: Float64Array;
}

/** The primitives a slice can hold. */
export type SliceElement = PrimitiveSchema<keyof TypedArrayByKind, number | bigint>;

/** The typed array a slice of `P` binds to (`slice(u32, n)` → `Uint32Array`). */
export type TypedArrayFor<P> =
  P extends PrimitiveSchema<infer K extends PrimitiveKind, unknown>
    ? K extends keyof TypedArrayByKind
      ? TypedArrayByKind[K]
      : never
    : never;

type AnyTypedArray = TypedArrayByKind[keyof TypedArrayByKind];

export class SliceSchema<A extends AnyTypedArray> implements Schema<A, A>, Internal<A> {
  readonly kind = 'slice';
  readonly size: number;
  readonly align: number;
  readonly signature: string;
  readonly element: SliceElement;
  readonly length: number;
  readonly #ctor: TypedArrayConstructor;

  constructor(element: SliceElement, length: number) {
    const ctor = typedArrayOf.get(element);
    if (ctor === undefined) {
      throw new SchemaError(
        `slice element: expected a numeric primitive (u8, u16, u32, u64, i8, i16, i32, i64, f32, f64), got ${describe(element)}`,
      );
    }
    assertCount(length, 'slice length');
    this.#ctor = ctor;
    this.element = element;
    this.length = length;
    this.size = element.size * length;
    assertSize(this.size, `slice(${element.kind}, ${length})`);
    this.align = element.align;
    this.signature = `slice<${element.kind},${length}>:${this.size}/${this.align}`;
  }

  /** Returns a copy (a plain value); the accessor is the zero-copy view. */
  read(view: DataView, offset: number): A {
    const start = view.byteOffset + offset;
    return new this.#ctor(view.buffer.slice(start, start + this.size) as ArrayBuffer) as A;
  }

  write(view: DataView, offset: number, value: A): void {
    this[validate](value, 'value');
    this[encode](view, offset, value);
  }

  check(value: unknown, path: string): void {
    this[validate](value, path);
  }

  [validate](value: unknown, path: string): void {
    if (!(value instanceof this.#ctor) || value.length !== this.length) {
      throw new ValueError(
        `${path}: expected a ${this.#ctor.name} of length ${this.length}, got ${describe(value)}`,
      );
    }
  }

  [encode](view: DataView, offset: number, value: A): void {
    // Byte-wise, so it works at any offset; `set` copies correctly even if `value` overlaps.
    new Uint8Array(view.buffer, view.byteOffset + offset, this.size).set(
      new Uint8Array(value.buffer, value.byteOffset, this.size),
    );
  }

  /**
   * Returns the typed array over the shared bytes. `offset` must be a multiple of the element
   * size (always true inside our layouts).
   */
  bind(ctx: BindContext, offset: number, path: string = defaultPath(this.kind, offset)): A {
    if (ctx.closed) throwClosed(ctx, path);
    if (offset % this.align !== 0) {
      throw new SchemaError(
        `${path}: expected an offset that is a multiple of ${this.align} for a ${this.#ctor.name}, got ${offset}`,
      );
    }
    return new this.#ctor(ctx.buffer, offset, this.length) as A;
  }

  toString(): string {
    return this.signature;
  }
}

/**
 * A run of `length` numbers whose accessor is a zero-copy typed array.
 *
 * @example
 * const Pixels = slice(u32, 1920 * 1080);
 * const px = state.pixels; // Uint32Array over shared memory
 * px.fill(0xff000000);
 */
export function slice<P extends SliceElement>(
  element: P,
  length: number,
): SliceSchema<TypedArrayFor<P>> {
  return new SliceSchema<TypedArrayFor<P>>(element, length);
}
