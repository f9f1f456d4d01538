/**
 * `fixedVec(T, capacity)`: a list of up to `capacity` elements stored inline: a u32 length, padding
 * up to `T`'s alignment, then `capacity` slots of `T` (C: `struct { uint32_t len; T items[cap]; }`).
 */
import { CapacityError, CorruptRegionError, ValueError } from '../errors.js';
import { checkIndex } from './array.js';
import {
  alignUp,
  assertCount,
  assertNestable,
  assertSize,
  defaultPath,
  describe,
  encode,
  encodeChild,
  type Internal,
  throwClosed,
  validate,
  validateChild,
} from './shared.js';
import type { BindContext, Infer, Schema, WriteOptions } from './types.js';

/** The accessor of a fixed-capacity vec. Elements are read and written as plain values. */
export interface VecAccess<T> extends Iterable<T> {
  readonly length: number;
  readonly capacity: number;
  /** The value of element `i`, for `i` in [0, length). */
  at(index: number): T;
  /** Replaces element `i`, for `i` in [0, length). */
  setAt(index: number, value: T): void;
  /** Appends; throws CapacityError (unit 'elements') when full. */
  push(value: T): void;
  /** Removes and returns the last element, or `undefined` when empty. */
  pop(): T | undefined;
  clear(): void;
  /** Same as `toArray()`, so every accessor has `get`. */
  get(): T[];
  /** Replaces the contents; over capacity throws CapacityError, or cuts with `{ truncate: true }`. */
  set(values: readonly T[], options?: WriteOptions): void;
  toArray(): T[];
}

const LENGTH_BYTES = 4;

export class FixedVecSchema<E extends Schema<unknown, unknown>>
  implements Schema<Infer<E>[], VecAccess<Infer<E>>>, Internal<Infer<E>[]>
{
  readonly kind = 'fixedVec';
  readonly size: number;
  readonly align: number;
  readonly signature: string;
  readonly element: E;
  readonly capacity: number;
  /** Offset of element 0 from the start of the vec. */
  readonly dataOffset: number;

  constructor(element: E, capacity: number) {
    assertNestable(element, 'fixedVec element');
    assertCount(capacity, 'fixedVec capacity (elements)');
    this.element = element;
    this.capacity = capacity;
    this.dataOffset = alignUp(LENGTH_BYTES, element.align);
    this.align = Math.max(LENGTH_BYTES, element.align);
    this.size = alignUp(this.dataOffset + capacity * element.size, this.align);
    assertSize(this.size, `fixedVec(${element.signature}, ${capacity})`);
    this.signature = `fixedVec<${element.signature},${capacity},data@${this.dataOffset}>:${this.size}/${this.align}`;
  }

  /** Length stored at `offset`, clamped to capacity (`verify` reports a larger one as corrupt). */
  lengthAt(view: DataView, offset: number): number {
    return Math.min(view.getUint32(offset, true), this.capacity);
  }

  read(view: DataView, offset: number): Infer<E>[] {
    const length = this.lengthAt(view, offset);
    const { element } = this;
    const base = offset + this.dataOffset;
    const out = new Array<Infer<E>>(length);
    for (let i = 0; i < length; i++)
      out[i] = element.read(view, base + i * element.size) as Infer<E>;
    return out;
  }

  write(view: DataView, offset: number, value: Infer<E>[], options?: WriteOptions): void {
    const truncate = options?.truncate === true;
    this[validate](value, 'value', truncate);
    this[encode](view, offset, value, truncate);
  }

  check(value: unknown, path: string): void {
    this[validate](value, path, false);
  }

  [validate](value: unknown, path: string, truncate: boolean): void {
    if (!Array.isArray(value)) {
      throw new ValueError(
        `${path}: expected an array of at most ${this.capacity} elements, got ${describe(value)}`,
      );
    }
    if (value.length > this.capacity && !truncate) {
      throw new CapacityError(path, this.capacity, value.length, 'elements');
    }
    // Elements past capacity are dropped by a truncating write, so they need not be valid.
    const count = Math.min(value.length, this.capacity);
    for (let i = 0; i < count; i++)
      validateChild(this.element, value[i], `${path}[${i}]`, truncate);
  }

  [encode](view: DataView, offset: number, value: Infer<E>[], truncate: boolean): void {
    const count = Math.min(value.length, this.capacity);
    const { element } = this;
    const base = offset + this.dataOffset;
    for (let i = 0; i < count; i++) {
      encodeChild(element, view, base + i * element.size, value[i], truncate);
    }
    view.setUint32(offset, count, true);
  }

  verify(view: DataView, offset: number, path: string): void {
    const length = view.getUint32(offset, true);
    if (length > this.capacity) {
      throw new CorruptRegionError(
        `${path}: expected a vec length of at most ${this.capacity} elements, got ${length}`,
      );
    }
    const { element } = this;
    if (element.verify === undefined) return;
    for (let i = 0; i < length; i++) {
      element.verify(view, offset + this.dataOffset + i * element.size, `${path}[${i}]`);
    }
  }

  /** `path` names the vec in error messages; it defaults to `fixedVec@<offset>`. */
  bind(
    ctx: BindContext,
    offset: number,
    path: string = defaultPath(this.kind, offset),
  ): VecAccess<Infer<E>> {
    if (ctx.closed) throwClosed(ctx, path);
    return new VecAccessor(this, ctx, offset, path);
  }

  toString(): string {
    return this.signature;
  }
}

class VecAccessor<E extends Schema<unknown, unknown>> implements VecAccess<Infer<E>> {
  readonly capacity: number;
  readonly #schema: FixedVecSchema<E>;
  readonly #ctx: BindContext;
  readonly #offset: number;
  readonly #path: string;

  constructor(schema: FixedVecSchema<E>, ctx: BindContext, offset: number, path: string) {
    this.capacity = schema.capacity;
    this.#schema = schema;
    this.#ctx = ctx;
    this.#offset = offset;
    this.#path = path;
  }

  get length(): number {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    return this.#schema.lengthAt(this.#ctx.view, this.#offset);
  }

  #slot(index: number): number {
    return this.#offset + this.#schema.dataOffset + index * this.#schema.element.size;
  }

  at(index: number): Infer<E> {
    const length = this.length; // checks closed
    checkIndex(this.#path, index, length);
    return this.#schema.element.read(this.#ctx.view, this.#slot(index)) as Infer<E>;
  }

  setAt(index: number, value: Infer<E>): void {
    const length = this.length;
    checkIndex(this.#path, index, length);
    const path = `${this.#path}[${index}]`;
    validateChild(this.#schema.element, value, path, false);
    encodeChild(this.#schema.element, this.#ctx.view, this.#slot(index), value, false);
  }

  push(value: Infer<E>): void {
    const length = this.length;
    if (length >= this.capacity) {
      throw new CapacityError(this.#path, this.capacity, length + 1, 'elements');
    }
    validateChild(this.#schema.element, value, `${this.#path}[${length}]`, false);
    // The element is written before the length that makes it visible.
    encodeChild(this.#schema.element, this.#ctx.view, this.#slot(length), value, false);
    this.#ctx.view.setUint32(this.#offset, length + 1, true);
  }

  pop(): Infer<E> | undefined {
    const length = this.length;
    if (length === 0) return undefined;
    const value = this.#schema.element.read(this.#ctx.view, this.#slot(length - 1)) as Infer<E>;
    this.#ctx.view.setUint32(this.#offset, length - 1, true);
    return value;
  }

  clear(): void {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    this.#ctx.view.setUint32(this.#offset, 0, true);
  }

  get(): Infer<E>[] {
    return this.toArray();
  }

  set(values: readonly Infer<E>[], options?: WriteOptions): void {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    const truncate = options?.truncate === true;
    this.#schema[validate](values, this.#path, truncate);
    this.#schema[encode](this.#ctx.view, this.#offset, values as Infer<E>[], truncate);
  }

  toArray(): Infer<E>[] {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    return this.#schema.read(this.#ctx.view, this.#offset);
  }

  *[Symbol.iterator](): Iterator<Infer<E>> {
    // The length is read once: elements pushed while iterating are not visited.
    const length = this.length;
    for (let i = 0; i < length; i++) {
      if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
      yield this.#schema.element.read(this.#ctx.view, this.#slot(i)) as Infer<E>;
    }
  }
}

/**
 * A list of at most `capacity` elements, stored inline with its length.
 *
 * @example
 * const Trail = fixedVec(struct({ x: f32, y: f32 }), 256);
 * state.trail.push({ x: 1, y: 2 });
 * for (const p of state.trail) draw(p);
 */
export function fixedVec<E extends Schema<unknown, unknown>>(
  element: E,
  capacity: number,
): FixedVecSchema<E> {
  return new FixedVecSchema(element, capacity);
}
