/**
 * The layout of a whole state region: the top-level fields laid out after the header like the
 * members of a C struct, each hot field (channels, framebuffers) on its own 64-byte lines. The
 * signature is JSON (one entry per field) so that when two sides disagree, the difference can be
 * named field by field rather than reported as two opaque hashes.
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
  readonly fields: readonly FieldLayout[];
  /** Bytes from the first field to the end of the last, starting at `start`. */
  readonly dataSize: number;
  readonly start: number;
  readonly signature: string;
  readonly fingerprint: Uint8Array;
}

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

/**
 * Names what differs between the owner's layout signature and ours, field by field. Input from
 * shared memory is untrusted: anything that does not parse is reported as such, never evaluated.
 */
export function diffSignatures(ownerSignature: string, ours: string): string[] {
  let theirs: SignatureJson;
  let mine: SignatureJson;
  try {
    theirs = JSON.parse(ownerSignature) as SignatureJson;
    mine = JSON.parse(ours) as SignatureJson;
    const wellFormed = (j: SignatureJson): boolean =>
      typeof j === 'object' &&
      j !== null &&
      Array.isArray(j.fields) &&
      j.fields.every((f) => Array.isArray(f) && f.length === 3 && typeof f[0] === 'string');
    if (!wellFormed(theirs) || !wellFormed(mine)) throw new Error('malformed');
  } catch {
    return ["the owner's layout description is unreadable"];
  }
  // The owner's side comes from shared memory: shown as JSON text, never through String(), which
  // would call a `toString` the JSON itself may define.
  const text = (v: unknown): string =>
    typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined');
  const diffs: string[] = [];
  if (theirs.state !== mine.state)
    diffs.push(`state is "${text(theirs.state)}" in the owner, "${mine.state}" here`);
  const theirMap = new Map(theirs.fields.map((f) => [f[0], f]));
  const myMap = new Map(mine.fields.map((f) => [f[0], f]));
  for (const [name, f] of myMap) {
    const t = theirMap.get(name);
    if (!t) diffs.push(`field "${name}" (${f[1]}) is new here and missing in the owner`);
    else if (t[1] !== f[1])
      diffs.push(`field "${name}" is ${text(t[1])} in the owner, ${f[1]} here`);
    else if (t[2] !== f[2])
      diffs.push(`field "${name}" is at byte ${text(t[2])} in the owner, ${f[2]} here`);
  }
  for (const [name, t] of theirMap) {
    if (!myMap.has(name))
      diffs.push(`field "${name}" (${text(t[1])}) is in the owner but was removed here`);
  }
  if (diffs.length === 0) {
    const order = (s: SignatureJson) => s.fields.map((f) => f[0]).join(',');
    if (order(theirs) !== order(mine))
      diffs.push(`field order is ${order(theirs)} in the owner, ${order(mine)} here`);
  }
  return diffs;
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
