/**
 * The layout of a whole state region: the top-level fields laid out after the header like the
 * members of a C struct, each hot field (channels, framebuffers) on its own 64-byte lines. Its
 * signature (JSON: the state's name, then each field's name, signature and offset) is what the
 * fingerprint is taken of; the region header holds the layout's descriptor (./descriptor.ts),
 * from which a mismatch is named field by field.
 */
import { SchemaError } from '../errors.js';
import {
  checkRenames,
  defaultValue,
  type FieldMeta,
  fingerprint,
  hasInitial,
  unwrapField,
} from '../schema/index.js';
import type { Schema } from '../schema/types.js';

export const RESERVED_FIELD_NAMES: ReadonlySet<string> = new Set([
  'args',
  'region',
  'supervisor',
  'host',
  'hot',
  'close',
  'resize',
  'epoch',
  'signal',
  'then',
]);

export interface FieldLayout {
  readonly name: string;
  /** The schema of the field's bytes (a `field()` is unwrapped: its options are in `meta`). */
  readonly schema: Schema;
  readonly offset: number;
  /** The initial value and rename hints, when the field was declared with `field()`. */
  readonly meta?: FieldMeta;
}

export interface StateLayout {
  /** The state's name. */
  readonly state: string;
  readonly fields: readonly FieldLayout[];
  /** Bytes from the first field to the end of the last, starting at `start`. */
  readonly dataSize: number;
  readonly start: number;
  readonly signature: string;
  readonly fingerprint: Uint8Array;
}

/** What the fingerprint is taken of: the state's name and each field's name, type and offset. */
interface SignatureJson {
  readonly state: string;
  readonly fields: ReadonlyArray<readonly [name: string, signature: string, offset: number]>;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/**
 * Lays `fields` out from byte `start` of the region (the end of the header), in declaration order.
 */
export function layoutState(
  stateName: string,
  fields: Record<string, Schema>,
  start: number,
): StateLayout {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) {
    throw new SchemaError(
      `state ${stateName}: expected fields to be an object of schemas, got ${describe(fields)}`,
    );
  }
  const out: FieldLayout[] = [];
  let at = start;
  for (const [name, given] of Object.entries(fields)) {
    if (RESERVED_FIELD_NAMES.has(name)) {
      throw new SchemaError(
        `state ${stateName}: field name "${name}" is reserved (reserved: ${[...RESERVED_FIELD_NAMES].join(', ')})`,
      );
    }
    if (!isSchema(given)) {
      throw new SchemaError(
        `state ${stateName}: field "${name}" expected a schema (u32, struct(…), channel(…)…), got ${describe(given)}`,
      );
    }
    const { schema, meta } = unwrapField(given);
    at = alignUp(at, Math.max(schema.align, 1));
    out.push(
      meta === undefined ? { name, schema, offset: at } : { name, schema, offset: at, meta },
    );
    at += schema.size;
  }
  if (out.length === 0)
    throw new SchemaError(`state ${stateName}: expected at least one field, got none`);
  checkRenames(out, `state ${stateName}`);
  const json: SignatureJson = {
    state: stateName,
    fields: out.map((f) => [f.name, f.schema.signature, f.offset] as const),
  };
  const signature = JSON.stringify(json);
  return {
    state: stateName,
    fields: out,
    start,
    dataSize: at - start,
    signature,
    fingerprint: fingerprint(signature),
  };
}

/**
 * Prepares fresh (all-zero) bytes for `layout`: each field's own `init` (a framebuffer's first
 * epoch), then the initial values `field()` declared, at any depth. Fields with no initial value
 * anywhere inside stay zero, which is their default, so a large framebuffer costs nothing here.
 */
export function initFields(layout: StateLayout, view: DataView): void {
  for (const f of layout.fields) {
    f.schema.init?.(view, f.offset);
    writeDefault(f, view);
  }
}

/** Writes the value a field starts with, if it is not all zeros. */
export function writeDefault(f: FieldLayout, view: DataView): void {
  if (f.meta?.hasInitial) f.schema.write(view, f.offset, f.meta.initial);
  else if (hasInitial(f.schema)) f.schema.write(view, f.offset, defaultValue(f.schema));
}

export function isSchema(value: unknown): value is Schema {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Partial<Schema>;
  return (
    typeof s.kind === 'string' &&
    typeof s.size === 'number' &&
    typeof s.align === 'number' &&
    typeof s.signature === 'string' &&
    typeof s.bind === 'function'
  );
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
