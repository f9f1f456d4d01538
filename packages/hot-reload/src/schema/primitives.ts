/**
 * Primitive schemas, one singleton value per type, and their accessors: `Cell`s.
 *
 * Byte order is little-endian everywhere: every supported platform (x64 and arm64 on Linux, macOS
 * and Windows) is little-endian, so `read`/`write` (DataView, explicit LE) and cells (typed arrays,
 * native order) agree. The module refuses to load on a big-endian CPU rather than disagree.
 *
 * A cell is the hot path of the library (`state.score.set(state.score.get() + 1)` every frame), so
 * each kind has its own small class: a one-element typed array built once at bind time over the
 * field's bytes (no DataView call, no offset arithmetic per access), one property read for the
 * closed check, and a range check written as a bit trick that the JIT reduces to a compare (after
 * a `typeof`, because bit operators throw a TypeError on a bigint).
 *
 * A migration moves the owner's fields to a new region while the owner's code holds their cells:
 * `[rebind]` points a cell at its field's new bytes, and `[reroute]` hands every call to a cell of
 * another kind (the field's type changed) by giving it a context that reads as closed, so the
 * redirect costs nothing on the path that is taken every time.
 */
import { UnsupportedPlatformError, ValueError } from '../errors.js';
import {
  defaultPath,
  describe,
  encode,
  type Internal,
  MOVED,
  rebind,
  reroute,
  throwClosed,
  validate,
} from './shared.js';
import type { BindContext, Schema } from './types.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new UnsupportedPlatformError('@hotshm/hot-reload on a big-endian CPU', process.arch);
}

/** The accessor of a primitive field: reads and writes the shared bytes in place. */
export interface Cell<T> {
  get(): T;
  /** Throws ValueError when `value` is out of the type's range (integers never wrap). */
  set(value: T): void;
}

export type PrimitiveKind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 'u64'
  | 'i8'
  | 'i16'
  | 'i32'
  | 'i64'
  | 'f32'
  | 'f64'
  | 'bool'
  | 'unit';

/** A primitive schema; `K` keeps the kind in the type so `slice(u32, n)` infers `Uint32Array`. */
export interface PrimitiveSchema<K extends PrimitiveKind, T> extends Schema<T, Cell<T>> {
  readonly kind: K;
  /** `path` names the field in error messages; it defaults to `<kind>@<offset>`. */
  bind(ctx: BindContext, offset: number, path?: string): Cell<T>;
}

interface Def<K extends PrimitiveKind, T> {
  readonly kind: K;
  readonly size: number;
  /** Completes "expected …" in messages. */
  readonly expected: string;
  valid(v: unknown): boolean;
  read(view: DataView, offset: number): T;
  write(view: DataView, offset: number, v: T): void;
  /** Builds the fast cell; only called with `offset % size === 0`. */
  cell(ctx: BindContext, offset: number, path: string): Cell<T>;
}

class Primitive<K extends PrimitiveKind, T> implements PrimitiveSchema<K, T>, Internal<T> {
  readonly kind: K;
  readonly size: number;
  readonly align: number;
  readonly signature: string;
  readonly #def: Def<K, T>;

  constructor(def: Def<K, T>) {
    this.#def = def;
    this.kind = def.kind;
    this.size = def.size;
    // A C type's alignment is its size for every primitive here; unit is a 0-byte type aligned at 1.
    this.align = Math.max(1, def.size);
    // Size and alignment are fixed by the kind, so the kind alone is canonical.
    this.signature = def.kind;
  }

  read(view: DataView, offset: number): T {
    return this.#def.read(view, offset);
  }

  write(view: DataView, offset: number, value: T): void {
    this[validate](value, 'value');
    this.#def.write(view, offset, value);
  }

  check(value: unknown, path: string): void {
    this[validate](value, path);
  }

  [validate](value: unknown, path: string): void {
    if (!this.#def.valid(value)) throw valueError(path, this.#def.expected, value);
  }

  [encode](view: DataView, offset: number, value: T): void {
    this.#def.write(view, offset, value);
  }

  /**
   * `path` names the field in error messages (`state.pos.x: …`); parents pass it, and it
   * defaults to the kind and offset.
   */
  bind(ctx: BindContext, offset: number, path: string = defaultPath(this.kind, offset)): Cell<T> {
    if (ctx.closed) throwClosed(ctx, path);
    // Fields inside our layouts are always aligned; an odd offset can only come from a caller
    // placing the field by hand, and still works, through the DataView.
    return offset % this.align === 0
      ? this.#def.cell(ctx, offset, path)
      : new ViewCell(this, ctx, offset, path);
  }

  toString(): string {
    return this.signature;
  }
}

function valueError(path: string, expected: string, got: unknown): ValueError {
  return new ValueError(`${path}: expected ${expected}, got ${describe(got)}`);
}

function intRange(min: number | bigint, max: number | bigint, what = 'an integer'): string {
  return `${what} in [${min}, ${max}]`;
}

// The largest double that rounds to a finite f32 is just under 2**128 - 2**103 (ties go to even,
// i.e. to Infinity). Finite numbers at or above it would silently become ±Infinity.
const F32_OVERFLOW = 2 ** 128 - 2 ** 103;
const F32_EXPECTED = 'a number within the f32 range (|x| < 2**128 - 2**103, or ±Infinity, or NaN)';

function f32Valid(v: unknown): boolean {
  return typeof v === 'number' && !(Math.abs(v) >= F32_OVERFLOW && Math.abs(v) !== Infinity);
}

// ---- cells ---------------------------------------------------------------------------------
// One class per kind keeps each call site monomorphic. Failures leave through functions defined
// outside the class so the hot methods stay small enough to inline.

const U8_EXPECTED = intRange(0, 255);
const I8_EXPECTED = intRange(-128, 127);
const U16_EXPECTED = intRange(0, 65535);
const I16_EXPECTED = intRange(-32768, 32767);
const U32_EXPECTED = intRange(0, 4294967295);
const I32_EXPECTED = intRange(-2147483648, 2147483647);
const U64_EXPECTED = intRange(0, 2n ** 64n - 1n, 'a bigint');
const I64_EXPECTED = intRange(-(2n ** 63n), 2n ** 63n - 1n, 'a bigint');

function badSet(path: string, expected: string, got: unknown): never {
  throw valueError(path, expected, got);
}

/**
 * Where a cell's call goes once its context says closed: the cell it was rerouted to (a
 * migration changed its field's type), or, for a closed region, the RegionClosedError.
 */
function detour<T>(ctx: BindContext, path: string, to: Cell<T> | undefined): Cell<T> {
  if (to !== undefined) return to;
  return throwClosed(ctx, path);
}

class U8Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Uint8Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Uint8Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number' || (value & 0xff) !== value)
      badSet(this.#path, U8_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Uint8Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class I8Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Int8Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Int8Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number' || (value << 24) >> 24 !== value)
      badSet(this.#path, I8_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Int8Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class U16Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Uint16Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Uint16Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number' || (value & 0xffff) !== value)
      badSet(this.#path, U16_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Uint16Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class I16Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Int16Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Int16Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number' || (value << 16) >> 16 !== value)
      badSet(this.#path, I16_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Int16Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class U32Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Uint32Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Uint32Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number' || value >>> 0 !== value) badSet(this.#path, U32_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Uint32Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class I32Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Int32Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Int32Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number' || (value | 0) !== value) badSet(this.#path, I32_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Int32Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class F32Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Float32Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Float32Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (!f32Valid(value)) badSet(this.#path, F32_EXPECTED, value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Float32Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class F64Cell implements Cell<number> {
  #ctx: BindContext;
  #a: Float64Array;
  #to: Cell<number> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Float64Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): number {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: number): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'number') badSet(this.#path, 'a number', value);
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Float64Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<number>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class U64Cell implements Cell<bigint> {
  #ctx: BindContext;
  #a: BigUint64Array;
  #to: Cell<bigint> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new BigUint64Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): bigint {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: bigint): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'bigint' || BigInt.asUintN(64, value) !== value) {
      badSet(this.#path, U64_EXPECTED, value);
    }
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new BigUint64Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<bigint>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class I64Cell implements Cell<bigint> {
  #ctx: BindContext;
  #a: BigInt64Array;
  #to: Cell<bigint> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new BigInt64Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): bigint {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#a[0]!;
  }
  set(value: bigint): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'bigint' || BigInt.asIntN(64, value) !== value) {
      badSet(this.#path, I64_EXPECTED, value);
    }
    this.#a[0] = value;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new BigInt64Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<bigint>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class BoolCell implements Cell<boolean> {
  #ctx: BindContext;
  #a: Uint8Array;
  #to: Cell<boolean> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, offset: number, path: string) {
    this.#ctx = ctx;
    this.#a = new Uint8Array(ctx.buffer, offset, 1);
    this.#path = path;
  }
  get(): boolean {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    // Any non-zero byte reads as true, as C's bool conversion would.
    return this.#a[0] !== 0;
  }
  set(value: boolean): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (typeof value !== 'boolean') badSet(this.#path, 'a boolean', value);
    this.#a[0] = value ? 1 : 0;
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#a = new Uint8Array(ctx.buffer, offset, 1);
    this.#to = undefined;
  }
  [reroute](to: Cell<boolean>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

class UnitCell implements Cell<null> {
  #ctx: BindContext;
  #to: Cell<null> | undefined;
  readonly #path: string;
  constructor(ctx: BindContext, path: string) {
    this.#ctx = ctx;
    this.#path = path;
  }
  get(): null {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return null;
  }
  set(value: null): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    if (value !== null) badSet(this.#path, 'null', value);
  }
  [rebind](ctx: BindContext): void {
    this.#ctx = ctx;
    this.#to = undefined;
  }
  [reroute](to: Cell<null>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

/** Fallback for a primitive bound at an offset that is not a multiple of its alignment. */
class ViewCell<T> implements Cell<T> {
  readonly #schema: Primitive<PrimitiveKind, T>;
  #ctx: BindContext;
  #offset: number;
  #to: Cell<T> | undefined;
  readonly #path: string;
  constructor(schema: Primitive<PrimitiveKind, T>, ctx: BindContext, offset: number, path: string) {
    this.#schema = schema;
    this.#ctx = ctx;
    this.#offset = offset;
    this.#path = path;
  }
  get(): T {
    if (this.#ctx.closed) return detour(this.#ctx, this.#path, this.#to).get();
    return this.#schema.read(this.#ctx.view, this.#offset);
  }
  set(value: T): void {
    if (this.#ctx.closed) {
      detour(this.#ctx, this.#path, this.#to).set(value);
      return;
    }
    this.#schema[validate](value, this.#path);
    this.#schema[encode](this.#ctx.view, this.#offset, value);
  }
  [rebind](ctx: BindContext, offset: number): void {
    this.#ctx = ctx;
    this.#offset = offset;
    this.#to = undefined;
  }
  [reroute](to: Cell<T>): void {
    this.#ctx = MOVED;
    this.#to = to;
  }
}

// ---- the singletons ------------------------------------------------------------------------

/** Unsigned 8-bit integer. */
export const u8: PrimitiveSchema<'u8', number> = new Primitive({
  kind: 'u8',
  size: 1,
  expected: U8_EXPECTED,
  valid: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xff,
  read: (view, o) => view.getUint8(o),
  write: (view, o, v) => view.setUint8(o, v),
  cell: (ctx, o, path) => new U8Cell(ctx, o, path),
});

/** Unsigned 16-bit integer. */
export const u16: PrimitiveSchema<'u16', number> = new Primitive({
  kind: 'u16',
  size: 2,
  expected: U16_EXPECTED,
  valid: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff,
  read: (view, o) => view.getUint16(o, true),
  write: (view, o, v) => view.setUint16(o, v, true),
  cell: (ctx, o, path) => new U16Cell(ctx, o, path),
});

/** Unsigned 32-bit integer. */
export const u32: PrimitiveSchema<'u32', number> = new Primitive({
  kind: 'u32',
  size: 4,
  expected: U32_EXPECTED,
  valid: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff,
  read: (view, o) => view.getUint32(o, true),
  write: (view, o, v) => view.setUint32(o, v, true),
  cell: (ctx, o, path) => new U32Cell(ctx, o, path),
});

/** Unsigned 64-bit integer, as a bigint. */
export const u64: PrimitiveSchema<'u64', bigint> = new Primitive({
  kind: 'u64',
  size: 8,
  expected: U64_EXPECTED,
  valid: (v) => typeof v === 'bigint' && BigInt.asUintN(64, v) === v,
  read: (view, o) => view.getBigUint64(o, true),
  write: (view, o, v) => view.setBigUint64(o, v, true),
  cell: (ctx, o, path) => new U64Cell(ctx, o, path),
});

/** Signed 8-bit integer. */
export const i8: PrimitiveSchema<'i8', number> = new Primitive({
  kind: 'i8',
  size: 1,
  expected: I8_EXPECTED,
  valid: (v) => Number.isInteger(v) && (v as number) >= -0x80 && (v as number) <= 0x7f,
  read: (view, o) => view.getInt8(o),
  write: (view, o, v) => view.setInt8(o, v),
  cell: (ctx, o, path) => new I8Cell(ctx, o, path),
});

/** Signed 16-bit integer. */
export const i16: PrimitiveSchema<'i16', number> = new Primitive({
  kind: 'i16',
  size: 2,
  expected: I16_EXPECTED,
  valid: (v) => Number.isInteger(v) && (v as number) >= -0x8000 && (v as number) <= 0x7fff,
  read: (view, o) => view.getInt16(o, true),
  write: (view, o, v) => view.setInt16(o, v, true),
  cell: (ctx, o, path) => new I16Cell(ctx, o, path),
});

/** Signed 32-bit integer. */
export const i32: PrimitiveSchema<'i32', number> = new Primitive({
  kind: 'i32',
  size: 4,
  expected: I32_EXPECTED,
  valid: (v) => Number.isInteger(v) && (v as number) >= -0x80000000 && (v as number) <= 0x7fffffff,
  read: (view, o) => view.getInt32(o, true),
  write: (view, o, v) => view.setInt32(o, v, true),
  cell: (ctx, o, path) => new I32Cell(ctx, o, path),
});

/** Signed 64-bit integer, as a bigint. */
export const i64: PrimitiveSchema<'i64', bigint> = new Primitive({
  kind: 'i64',
  size: 8,
  expected: I64_EXPECTED,
  valid: (v) => typeof v === 'bigint' && BigInt.asIntN(64, v) === v,
  read: (view, o) => view.getBigInt64(o, true),
  write: (view, o, v) => view.setBigInt64(o, v, true),
  cell: (ctx, o, path) => new I64Cell(ctx, o, path),
});

/** IEEE 754 single precision; values are rounded to f32 on write (finite overflow throws). */
export const f32: PrimitiveSchema<'f32', number> = new Primitive({
  kind: 'f32',
  size: 4,
  expected: F32_EXPECTED,
  valid: f32Valid,
  read: (view, o) => view.getFloat32(o, true),
  write: (view, o, v) => view.setFloat32(o, v, true),
  cell: (ctx, o, path) => new F32Cell(ctx, o, path),
});

/** IEEE 754 double precision. */
export const f64: PrimitiveSchema<'f64', number> = new Primitive({
  kind: 'f64',
  size: 8,
  expected: 'a number',
  valid: (v) => typeof v === 'number',
  read: (view, o) => view.getFloat64(o, true),
  write: (view, o, v) => view.setFloat64(o, v, true),
  cell: (ctx, o, path) => new F64Cell(ctx, o, path),
});

/** One byte, 0 or 1 (C's `bool`); any non-zero byte reads as true. */
export const bool: PrimitiveSchema<'bool', boolean> = new Primitive({
  kind: 'bool',
  size: 1,
  expected: 'a boolean',
  valid: (v) => typeof v === 'boolean',
  read: (view, o) => view.getUint8(o) !== 0,
  write: (view, o, v) => view.setUint8(o, v ? 1 : 0),
  cell: (ctx, o, path) => new BoolCell(ctx, o, path),
});

/**
 * Zero bytes, one value: `null` (chosen over `undefined` so that a unit field survives
 * `JSON.stringify` and is visibly present in an object). Useful as a placeholder field or as the
 * element of a vec used as a counter.
 */
export const unit: PrimitiveSchema<'unit', null> = new Primitive({
  kind: 'unit',
  size: 0,
  expected: 'null',
  valid: (v) => v === null,
  read: () => null,
  write: () => {},
  cell: (ctx, _o, path) => new UnitCell(ctx, path),
});

/** The primitives that can be the element of a `slice`, with their typed array. */
export const typedArrayOf: ReadonlyMap<Schema<unknown, unknown>, TypedArrayConstructor> = new Map<
  Schema<unknown, unknown>,
  TypedArrayConstructor
>([
  [u8, Uint8Array],
  [u16, Uint16Array],
  [u32, Uint32Array],
  [u64, BigUint64Array],
  [i8, Int8Array],
  [i16, Int16Array],
  [i32, Int32Array],
  [i64, BigInt64Array],
  [f32, Float32Array],
  [f64, Float64Array],
]);

export type TypedArrayConstructor =
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor;
