/**
 * Internals shared by the schema factories: argument checks, value descriptions for error
 * messages, path joining, the closed-region check, and the internal symbols through which nested
 * schemas validate and encode without re-checking a value their parent already checked.
 */
import { RegionClosedError, SchemaError } from '../errors.js';
import type { BindContext, Schema } from './types.js';

/**
 * Largest count or byte size a schema accepts. Offsets stay small integers (Smis, and within
 * what a typed array index and a 32-bit length word can hold).
 */
export const MAX_SIZE = 2 ** 31 - 1;

/** Validates a value and (for strings and vecs) its fit, throwing ValueError or CapacityError. */
export const validate: unique symbol = Symbol('hotshm.schema.validate');
/** Encodes a value that already passed `validate` with the same `truncate`. */
export const encode: unique symbol = Symbol('hotshm.schema.encode');

/** State layer only: points an accessor at its field's new bytes (a migration moved it). */
export const rebind: unique symbol = Symbol('hotshm.schema.rebind');
/** State layer only: hands every call of a cell to another cell (its field changed type). */
export const reroute: unique symbol = Symbol('hotshm.schema.reroute');

/** A cell the state layer can move: every primitive's cell is one. */
export interface Rebindable<T> {
  [rebind](ctx: BindContext, offset: number): void;
  [reroute](to: { get(): T; set(value: T): void }): void;
}

/**
 * The context of a rerouted cell: it reads as closed, which sends the cell's calls off its fast
 * path to the cell it was rerouted to. Nothing else is ever asked of it.
 */
class Moved implements BindContext {
  readonly regionName = '(moved)';
  readonly buffer = new ArrayBuffer(0);
  readonly view = new DataView(this.buffer);
  readonly address = 0n;
  get closed(): boolean {
    return true;
  }
  assertOpen(what?: string): void {
    throw new RegionClosedError(this.regionName, what);
  }
}
export const MOVED: BindContext = new Moved();

/** What the factories in this folder add to `Schema`, so parents check a value once. */
export interface Internal<T> {
  [validate](value: unknown, path: string, truncate: boolean): void;
  [encode](view: DataView, offset: number, value: T, truncate: boolean): void;
}

type AnySchema = Schema<unknown, unknown>;

function isInternal(s: AnySchema): s is AnySchema & Internal<unknown> {
  return typeof (s as Partial<Internal<unknown>>)[validate] === 'function';
}

/** Validates `value` against a child schema, ours or someone else's. */
export function validateChild(s: AnySchema, value: unknown, path: string, truncate: boolean): void {
  if (isInternal(s)) s[validate](value, path, truncate);
  else s.check(value, path);
}

/** Encodes an already-validated `value` with a child schema, ours or someone else's. */
export function encodeChild(
  s: AnySchema,
  view: DataView,
  offset: number,
  value: unknown,
  truncate: boolean,
): void {
  if (isInternal(s)) s[encode](view, offset, value, truncate);
  else s.write(view, offset, value, truncate ? { truncate } : undefined);
}

/** Binds a child schema; ours take the path used in error messages, others ignore it. */
export function bindChild(s: AnySchema, ctx: BindContext, offset: number, path: string): unknown {
  return (s.bind as (ctx: BindContext, offset: number, path?: string) => unknown).call(
    s,
    ctx,
    offset,
    path,
  );
}

export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function joinPath(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** The path an accessor reports when `bind` got none: its kind and byte offset. */
export function defaultPath(kind: string, offset: number): string {
  return `${kind}@${offset}`;
}

/**
 * Called only once `ctx.closed` read true, so the open path costs a single property read. The
 * context's own `assertOpen` throws first (its message may say more); the throw after it is for
 * a context whose flag and `assertOpen` disagree.
 */
export function throwClosed(ctx: BindContext, path: string): never {
  const what = `field ${path}`;
  ctx.assertOpen(what);
  throw new RegionClosedError(ctx.regionName, what);
}

/** A short description of any value for "expected …, got …" messages. */
export function describe(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return v.length > 40
        ? `${JSON.stringify(v.slice(0, 40))}… (${v.length} chars)`
        : JSON.stringify(v);
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return String(v);
    case 'function':
      return `a function${v.name ? ` ${v.name}` : ''}`;
    default:
      break;
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) {
    const length = (v as { length?: number }).length ?? v.byteLength;
    return `a ${v.constructor.name} of length ${length}`;
  }
  if (isSchema(v)) return `the schema ${v.signature}`;
  const ctor = (v as object).constructor;
  return ctor && ctor !== Object ? `a ${ctor.name}` : 'an object';
}

/** True for anything that implements the `Schema` contract. */
export function isSchema(v: unknown): v is AnySchema {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Partial<Record<keyof AnySchema, unknown>>;
  return (
    typeof s.kind === 'string' &&
    typeof s.size === 'number' &&
    typeof s.align === 'number' &&
    typeof s.signature === 'string' &&
    typeof s.read === 'function' &&
    typeof s.write === 'function' &&
    typeof s.check === 'function' &&
    typeof s.bind === 'function'
  );
}

/**
 * Checks a schema passed to struct/array/fixedVec: it implements the contract, its size and
 * alignment are coherent (schemas from other modules are trusted for nothing else), and it is
 * not a top-level-only type such as a channel.
 */
export function assertNestable(s: unknown, where: string): asserts s is AnySchema {
  if (!isSchema(s)) {
    const hint = typeof s === 'string' ? ` (pass the schema value, e.g. u32, not its name)` : '';
    throw new SchemaError(
      `${where}: expected a schema (a primitive such as u32, or struct(), array(), fixedString(), fixedVec(), slice()), got ${describe(s)}${hint}`,
    );
  }
  if (s.topLevelOnly === true) {
    throw new SchemaError(
      `${where}: expected a type that can be nested, got ${s.kind}, which is top-level only (make it its own state field)`,
    );
  }
  const { size, align } = s;
  if (!Number.isInteger(align) || align < 1 || align > 4096 || (align & (align - 1)) !== 0) {
    throw new SchemaError(
      `${where}: expected a schema whose align is a power of two up to 4096, got ${s.kind} with align ${describe(align)}`,
    );
  }
  if (!Number.isInteger(size) || size < 0 || size > MAX_SIZE || size % align !== 0) {
    throw new SchemaError(
      `${where}: expected a schema whose size is a multiple of its align (${align}) in [0, ${MAX_SIZE}], got ${s.kind} with size ${describe(size)}`,
    );
  }
}

/** Checks a count, capacity or length argument of a factory. */
export function assertCount(n: unknown, where: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_SIZE) {
    throw new SchemaError(`${where}: expected an integer in [1, ${MAX_SIZE}], got ${describe(n)}`);
  }
}

/** Checks the byte size a factory computed. */
export function assertSize(size: number, where: string): void {
  if (size > MAX_SIZE) {
    throw new SchemaError(`${where}: expected a byte size of at most ${MAX_SIZE}, got ${size}`);
  }
}
