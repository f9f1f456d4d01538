/**
 * `array(T, n)`: exactly `n` elements of `T`, back to back (C's `T x[n]`: the stride is `T.size`,
 * already a multiple of `T.align`).
 */
import { ValueError } from '../errors.js';
import {
  assertCount,
  assertNestable,
  assertSize,
  bindChild,
  defaultPath,
  describe,
  encode,
  encodeChild,
  type Internal,
  throwClosed,
  validate,
  validateChild,
} from './shared.js';
import type { Access, BindContext, Infer, Schema, WriteOptions } from './types.js';

/** The accessor of a fixed-length array. */
export interface ArrayAccess<T, A> {
  readonly length: number;
  /** The accessor of element `i` (built on first use, then cached). */
  at(index: number): A;
  get(): T[];
  set(values: readonly T[], options?: WriteOptions): void;
}

export class ArraySchema<E extends Schema<unknown, unknown>>
  implements Schema<Infer<E>[], ArrayAccess<Infer<E>, Access<E>>>, Internal<Infer<E>[]>
{
  readonly kind = 'array';
  readonly size: number;
  readonly align: number;
  readonly signature: string;
  readonly element: E;
  readonly length: number;

  constructor(element: E, length: number) {
    assertNestable(element, 'array element');
    assertCount(length, 'array length');
    this.element = element;
    this.length = length;
    this.size = element.size * length;
    assertSize(this.size, `array(${element.signature}, ${length})`);
    this.align = element.align;
    this.signature = `array<${element.signature},${length}>:${this.size}/${this.align}`;
  }

  read(view: DataView, offset: number): Infer<E>[] {
    const { element, length } = this;
    const stride = element.size;
    const out = new Array<Infer<E>>(length);
    for (let i = 0; i < length; i++) out[i] = element.read(view, offset + i * stride) as Infer<E>;
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
    if (!Array.isArray(value) || value.length !== this.length) {
      throw new ValueError(
        `${path}: expected an array of length ${this.length}, got ${describe(value)}`,
      );
    }
    for (let i = 0; i < this.length; i++) {
      validateChild(this.element, value[i], `${path}[${i}]`, truncate);
    }
  }

  [encode](view: DataView, offset: number, value: Infer<E>[], truncate: boolean): void {
    const stride = this.element.size;
    for (let i = 0; i < this.length; i++) {
      encodeChild(this.element, view, offset + i * stride, value[i], truncate);
    }
  }

  verify(view: DataView, offset: number, path: string): void {
    const { element } = this;
    if (element.verify === undefined) return;
    for (let i = 0; i < this.length; i++) {
      element.verify(view, offset + i * element.size, `${path}[${i}]`);
    }
  }

  /** `path` names the array in error messages; it defaults to `array@<offset>`. */
  bind(
    ctx: BindContext,
    offset: number,
    path: string = defaultPath(this.kind, offset),
  ): ArrayAccess<Infer<E>, Access<E>> {
    if (ctx.closed) throwClosed(ctx, path);
    return new ArrayAccessor(this, ctx, offset, path);
  }

  toString(): string {
    return this.signature;
  }
}

class ArrayAccessor<E extends Schema<unknown, unknown>>
  implements ArrayAccess<Infer<E>, Access<E>>
{
  readonly length: number;
  readonly #schema: ArraySchema<E>;
  readonly #ctx: BindContext;
  readonly #offset: number;
  readonly #path: string;
  // Element accessors are built lazily: an array of a million elements costs nothing until used.
  readonly #elements: Access<E>[] = [];

  constructor(schema: ArraySchema<E>, ctx: BindContext, offset: number, path: string) {
    this.length = schema.length;
    this.#schema = schema;
    this.#ctx = ctx;
    this.#offset = offset;
    this.#path = path;
  }

  at(index: number): Access<E> {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    const cached = this.#elements[index];
    if (cached !== undefined) return cached;
    checkIndex(this.#path, index, this.length);
    const element = bindChild(
      this.#schema.element,
      this.#ctx,
      this.#offset + index * this.#schema.element.size,
      `${this.#path}[${index}]`,
    ) as Access<E>;
    this.#elements[index] = element;
    return element;
  }

  get(): Infer<E>[] {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    return this.#schema.read(this.#ctx.view, this.#offset);
  }

  set(values: readonly Infer<E>[], options?: WriteOptions): void {
    if (this.#ctx.closed) throwClosed(this.#ctx, this.#path);
    const truncate = options?.truncate === true;
    this.#schema[validate](values, this.#path, truncate);
    this.#schema[encode](this.#ctx.view, this.#offset, values as Infer<E>[], truncate);
  }
}

/** Throws a ValueError unless `index` is an integer in [0, length). */
export function checkIndex(path: string, index: unknown, length: number): void {
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= length) {
    const range = length === 0 ? 'none: it is empty' : `an index in [0, ${length - 1}]`;
    throw new ValueError(`${path}: expected ${range}, got ${describe(index)}`);
  }
}

/**
 * A fixed-length array of `length` elements of `element`.
 *
 * @example
 * const Palette = array(u32, 16);
 * type Palette = Infer<typeof Palette>; // number[]
 * state.palette.at(3).set(0xff00ff00);
 */
export function array<E extends Schema<unknown, unknown>>(
  element: E,
  length: number,
): ArraySchema<E> {
  return new ArraySchema(element, length);
}
