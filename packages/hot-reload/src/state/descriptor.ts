/**
 * Layout descriptors: a state's layout as plain JSON data, and back. A region's header holds its
 * layout's descriptor, so any process (a restarted owner, a runner holding a new definition) can
 * learn the layout from the region itself; a new renderer's definition travels to the owner the
 * same way, and the owner rebuilds it with the real factories to migrate its region.
 *
 * Rebuilding checks everything: each kind's arguments (through the factories themselves, so a bad
 * capacity is the factory's own SchemaError), every offset the descriptor states against the one
 * recomputed, and the fingerprint against the one recomputed from the rebuilt signature. Data from
 * shared memory or from another process is never trusted further than that.
 *
 * Only schemas made by this library's factories can be described faithfully. Anything else (a
 * schema some other module implements) is described as `opaque`: its signature, size and
 * alignment, enough to carry its bytes over when the other side has the very same type.
 */
import { channel } from '../channel/index.js';
import { SchemaError } from '../errors.js';
import { framebuffer, type PixelFormat } from '../frames/index.js';
import type { FieldMeta, SliceElement } from '../schema/index.js';
import {
  ArraySchema,
  array,
  bool,
  FieldSchema,
  FixedStringSchema,
  FixedVecSchema,
  f32,
  f64,
  field,
  fixedString,
  fixedVec,
  i8,
  i16,
  i32,
  i64,
  SliceSchema,
  StructSchema,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
  unit,
} from '../schema/index.js';
import { describe as describeValue } from '../schema/shared.js';
import type { BindContext, Schema } from '../schema/types.js';
import { layoutState, type StateLayout } from './layout.js';

/** Bump when the shape of a descriptor changes. */
export const DESCRIPTOR_FORMAT = 1;

/** A JSON value, as descriptors hold initial values. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

type PrimitiveName =
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
type SliceName = Exclude<PrimitiveName, 'bool' | 'unit'>;

/** One schema, as data. */
export type TypeDescriptor =
  | { readonly kind: PrimitiveName }
  | { readonly kind: 'struct'; readonly fields: readonly MemberDescriptor[] }
  | { readonly kind: 'array'; readonly element: TypeDescriptor; readonly length: number }
  | { readonly kind: 'fixedString'; readonly capacity: number }
  | { readonly kind: 'fixedVec'; readonly element: TypeDescriptor; readonly capacity: number }
  | { readonly kind: 'slice'; readonly element: SliceName; readonly length: number }
  | {
      readonly kind: 'channel';
      readonly message: TypeDescriptor;
      readonly capacity: number;
      readonly latest: boolean;
      /** Present for `'handled'` only (`'taken'` is the default). */
      readonly delivery?: 'handled';
    }
  | {
      readonly kind: 'framebuffer';
      readonly width: number;
      readonly height: number;
      /** Present for `'abgr8888'` only (`'argb8888'` is the default). */
      readonly format?: 'abgr8888';
    }
  /** A `field()` where it is not unwrapped (an array element, a message). */
  | {
      readonly kind: 'field';
      readonly type: TypeDescriptor;
      readonly initial?: JsonValue;
      readonly renamedFrom?: readonly string[];
    }
  | {
      readonly kind: 'opaque';
      readonly signature: string;
      readonly size: number;
      readonly align: number;
    };

/** A struct member or a state field: its name, where it is, its type and what `field()` said. */
export interface MemberDescriptor {
  readonly name: string;
  readonly offset: number;
  readonly type: TypeDescriptor;
  readonly initial?: JsonValue;
  readonly renamedFrom?: readonly string[];
}

/** A whole state's layout, as data (what the region header holds). */
export interface LayoutDescriptor {
  readonly format: number;
  /** The state's name. */
  readonly state: string;
  /** Where the first field may start (the header's size). */
  readonly start: number;
  /** Bytes from `start` to the end of the last field. */
  readonly size: number;
  readonly fields: readonly MemberDescriptor[];
  /** The layout fingerprint, 32 hex digits. */
  readonly fingerprint: string;
}

const PRIMITIVES: Readonly<Record<PrimitiveName, Schema>> = {
  u8,
  u16,
  u32,
  u64,
  i8,
  i16,
  i32,
  i64,
  f32,
  f64,
  bool,
  unit,
};
const SLICE_ELEMENTS: ReadonlySet<string> = new Set([
  'u8',
  'u16',
  'u32',
  'u64',
  'i8',
  'i16',
  'i32',
  'i64',
  'f32',
  'f64',
]);

/** Deeper than this is refused: no layout nests so far, and hostile data must not blow the stack. */
const MAX_DEPTH = 64;

// ---- describing ------------------------------------------------------------------------------

/**
 * The descriptor of a state layout.
 *
 * @example
 * const d = describeLayout(State.layout({ width: 300, height: 300 }));
 * JSON.stringify(d); // travels to another process, or into the region header
 */
export function describeLayout(layout: StateLayout): LayoutDescriptor {
  return {
    format: DESCRIPTOR_FORMAT,
    state: layout.state,
    start: layout.start,
    size: layout.dataSize,
    fields: layout.fields.map((f) => member(f.name, f.offset, f.schema, f.meta)),
    fingerprint: Buffer.from(layout.fingerprint).toString('hex'),
  };
}

function member(name: string, offset: number, schema: Schema, meta?: FieldMeta): MemberDescriptor {
  const type = describeSchema(schema);
  const out: { -readonly [K in keyof MemberDescriptor]: MemberDescriptor[K] } = {
    name,
    offset,
    type,
  };
  if (meta?.hasInitial) out.initial = valueToJson(schema, meta.initial);
  if (meta !== undefined && meta.renamedFrom.length > 0) out.renamedFrom = [...meta.renamedFrom];
  return out;
}

/** The descriptor of one schema (opaque when it is not one of this library's). */
export function describeSchema(schema: Schema): TypeDescriptor {
  const described = describeKnown(schema);
  // A kind whose description does not rebuild to the same signature (a factory option this file
  // does not know of) is carried as opaque bytes rather than described wrongly.
  if (described !== undefined) {
    try {
      if (schemaFromDescriptor(described).signature === schema.signature) return described;
    } catch {
      // fall through to opaque
    }
  }
  return { kind: 'opaque', signature: schema.signature, size: schema.size, align: schema.align };
}

function describeKnown(s: Schema): TypeDescriptor | undefined {
  if (s instanceof FieldSchema) {
    const inner = describeKnown(s.inner);
    if (inner === undefined) return undefined;
    const out: {
      kind: 'field';
      type: TypeDescriptor;
      initial?: JsonValue;
      renamedFrom?: string[];
    } = { kind: 'field', type: inner };
    if (s.meta.hasInitial) out.initial = valueToJson(s.inner, s.meta.initial);
    if (s.meta.renamedFrom.length > 0) out.renamedFrom = [...s.meta.renamedFrom];
    return out;
  }
  if (Object.hasOwn(PRIMITIVES, s.kind) && PRIMITIVES[s.kind as PrimitiveName] === s) {
    return { kind: s.kind as PrimitiveName };
  }
  if (s instanceof StructSchema) {
    return {
      kind: 'struct',
      fields: s.layout.map((m) => member(m.name, m.offset, m.schema, m.meta)),
    };
  }
  if (s instanceof ArraySchema) {
    return { kind: 'array', element: describeSchema(s.element), length: s.length };
  }
  if (s instanceof FixedStringSchema) return { kind: 'fixedString', capacity: s.capacity };
  if (s instanceof FixedVecSchema) {
    return { kind: 'fixedVec', element: describeSchema(s.element), capacity: s.capacity };
  }
  if (s instanceof SliceSchema) {
    return { kind: 'slice', element: s.element.kind as SliceName, length: s.length };
  }
  const any = s as Partial<{
    message: Schema;
    capacity: number;
    latest: boolean;
    delivery: string;
  }> &
    Partial<{ width: number; height: number; format: string }>;
  if (s.kind === 'channel' && any.message !== undefined) {
    const d = {
      kind: 'channel' as const,
      message: describeSchema(any.message),
      capacity: any.capacity ?? 0,
      latest: any.latest === true,
    };
    return any.delivery === 'handled' ? { ...d, delivery: 'handled' } : d;
  }
  if (s.kind === 'framebuffer' && any.width !== undefined && any.height !== undefined) {
    const d = { kind: 'framebuffer' as const, width: any.width, height: any.height };
    return any.format === 'abgr8888' ? { ...d, format: 'abgr8888' } : d;
  }
  return undefined;
}

// ---- rebuilding ------------------------------------------------------------------------------

/**
 * Rebuilds a state layout from its descriptor with the real factories, and checks that it is the
 * layout the descriptor says: every offset, the size and the fingerprint. Throws `SchemaError`
 * naming the first thing that is wrong.
 *
 * @example
 * const layout = layoutFromDescriptor(JSON.parse(text));
 */
export function layoutFromDescriptor(data: unknown): StateLayout {
  const d = record(data, 'layout descriptor', [
    'format',
    'state',
    'start',
    'size',
    'fields',
    'fingerprint',
  ]);
  if (d.format !== DESCRIPTOR_FORMAT) {
    throw new SchemaError(
      `layout descriptor: expected format ${DESCRIPTOR_FORMAT}, got ${describeValue(d.format)}`,
    );
  }
  if (typeof d.state !== 'string' || d.state === '') {
    throw new SchemaError(
      `layout descriptor: state: expected a non-empty name, got ${describeValue(d.state)}`,
    );
  }
  const start = count(d.start, 'layout descriptor: start', 0);
  if (!Array.isArray(d.fields)) {
    throw new SchemaError(
      `layout descriptor: fields: expected an array, got ${describeValue(d.fields)}`,
    );
  }
  const fields: Record<string, Schema> = {};
  const stated: Array<[string, number]> = [];
  d.fields.forEach((f: unknown, i: number) => {
    const m = memberFromDescriptor(f, `layout descriptor: fields[${i}]`, 1);
    if (Object.hasOwn(fields, m.name)) {
      throw new SchemaError(`layout descriptor: field "${m.name}" appears twice`);
    }
    fields[m.name] = m.schema;
    stated.push([m.name, m.offset]);
  });
  const layout = layoutState(d.state, fields, start);
  for (const [i, f] of layout.fields.entries()) {
    const [, offset] = stated[i]!;
    if (f.offset !== offset) {
      throw new SchemaError(
        `layout descriptor: field "${f.name}" is at byte ${offset} in the descriptor, expected ${f.offset} for its type`,
      );
    }
  }
  if (d.size !== layout.dataSize) {
    throw new SchemaError(
      `layout descriptor: its size is ${describeValue(d.size)}, expected ${layout.dataSize} for its fields`,
    );
  }
  const fp = Buffer.from(layout.fingerprint).toString('hex');
  if (d.fingerprint !== fp) {
    throw new SchemaError(
      `layout descriptor: its fingerprint is ${describeValue(d.fingerprint)}, expected ${fp} for its fields`,
    );
  }
  return layout;
}

/** Rebuilds one schema from its descriptor (see `layoutFromDescriptor`). */
export function schemaFromDescriptor(data: unknown): Schema {
  return build(data, 'type', 1);
}

function memberFromDescriptor(
  data: unknown,
  where: string,
  depth: number,
): { name: string; offset: number; schema: Schema } {
  const m = record(data, where, ['name', 'offset', 'type'], ['initial', 'renamedFrom']);
  if (typeof m.name !== 'string') {
    throw new SchemaError(`${where}: name: expected a string, got ${describeValue(m.name)}`);
  }
  const offset = count(m.offset, `${where}: offset`, 0);
  const inner = build(m.type, `${where} ("${m.name}")`, depth + 1);
  return { name: m.name, offset, schema: withMeta(inner, m, `${where} ("${m.name}")`) };
}

function withMeta(schema: Schema, m: Record<string, unknown>, where: string): Schema {
  if (m.initial === undefined && m.renamedFrom === undefined) return schema;
  const options: { initial?: unknown; renamedFrom?: string[] } = {};
  if (m.initial !== undefined)
    options.initial = valueFromJson(schema, m.initial, `${where}: initial`);
  if (m.renamedFrom !== undefined) options.renamedFrom = m.renamedFrom as string[];
  return field(schema, options as never);
}

function build(data: unknown, where: string, depth: number): Schema {
  if (depth > MAX_DEPTH) {
    throw new SchemaError(`${where}: expected types nested at most ${MAX_DEPTH} deep`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SchemaError(
      `${where}: expected a type descriptor such as { kind: 'u32' }, got ${describeValue(data)}`,
    );
  }
  const kind = (data as { kind?: unknown }).kind;
  if (typeof kind === 'string' && Object.hasOwn(PRIMITIVES, kind)) {
    record(data, where, ['kind']);
    return PRIMITIVES[kind as PrimitiveName];
  }
  switch (kind) {
    case 'struct': {
      const d = record(data, where, ['kind', 'fields']);
      if (!Array.isArray(d.fields)) {
        throw new SchemaError(
          `${where}: fields: expected an array, got ${describeValue(d.fields)}`,
        );
      }
      const members: Record<string, Schema> = {};
      const stated: number[] = [];
      d.fields.forEach((f: unknown, i: number) => {
        const m = memberFromDescriptor(f, `${where}.fields[${i}]`, depth);
        if (Object.hasOwn(members, m.name)) {
          throw new SchemaError(`${where}: member "${m.name}" appears twice`);
        }
        members[m.name] = m.schema;
        stated.push(m.offset);
      });
      const s = struct(members);
      for (const [i, m] of s.layout.entries()) {
        if (m.offset !== stated[i]) {
          throw new SchemaError(
            `${where}: member "${m.name}" is at byte ${stated[i]} in the descriptor, expected ${m.offset} for its type`,
          );
        }
      }
      return s;
    }
    case 'array': {
      const d = record(data, where, ['kind', 'element', 'length']);
      return array(build(d.element, `${where}.element`, depth + 1), d.length as number);
    }
    case 'fixedString': {
      const d = record(data, where, ['kind', 'capacity']);
      return fixedString(d.capacity as number);
    }
    case 'fixedVec': {
      const d = record(data, where, ['kind', 'element', 'capacity']);
      return fixedVec(build(d.element, `${where}.element`, depth + 1), d.capacity as number);
    }
    case 'slice': {
      const d = record(data, where, ['kind', 'element', 'length']);
      if (typeof d.element !== 'string' || !SLICE_ELEMENTS.has(d.element)) {
        throw new SchemaError(
          `${where}: element: expected one of ${[...SLICE_ELEMENTS].join(', ')}, got ${describeValue(d.element)}`,
        );
      }
      return slice(PRIMITIVES[d.element as SliceName] as SliceElement, d.length as number);
    }
    case 'channel': {
      const d = record(data, where, ['kind', 'message', 'capacity', 'latest'], ['delivery']);
      if (typeof d.latest !== 'boolean') {
        throw new SchemaError(
          `${where}: latest: expected a boolean, got ${describeValue(d.latest)}`,
        );
      }
      if (d.delivery !== undefined && d.delivery !== 'handled') {
        throw new SchemaError(
          `${where}: delivery: expected 'handled' (or no delivery, for 'taken'), got ${describeValue(d.delivery)}`,
        );
      }
      return channel(build(d.message, `${where}.message`, depth + 1), {
        capacity: d.capacity as number,
        latest: d.latest,
        ...(d.delivery === 'handled' ? { delivery: 'handled' as const } : {}),
      });
    }
    case 'framebuffer': {
      const d = record(data, where, ['kind', 'width', 'height'], ['format']);
      // framebuffer() checks the format as it checks the sizes (a SchemaError for another).
      return framebuffer(
        d.width as number,
        d.height as number,
        d.format === undefined ? {} : { format: d.format as PixelFormat },
      );
    }
    case 'field': {
      const d = record(data, where, ['kind', 'type'], ['initial', 'renamedFrom']);
      const inner = build(d.type, `${where}.type`, depth + 1);
      const wrapped = withMeta(inner, d, where);
      return wrapped === inner ? field(inner) : wrapped;
    }
    case 'opaque': {
      const d = record(data, where, ['kind', 'signature', 'size', 'align']);
      if (typeof d.signature !== 'string') {
        throw new SchemaError(
          `${where}: signature: expected a string, got ${describeValue(d.signature)}`,
        );
      }
      const align = count(d.align, `${where}: align`, 1);
      if (align > 4096 || (align & (align - 1)) !== 0) {
        throw new SchemaError(`${where}: align: expected a power of two up to 4096, got ${align}`);
      }
      const size = count(d.size, `${where}: size`, 0);
      if (size % align !== 0) {
        throw new SchemaError(
          `${where}: size: expected a multiple of its align (${align}), got ${size}`,
        );
      }
      return opaque(d.signature, size, align);
    }
    default:
      throw new SchemaError(
        `${where}: kind: expected one of ${[...Object.keys(PRIMITIVES), 'struct', 'array', 'fixedString', 'fixedVec', 'slice', 'channel', 'framebuffer', 'field', 'opaque'].join(', ')}, got ${describeValue(kind)}`,
      );
  }
}

/** An object with exactly the `required` keys (and any of the `optional` ones). */
function record(
  data: unknown,
  where: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SchemaError(`${where}: expected an object, got ${describeValue(data)}`);
  }
  const d = data as Record<string, unknown>;
  for (const key of required) {
    if (!Object.hasOwn(d, key)) throw new SchemaError(`${where}: expected a "${key}", got none`);
  }
  for (const key of Object.keys(d)) {
    if (!required.includes(key) && !optional.includes(key)) {
      throw new SchemaError(
        `${where}: expected only ${[...required, ...optional].join(', ')}, got "${key}"`,
      );
    }
  }
  return d;
}

function count(v: unknown, where: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new SchemaError(`${where}: expected an integer ≥ ${min}, got ${describeValue(v)}`);
  }
  return v;
}

/**
 * A schema that only knows its bytes' size, alignment and signature: what another module's type
 * looks like from its description. A migration copies its bytes when the other side's signature is
 * the same; it has no value and no accessor.
 */
export function opaque(signature: string, size: number, align: number): Schema {
  const refuse = (): never => {
    throw new SchemaError(
      `${signature} was rebuilt from a layout descriptor, which cannot describe this type: expected a schema made by this library's factories`,
    );
  };
  return {
    kind: 'opaque',
    size,
    align,
    signature,
    read: refuse,
    write: refuse,
    check: refuse,
    bind: refuse as (ctx: BindContext, offset: number) => never,
  };
}

// ---- values as JSON ----------------------------------------------------------------------------

/**
 * A plain value of `schema` as JSON: bigints as decimal strings, non-finite floats and -0 as the
 * strings "NaN", "Infinity", "-Infinity", "-0", typed arrays as arrays.
 */
export function valueToJson(schema: Schema, value: unknown): JsonValue {
  const s = schema instanceof FieldSchema ? schema.inner : schema;
  switch (s.kind) {
    case 'u64':
    case 'i64':
      return String(value);
    case 'f32':
    case 'f64':
      return floatToJson(value as number);
    default:
      break;
  }
  if (s instanceof StructSchema) {
    const out: Record<string, JsonValue> = {};
    for (const m of s.layout)
      out[m.name] = valueToJson(m.schema, (value as Record<string, unknown>)[m.name]);
    return out;
  }
  if (s instanceof ArraySchema || s instanceof FixedVecSchema) {
    return (value as unknown[]).map((v) => valueToJson(s.element, v));
  }
  if (s instanceof SliceSchema) {
    return Array.from(value as ArrayLike<number | bigint>, (v) =>
      typeof v === 'bigint' ? String(v) : floatToJson(v),
    );
  }
  return value as JsonValue;
}

function floatToJson(v: number): JsonValue {
  if (Number.isFinite(v) && !Object.is(v, -0)) return v;
  return Object.is(v, -0) ? '-0' : String(v);
}

const FLOAT_WORDS: Readonly<Record<string, number>> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

/** The value `valueToJson` wrote, checked against `schema` (SchemaError naming `where`). */
export function valueFromJson(schema: Schema, json: unknown, where: string): unknown {
  let value: unknown;
  try {
    value = decodeJson(schema, json, 1);
  } catch (e) {
    throw new SchemaError(`${where}: ${(e as Error).message}`, { cause: e });
  }
  try {
    schema.check(value, where);
  } catch (e) {
    // The schema's own message already names `where`.
    throw new SchemaError((e as Error).message, { cause: e });
  }
  return value;
}

function decodeJson(schema: Schema, json: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new SchemaError(`expected values nested at most ${MAX_DEPTH} deep`);
  const s = schema instanceof FieldSchema ? schema.inner : schema;
  switch (s.kind) {
    case 'u64':
    case 'i64':
      if (typeof json !== 'string' || !/^-?\d{1,20}$/.test(json)) {
        throw new SchemaError(
          `expected a ${s.kind} as a decimal string, got ${describeValue(json)}`,
        );
      }
      return BigInt(json);
    case 'f32':
    case 'f64':
      return typeof json === 'string' && Object.hasOwn(FLOAT_WORDS, json)
        ? FLOAT_WORDS[json]
        : json;
    default:
      break;
  }
  if (s instanceof StructSchema) {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) {
      const m = s.layout.find((f) => f.name === k);
      out[k] = m === undefined ? v : decodeJson(m.schema, v, depth + 1);
    }
    return out;
  }
  if (s instanceof ArraySchema || s instanceof FixedVecSchema) {
    return Array.isArray(json) ? json.map((v) => decodeJson(s.element, v, depth + 1)) : json;
  }
  if (s instanceof SliceSchema) {
    if (!Array.isArray(json)) return json;
    const zero = s.read(new DataView(new ArrayBuffer(s.size)), 0) as unknown as {
      [i: number]: number | bigint;
      length: number;
    };
    if (json.length !== zero.length) return json;
    const big = s.element.kind === 'u64' || s.element.kind === 'i64';
    for (let i = 0; i < json.length; i++) {
      const v = decodeJson(s.element, json[i], depth + 1);
      if (big ? typeof v !== 'bigint' : typeof v !== 'number') {
        throw new SchemaError(
          `[${i}]: expected a ${s.element.kind}, got ${describeValue(json[i])}`,
        );
      }
      zero[i] = v as number | bigint;
    }
    return zero;
  }
  return json;
}

// ---- explaining a mismatch -------------------------------------------------------------------

/**
 * Names what differs between the owner's layout (its descriptor, as the region header holds it)
 * and ours, field by field. The owner's side is untrusted input: anything that does not rebuild
 * is reported as such, never evaluated, and this never throws.
 */
export function diffLayouts(ownerDescriptor: string, ours: StateLayout): string[] {
  let theirs: StateLayout;
  try {
    theirs = layoutFromDescriptor(JSON.parse(ownerDescriptor));
  } catch (e) {
    return [`the owner's layout description is unreadable (${(e as Error).message})`];
  }
  const diffs: string[] = [];
  if (theirs.state !== ours.state) {
    diffs.push(
      `state is ${JSON.stringify(theirs.state)} in the owner, ${JSON.stringify(ours.state)} here`,
    );
  }
  const theirMap = new Map(theirs.fields.map((f) => [f.name, f]));
  const ourMap = new Map(ours.fields.map((f) => [f.name, f]));
  for (const [name, f] of ourMap) {
    const t = theirMap.get(name);
    if (!t)
      diffs.push(`field "${name}" (${f.schema.signature}) is new here and missing in the owner`);
    else if (t.schema.signature !== f.schema.signature)
      diffs.push(
        `field "${name}" is ${t.schema.signature} in the owner, ${f.schema.signature} here`,
      );
    else if (t.offset !== f.offset)
      diffs.push(`field "${name}" is at byte ${t.offset} in the owner, ${f.offset} here`);
  }
  for (const [name, t] of theirMap) {
    if (!ourMap.has(name)) {
      diffs.push(`field "${name}" (${t.schema.signature}) is in the owner but was removed here`);
    }
  }
  if (diffs.length === 0) {
    const order = (l: StateLayout): string => l.fields.map((f) => f.name).join(',');
    if (order(theirs) !== order(ours)) {
      diffs.push(`field order is ${order(theirs)} in the owner, ${order(ours)} here`);
    } else if (theirs.start !== ours.start) {
      diffs.push(`the fields start at byte ${theirs.start} in the owner, ${ours.start} here`);
    }
  }
  return diffs;
}
