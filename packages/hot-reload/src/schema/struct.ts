/**
 * `struct({...})`: named fields in the order written, laid out with C's rules (each field at the
 * next multiple of its alignment, the whole rounded up to the largest alignment), so the bytes
 * match the same struct declared in C and can be handed to native code as is.
 */
import { SchemaError, ValueError } from '../errors.js';
import { checkRenames, type FieldMeta, unwrapField } from './field.js';
import {
  alignUp,
  assertNestable,
  assertSize,
  bindChild,
  defaultPath,
  describe,
  encode,
  encodeChild,
  type Internal,
  joinPath,
  throwClosed,
  validate,
  validateChild,
} from './shared.js';
import type { Access, BindContext, Infer, Schema, WriteOptions } from './types.js';

export type StructFields = Record<string, Schema<unknown, unknown>>;

/** The plain value of a struct: one property per field. */
export type InferStruct<F extends StructFields> = { [K in keyof F]: Infer<F[K]> };

/**
 * The accessor of a struct: one property per field holding that field's accessor (a `Cell` for a
 * primitive), plus `get()`/`set()` for the whole value. `get` and `set` are not enumerable, so
 * `Object.keys(access)` lists the fields.
 */
export type StructAccess<F extends StructFields> = { readonly [K in keyof F]: Access<F[K]> } & {
  get(): InferStruct<F>;
  set(value: InferStruct<F>, options?: WriteOptions): void;
};

export interface FieldLayout {
  readonly name: string;
  readonly offset: number;
  /** The schema of the member's bytes (a `field()` is unwrapped: its options are in `meta`). */
  readonly schema: Schema<unknown, unknown>;
  /** The initial value and rename hints, when the member was declared with `field()`. */
  readonly meta?: FieldMeta;
}

// Field names become property names of values and accessors and go into signatures verbatim:
// identifiers keep both unambiguous, and exclude integer-like keys, which JavaScript would
// enumerate before the others and so reorder the fields.
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// `get`/`set` are the accessor's own methods; `__proto__` would set the prototype of a value.
const RESERVED = new Set(['get', 'set', '__proto__']);

export class StructSchema<F extends StructFields>
  implements Schema<InferStruct<F>, StructAccess<F>>, Internal<InferStruct<F>>
{
  readonly kind = 'struct';
  readonly size: number;
  readonly align: number;
  readonly signature: string;
  /** The field schemas, as given (a `field()` stays wrapped here; `layout` unwraps it). */
  readonly fields: Readonly<F>;
  /** Each field with its byte offset, in declaration order. */
  readonly layout: readonly FieldLayout[];
  readonly #offsets: ReadonlyMap<string, number>;

  constructor(fields: F) {
    if (
      typeof fields !== 'object' ||
      fields === null ||
      Array.isArray(fields) ||
      isSchemaLike(fields)
    ) {
      throw new SchemaError(
        `struct: expected an object of field schemas such as { x: u32 }, got ${describe(fields)}`,
      );
    }
    const names = Object.keys(fields);
    if (names.length === 0) {
      throw new SchemaError('struct: expected at least one field, got {}');
    }
    const layout: FieldLayout[] = [];
    let at = 0;
    let align = 1;
    for (const name of names) {
      if (!IDENTIFIER.test(name) || RESERVED.has(name)) {
        throw new SchemaError(
          `struct: expected field names that are identifiers other than get, set and __proto__, got ${JSON.stringify(name)}`,
        );
      }
      const given = fields[name];
      assertNestable(given, `struct field "${name}"`);
      const { schema, meta } = unwrapField(given);
      at = alignUp(at, schema.align);
      layout.push(
        meta === undefined ? { name, offset: at, schema } : { name, offset: at, schema, meta },
      );
      at += schema.size;
      align = Math.max(align, schema.align);
    }
    checkRenames(layout, 'struct');
    this.size = alignUp(at, align);
    assertSize(this.size, 'struct');
    this.align = align;
    this.fields = Object.freeze({ ...fields });
    this.layout = Object.freeze(layout.map((f) => Object.freeze(f)));
    this.#offsets = new Map(layout.map((f) => [f.name, f.offset]));
    // Each field's signature is self-contained, so diffing two layouts field by field works.
    const body = layout.map((f) => `${f.name}@${f.offset}:${f.schema.signature}`).join(',');
    this.signature = `struct{${body}}:${this.size}/${this.align}`;
  }

  /** Byte offset of a field from the start of the struct. */
  offsetOf(name: keyof F & string): number {
    const offset = this.#offsets.get(name);
    if (offset === undefined) {
      throw new SchemaError(
        `struct: expected one of the fields ${[...this.#offsets.keys()].join(', ')}, got ${JSON.stringify(name)}`,
      );
    }
    return offset;
  }

  read(view: DataView, offset: number): InferStruct<F> {
    const out: Record<string, unknown> = {};
    const layout = this.layout;
    for (let i = 0; i < layout.length; i++) {
      const f = layout[i]!;
      out[f.name] = f.schema.read(view, offset + f.offset);
    }
    return out as InferStruct<F>;
  }

  write(view: DataView, offset: number, value: InferStruct<F>, options?: WriteOptions): void {
    const truncate = options?.truncate === true;
    // The whole value is checked before the first byte is written: a bad field never leaves the
    // struct half-updated.
    this[validate](value, 'value', truncate);
    this[encode](view, offset, value, truncate);
  }

  check(value: unknown, path: string): void {
    this[validate](value, path, false);
  }

  [validate](value: unknown, path: string, truncate: boolean): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ValueError(
        `${path}: expected an object with the fields ${this.layout.map((f) => f.name).join(', ')}, got ${describe(value)}`,
      );
    }
    const record = value as Record<string, unknown>;
    const paths = this.#pathsUnder(path);
    const layout = this.layout;
    for (let i = 0; i < layout.length; i++) {
      const f = layout[i]!;
      validateChild(f.schema, record[f.name], paths[i]!, truncate);
    }
    // No schema accepts `undefined`, so every field is present; more keys means an extra one.
    // Counted without building an array: this runs for every message a channel sends.
    let count = 0;
    for (const k in record) if (Object.hasOwn(record, k)) count++;
    if (count > layout.length) {
      const extra = Object.keys(record).find((k) => !this.#offsets.has(k));
      throw new ValueError(
        `${path}: expected only the fields ${this.layout.map((f) => f.name).join(', ')}, got an extra field ${JSON.stringify(extra)}`,
      );
    }
  }

  [encode](view: DataView, offset: number, value: InferStruct<F>, truncate: boolean): void {
    const record = value as Record<string, unknown>;
    const layout = this.layout;
    for (let i = 0; i < layout.length; i++) {
      const f = layout[i]!;
      encodeChild(f.schema, view, offset + f.offset, record[f.name], truncate);
    }
  }

  /** Field paths under `path` ("value.x"…), built once per parent path instead of per write. */
  readonly #paths = new Map<string, string[]>();
  #pathsUnder(path: string): string[] {
    let paths = this.#paths.get(path);
    if (paths === undefined) {
      paths = this.layout.map((f) => joinPath(path, f.name));
      // Paths are a handful per program (one per place the struct is used); never grow unbounded.
      if (this.#paths.size < 256) this.#paths.set(path, paths);
    }
    return paths;
  }

  verify(view: DataView, offset: number, path: string): void {
    for (const f of this.layout) {
      f.schema.verify?.(view, offset + f.offset, joinPath(path, f.name));
    }
  }

  /** `path` names the struct in error messages; it defaults to `struct@<offset>`. */
  bind(
    ctx: BindContext,
    offset: number,
    path: string = defaultPath(this.kind, offset),
  ): StructAccess<F> {
    if (ctx.closed) throwClosed(ctx, path);
    const access: Record<string, unknown> = {};
    for (const f of this.layout) {
      access[f.name] = bindChild(f.schema, ctx, offset + f.offset, joinPath(path, f.name));
    }
    const get = (): InferStruct<F> => {
      if (ctx.closed) throwClosed(ctx, path);
      return this.read(ctx.view, offset);
    };
    const set = (value: InferStruct<F>, options?: WriteOptions): void => {
      if (ctx.closed) throwClosed(ctx, path);
      const truncate = options?.truncate === true;
      this[validate](value, path, truncate);
      this[encode](ctx.view, offset, value, truncate);
    };
    Object.defineProperty(access, 'get', { value: get });
    Object.defineProperty(access, 'set', { value: set });
    return Object.freeze(access) as StructAccess<F>;
  }

  toString(): string {
    return this.signature;
  }
}

function isSchemaLike(v: object): boolean {
  return typeof (v as { bind?: unknown }).bind === 'function';
}

/**
 * A C-layout struct of named fields, in the order written.
 *
 * @example
 * const Player = struct({ x: f32, y: f32, hp: u8, name: fixedString(16) });
 * type Player = Infer<typeof Player>; // { x: number; y: number; hp: number; name: string }
 * Player.size; // 32
 */
export function struct<F extends StructFields>(fields: F): StructSchema<F> {
  return new StructSchema(fields);
}
