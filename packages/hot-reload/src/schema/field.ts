/**
 * `field(schema, { initial, renamedFrom })`: a struct member or a state field with what a layout
 * alone cannot say: the value it starts with (when the region is created, and when a migration
 * adds it to a running app), and the names it had before (so a migration keeps a renamed field's
 * value). Neither changes the bytes: the wrapped schema's size, alignment and signature are the
 * field's, and `Infer`/`Access` are the wrapped schema's.
 *
 * Structs and the state layer unwrap a field when they lay it out, so accessors are the wrapped
 * schema's own and cost nothing more. A field used anywhere else (an array element, a message)
 * still works, through the delegating methods below, but its options mean nothing there.
 */
import { SchemaError } from '../errors.js';
import { ArraySchema } from './array.js';
import { FixedStringSchema } from './fixed-string.js';
import { FixedVecSchema } from './fixed-vec.js';
import {
  bindChild,
  describe,
  encode,
  encodeChild,
  type Internal,
  isSchema,
  validate,
  validateChild,
} from './shared.js';
import { SliceSchema } from './slice.js';
import type { Access, BindContext, Infer, Schema, WriteOptions } from './types.js';

export interface FieldOptions<T> {
  /**
   * The value the field starts with: when the owner creates the region, and when a migration adds
   * the field (or resets it because its old value does not fit). Checked against the schema here.
   * Without it the field starts at zero (0, '', [], false: all bytes zero).
   */
  readonly initial?: T;
  /** Names the field had before, most recent first: a migration carries the value over. */
  readonly renamedFrom?: string | readonly string[];
}

/** What `field()` adds to a schema, as structs and the state layer keep it beside the offset. */
export interface FieldMeta {
  /** True when `initial` was given. */
  readonly hasInitial: boolean;
  readonly initial?: unknown;
  readonly renamedFrom: readonly string[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export class FieldSchema<S extends Schema<unknown, unknown>>
  implements Schema<Infer<S>, Access<S>>, Internal<Infer<S>>
{
  readonly kind = 'field';
  readonly size: number;
  readonly align: number;
  readonly signature: string;
  readonly topLevelOnly?: boolean;
  /** The schema of the field's bytes. */
  readonly inner: S;
  readonly meta: FieldMeta;

  constructor(inner: S, options: FieldOptions<Infer<S>>) {
    if (!isSchema(inner)) {
      throw new SchemaError(
        `field(schema): expected a schema (u32, struct(…), channel(…)…), got ${describe(inner)}`,
      );
    }
    if (inner instanceof FieldSchema) {
      throw new SchemaError(
        `field(schema): expected a schema that is not already a field(), got field(${inner.inner.signature}): give both options to one field()`,
      );
    }
    if (typeof options !== 'object' || options === null || Array.isArray(options)) {
      throw new SchemaError(
        `field(${inner.signature}, options): expected an options object such as { initial: 1 }, got ${describe(options)}`,
      );
    }
    for (const key of Object.keys(options)) {
      if (key !== 'initial' && key !== 'renamedFrom') {
        throw new SchemaError(
          `field(${inner.signature}): expected the options initial and renamedFrom, got ${JSON.stringify(key)}`,
        );
      }
    }
    this.inner = inner;
    this.size = inner.size;
    this.align = inner.align;
    this.signature = inner.signature;
    if (inner.topLevelOnly === true) this.topLevelOnly = true;
    const hasInitial = options.initial !== undefined;
    let initial: unknown;
    if (hasInitial) {
      if (inner.topLevelOnly === true) {
        throw new SchemaError(
          `field(${inner.kind}): a ${inner.kind} holds no value, so it takes no initial value, got ${describe(options.initial)}`,
        );
      }
      try {
        inner.check(options.initial, 'initial');
      } catch (e) {
        throw new SchemaError(
          `field(${inner.signature}): the initial value does not fit: ${(e as Error).message}`,
          { cause: e },
        );
      }
      // A copy: the caller's object may change later, the layout's value must not.
      initial = structuredClone(options.initial);
    }
    const renamedFrom = renameHints(options.renamedFrom, `field(${inner.signature})`);
    this.meta = Object.freeze(
      hasInitial ? { hasInitial, initial, renamedFrom } : { hasInitial, renamedFrom },
    );
  }

  read(view: DataView, offset: number): Infer<S> {
    return this.inner.read(view, offset) as Infer<S>;
  }

  write(view: DataView, offset: number, value: Infer<S>, options?: WriteOptions): void {
    this.inner.write(view, offset, value, options);
  }

  check(value: unknown, path: string): void {
    this.inner.check(value, path);
  }

  [validate](value: unknown, path: string, truncate: boolean): void {
    validateChild(this.inner, value, path, truncate);
  }

  [encode](view: DataView, offset: number, value: Infer<S>, truncate: boolean): void {
    encodeChild(this.inner, view, offset, value, truncate);
  }

  bind(ctx: BindContext, offset: number, path?: string): Access<S> {
    return (
      path === undefined ? this.inner.bind(ctx, offset) : bindChild(this.inner, ctx, offset, path)
    ) as Access<S>;
  }

  init(view: DataView, offset: number): void {
    this.inner.init?.(view, offset);
  }

  verify(view: DataView, offset: number, path: string): void {
    this.inner.verify?.(view, offset, path);
  }

  repair(view: DataView, offset: number, path: string, deep: boolean): string | undefined {
    return this.inner.repair?.(view, offset, path, deep);
  }

  toString(): string {
    return this.signature;
  }
}

function renameHints(hints: unknown, where: string): readonly string[] {
  if (hints === undefined) return Object.freeze([]);
  const list = typeof hints === 'string' ? [hints] : hints;
  if (!Array.isArray(list) || list.length === 0) {
    throw new SchemaError(
      `${where}: renamedFrom: expected a field name or a non-empty array of them, got ${describe(hints)}`,
    );
  }
  for (const name of list) {
    if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
      throw new SchemaError(
        `${where}: renamedFrom: expected field names (identifiers), got ${describe(name)}`,
      );
    }
  }
  if (new Set(list).size !== list.length) {
    throw new SchemaError(`${where}: renamedFrom: expected distinct names, got ${list.join(', ')}`);
  }
  return Object.freeze([...(list as string[])]);
}

/** The schema of a field's bytes and what `field()` said about it (nothing for a bare schema). */
export function unwrapField(s: Schema<unknown, unknown>): {
  readonly schema: Schema<unknown, unknown>;
  readonly meta?: FieldMeta;
} {
  return s instanceof FieldSchema ? { schema: s.inner, meta: s.meta } : { schema: s };
}

/**
 * Checks the rename hints of the members of one struct (or of one state) against each other:
 * a hint may not name the member itself, another current member, or the same old name as
 * another member's hint (each old value can go to one place only).
 */
export function checkRenames(
  members: ReadonlyArray<{ readonly name: string; readonly meta?: FieldMeta }>,
  where: string,
): void {
  const names = new Set(members.map((m) => m.name));
  const claimed = new Map<string, string>();
  for (const m of members) {
    for (const old of m.meta?.renamedFrom ?? []) {
      if (old === m.name) {
        throw new SchemaError(`${where}: field "${m.name}" is renamedFrom itself`);
      }
      if (names.has(old)) {
        throw new SchemaError(
          `${where}: field "${m.name}" is renamedFrom "${old}", which is a field here too: a rename hint names a field that no longer exists`,
        );
      }
      const other = claimed.get(old);
      if (other !== undefined) {
        throw new SchemaError(
          `${where}: fields "${other}" and "${m.name}" are both renamedFrom "${old}": its value can go to one of them only`,
        );
      }
      claimed.set(old, m.name);
    }
  }
}

/**
 * The value a schema starts with: the fields' initial values where `field()` gave one, zeros
 * elsewhere. Undefined for a schema that holds no value (a channel, a framebuffer).
 */
export function defaultValue(s: Schema<unknown, unknown>): unknown {
  if (s instanceof FieldSchema) {
    return s.meta.hasInitial ? structuredClone(s.meta.initial) : defaultValue(s.inner);
  }
  if (s.topLevelOnly === true) return undefined;
  // Structs are recognised by their layout (the class is imported by the state layer, which
  // depends on this file: no import cycle through struct.ts).
  const layout = (
    s as { layout?: ReadonlyArray<{ name: string; schema: Schema; meta?: FieldMeta }> }
  ).layout;
  if (s.kind === 'struct' && Array.isArray(layout)) {
    const out: Record<string, unknown> = {};
    for (const m of layout) {
      out[m.name] = m.meta?.hasInitial ? structuredClone(m.meta.initial) : defaultValue(m.schema);
    }
    return out;
  }
  if (s instanceof ArraySchema) {
    return Array.from({ length: s.length }, () => defaultValue(s.element));
  }
  if (s instanceof FixedVecSchema) return [];
  if (s instanceof FixedStringSchema) return '';
  if (s instanceof SliceSchema) return s.read(new DataView(new ArrayBuffer(s.size)), 0);
  switch (s.kind) {
    case 'u64':
    case 'i64':
      return 0n;
    case 'bool':
      return false;
    case 'unit':
      return null;
    default:
      return 0;
  }
}

/** True when some part of `s` starts at something other than zero bytes. */
export function hasInitial(s: Schema<unknown, unknown>): boolean {
  if (s instanceof FieldSchema) return s.meta.hasInitial || hasInitial(s.inner);
  const layout = (s as { layout?: ReadonlyArray<{ schema: Schema; meta?: FieldMeta }> }).layout;
  if (s.kind === 'struct' && Array.isArray(layout)) {
    return layout.some((m) => m.meta?.hasInitial === true || hasInitial(m.schema));
  }
  if (s instanceof ArraySchema) return hasInitial(s.element);
  return false;
}

/**
 * A field with an initial value and the names it had before.
 *
 * @example
 * const Memory = struct({
 *   clicks: field(u32, { initial: 1 }),
 *   colour: field(u32, { initial: 0xff3366cc, renamedFrom: 'color' }),
 * });
 * type Memory = Infer<typeof Memory>; // { clicks: number; colour: number }
 */
export function field<S extends Schema<unknown, unknown>>(
  schema: S,
  options: FieldOptions<Infer<S>> = {},
): FieldSchema<S> {
  return new FieldSchema(schema, options);
}
