/**
 * Migration: carrying a state's values from a region with one layout into a fresh region with
 * another, by field name (and `renamedFrom` hints) and compatible type, recursively through
 * structs, arrays and vecs. The rules (issue 17):
 *
 *   same type                copied, byte for byte
 *   numbers that widen       converted
 *   numbers that narrow      converted when the value is held exactly, else reset (and reported)
 *   fixedString              kept if it fits the new capacity, else reset
 *   fixedVec                 its first min(length, capacity) elements, each converted
 *   array                    the overlap, each element converted; new elements start at default
 *   slice                    the overlap, element by element
 *   framebuffer              its front frame (the overlapping rectangle on a new size), shown as
 *                            the new epoch's front
 *   channel                  pending messages claimed from the old ring (one CAS, so a consumer
 *                            racing the migration never gets one twice) and carried in order when
 *                            the message type migrates, else dropped and counted; a latest
 *                            channel its unseen value
 *   added                    the field's initial value (`field()`), or zero
 *   removed                  dropped
 *   anything else            reset, with the reason
 *
 * `planMigration` decides all of that from the two layouts alone; `executeMigration` applies a
 * plan to real bytes and says what happened in a report. A migration never throws on what it
 * finds in the old region and never writes outside a field of the new one: a value that cannot be
 * carried is reset, a message that cannot be decoded is dropped and counted.
 */
import { type Channel, type ChannelSchema, moveMessages } from '../channel/index.js';
import { beginFrameEpoch, carryFrame } from '../frames/framebuffer.js';
import type { FrameBuffer, FrameBufferSchema } from '../frames/index.js';
import type { Region } from '../memory/index.js';
import {
  ArraySchema,
  defaultValue,
  type FieldMeta,
  FixedStringSchema,
  FixedVecSchema,
  hasInitial,
  SliceSchema,
  StructSchema,
} from '../schema/index.js';
import { describe as describeValue } from '../schema/shared.js';
import type { Schema } from '../schema/types.js';
import { RegionContext } from './context.js';
import type { StateLayout } from './layout.js';

// ---- the plan --------------------------------------------------------------------------------

const NUMBERS: ReadonlySet<string> = new Set([
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

/** How the value of one schema becomes a value of another. */
export type Conversion =
  /** The same type: the bytes are copied. */
  | { readonly op: 'copy'; readonly from: Schema; readonly to: Schema }
  | { readonly op: 'number'; readonly from: Schema; readonly to: Schema; readonly widens: boolean }
  | { readonly op: 'string'; readonly from: FixedStringSchema; readonly to: FixedStringSchema }
  | {
      readonly op: 'struct';
      readonly from: StructSchema<never>;
      readonly to: StructSchema<never>;
      readonly members: readonly MemberStep[];
      /** Members of `from` that go nowhere. */
      readonly dropped: readonly string[];
    }
  | {
      readonly op: 'array';
      readonly from: ArraySchema<Schema>;
      readonly to: ArraySchema<Schema>;
      readonly element: Conversion;
    }
  | {
      readonly op: 'vec';
      readonly from: FixedVecSchema<Schema>;
      readonly to: FixedVecSchema<Schema>;
      readonly element: Conversion;
    }
  | {
      readonly op: 'slice';
      readonly from: SliceSchema<never>;
      readonly to: SliceSchema<never>;
      readonly element: Conversion;
    }
  | {
      readonly op: 'channel';
      readonly from: ChannelSchema<Schema>;
      readonly to: ChannelSchema<Schema>;
      readonly message: Conversion;
    }
  | { readonly op: 'framebuffer'; readonly from: FrameBufferSchema; readonly to: FrameBufferSchema }
  /** Nothing carries over: the target starts at its default, and `why` says so. */
  | { readonly op: 'reset'; readonly from: Schema; readonly to: Schema; readonly why: string };

/** One member (or top-level field) of the target, and where its value comes from. */
export interface MemberStep {
  readonly name: string;
  readonly offset: number;
  readonly schema: Schema;
  readonly meta?: FieldMeta;
  /** The member of the source it takes its value from; absent for an added member. */
  readonly source?: { readonly name: string; readonly offset: number; readonly schema: Schema };
  /** Present exactly when `source` is. */
  readonly conversion?: Conversion;
}

export interface MigrationPlan {
  readonly from: StateLayout;
  readonly to: StateLayout;
  /** One step per field of `to`, in its order. */
  readonly fields: readonly MemberStep[];
  /** Fields of `from` that go nowhere. */
  readonly dropped: readonly string[];
  /** True when the two layouts are the same: every byte of every field is carried as it is. */
  readonly identical: boolean;
}

interface Member {
  readonly name: string;
  readonly offset: number;
  readonly schema: Schema;
  readonly meta?: FieldMeta;
}

/**
 * Decides how each field of `to` gets its value from `from`.
 *
 * @example
 * const plan = planMigration(State.layout(oldArgs), State.layout(newArgs));
 * plan.fields.map((f) => [f.name, f.conversion?.op ?? 'added']);
 */
export function planMigration(from: StateLayout, to: StateLayout): MigrationPlan {
  const { steps, dropped } = matchMembers(from.fields, to.fields);
  return {
    from,
    to,
    fields: steps,
    dropped,
    identical: from.signature === to.signature,
  };
}

/** Pairs each target member with a source member: by name first, then by its rename hints. */
function matchMembers(
  source: readonly Member[],
  target: readonly Member[],
): { steps: MemberStep[]; dropped: string[] } {
  const byName = new Map(source.map((m) => [m.name, m]));
  const used = new Set<string>();
  const found = new Map<string, Member>();
  for (const t of target) {
    const s = byName.get(t.name);
    if (s !== undefined) {
      found.set(t.name, s);
      used.add(s.name);
    }
  }
  for (const t of target) {
    if (found.has(t.name)) continue;
    for (const old of t.meta?.renamedFrom ?? []) {
      const s = byName.get(old);
      if (s !== undefined && !used.has(old)) {
        found.set(t.name, s);
        used.add(old);
        break;
      }
    }
  }
  const steps = target.map((t): MemberStep => {
    const s = found.get(t.name);
    const base: MemberStep =
      t.meta === undefined
        ? { name: t.name, offset: t.offset, schema: t.schema }
        : { name: t.name, offset: t.offset, schema: t.schema, meta: t.meta };
    if (s === undefined) return base;
    return {
      ...base,
      source: { name: s.name, offset: s.offset, schema: s.schema },
      conversion: planConversion(s.schema, t.schema),
    };
  });
  return { steps, dropped: source.filter((s) => !used.has(s.name)).map((s) => s.name) };
}

/** How a value of `from` becomes a value of `to`. */
export function planConversion(from: Schema, to: Schema): Conversion {
  if (from.kind === 'channel' && to.kind === 'channel') {
    const f = from as ChannelSchema<Schema>;
    const t = to as ChannelSchema<Schema>;
    return { op: 'channel', from: f, to: t, message: planConversion(f.message, t.message) };
  }
  if (from.kind === 'framebuffer' && to.kind === 'framebuffer') {
    return { op: 'framebuffer', from: from as FrameBufferSchema, to: to as FrameBufferSchema };
  }
  if (from.signature === to.signature && from.size === to.size) return { op: 'copy', from, to };
  if (NUMBERS.has(from.kind) && NUMBERS.has(to.kind)) {
    return { op: 'number', from, to, widens: widens(from.kind, to.kind) };
  }
  if (from instanceof StructSchema && to instanceof StructSchema) {
    const { steps, dropped } = matchMembers(from.layout, to.layout);
    return {
      op: 'struct',
      from: from as StructSchema<never>,
      to: to as StructSchema<never>,
      members: steps,
      dropped,
    };
  }
  if (from instanceof ArraySchema && to instanceof ArraySchema) {
    return { op: 'array', from, to, element: planConversion(from.element, to.element) };
  }
  if (from instanceof FixedVecSchema && to instanceof FixedVecSchema) {
    return { op: 'vec', from, to, element: planConversion(from.element, to.element) };
  }
  if (from instanceof FixedStringSchema && to instanceof FixedStringSchema) {
    return { op: 'string', from, to };
  }
  if (from instanceof SliceSchema && to instanceof SliceSchema) {
    return {
      op: 'slice',
      from: from as SliceSchema<never>,
      to: to as SliceSchema<never>,
      element: planConversion(from.element, to.element),
    };
  }
  return { op: 'reset', from, to, why: `it was ${typeName(from)} and is now ${typeName(to)}` };
}

const INT_BITS: Readonly<Record<string, readonly [signed: boolean, bits: number]>> = {
  u8: [false, 8],
  u16: [false, 16],
  u32: [false, 32],
  u64: [false, 64],
  i8: [true, 8],
  i16: [true, 16],
  i32: [true, 32],
  i64: [true, 64],
};
/** Integers a float holds exactly: its significand's bits. */
const FLOAT_BITS: Readonly<Record<string, number>> = { f32: 24, f64: 53 };

/** True when every value of `from` is a value of `to` (no value can be reset). */
function widens(from: string, to: string): boolean {
  if (from === to) return true;
  const fi = INT_BITS[from];
  const ti = INT_BITS[to];
  if (fi !== undefined && ti !== undefined) {
    const [fs, fb] = fi;
    const [ts, tb] = ti;
    return fs === ts ? tb >= fb : !fs && ts && tb > fb;
  }
  if (fi !== undefined) {
    // Into a float: exact when the integer's magnitude fits the significand.
    return (fi[0] ? fi[1] - 1 : fi[1]) <= FLOAT_BITS[to]!;
  }
  return from === 'f32' && to === 'f64';
}

/** A short name of a type for reports: u32, fixedString(16), array(u8, 4), struct… */
export function typeName(s: Schema): string {
  if (s instanceof FixedStringSchema) return `fixedString(${s.capacity})`;
  if (s instanceof FixedVecSchema) return `fixedVec(${typeName(s.element)}, ${s.capacity})`;
  if (s instanceof ArraySchema) return `array(${typeName(s.element)}, ${s.length})`;
  if (s instanceof SliceSchema) return `slice(${s.element.kind}, ${s.length})`;
  if (s instanceof StructSchema) return 'a struct';
  if (s.kind === 'framebuffer') {
    const f = s as FrameBufferSchema;
    return `framebuffer(${f.width}×${f.height})`;
  }
  if (s.kind === 'channel') {
    const c = s as ChannelSchema<Schema>;
    return c.latest
      ? `channel(${typeName(c.message)}, latest)`
      : `channel(${typeName(c.message)}, ${c.capacity})`;
  }
  if (s.kind === 'opaque') return s.signature;
  return s.kind;
}

// ---- the report -------------------------------------------------------------------------------

export interface ChannelCarry {
  readonly path: string;
  /** Messages now pending in the new ring. */
  readonly carried: number;
  /** Messages that were pending in the old ring and are not in the new one. */
  readonly dropped: number;
  /** Why messages were dropped (absent when none were). */
  readonly why?: string;
}

export interface MigrationReport {
  readonly state: string;
  /** Paths whose value was carried as it was (a whole field when nothing in it changed). */
  readonly kept: readonly string[];
  /** Paths whose value was converted to a new type: `memory.clicks (u32 → u64)`. */
  readonly converted: readonly string[];
  /** Paths that start again at their default, and why. */
  readonly reset: ReadonlyArray<{ readonly path: string; readonly why: string }>;
  /** Paths new in the target (their initial value, or zero). */
  readonly added: readonly string[];
  /** Paths of the source that are gone. */
  readonly dropped: readonly string[];
  readonly renamed: ReadonlyArray<{ readonly from: string; readonly to: string }>;
  readonly channels: readonly ChannelCarry[];
  /** Messages pending in the old region that did not reach the new one, in all channels. */
  readonly droppedMessages: number;
  /** Milliseconds the copy took. */
  readonly ms: number;
  /**
   * One line for the terminal: `kept framebuffer, toRenderer (3 messages); added memory.score
   * (carried in 1.2 ms)`.
   */
  readonly summary: string;
}

const join = (path: string, name: string): string => (path === '' ? name : `${path}.${name}`);

/** Collects what a migration did; resets at the same path (elements of an array) are counted. */
class Collector {
  readonly kept: string[] = [];
  readonly converted: string[] = [];
  readonly added: string[] = [];
  readonly dropped: string[] = [];
  readonly renamed: Array<{ from: string; to: string }> = [];
  readonly channels: ChannelCarry[] = [];
  readonly #resets = new Map<string, { why: string; count: number }>();

  reset(path: string, why: string): void {
    const seen = this.#resets.get(path);
    if (seen === undefined) this.#resets.set(path, { why, count: 1 });
    else seen.count++;
  }

  resets(): Array<{ path: string; why: string }> {
    return [...this.#resets].map(([path, r]) => ({
      path,
      why: r.count > 1 ? `${r.why} (and ${r.count - 1} more)` : r.why,
    }));
  }
}

/** The parts of a report known from the plan alone, before any byte is read. */
function planned(plan: MigrationPlan, rep: Collector): void {
  members(plan.fields, plan.dropped, '', rep);
}

function members(
  steps: readonly MemberStep[],
  dropped: readonly string[],
  path: string,
  rep: Collector,
): void {
  for (const step of steps) {
    const p = join(path, step.name);
    if (step.source === undefined || step.conversion === undefined) {
      rep.added.push(p);
      continue;
    }
    if (step.source.name !== step.name)
      rep.renamed.push({ from: join(path, step.source.name), to: p });
    conversion(step.conversion, p, rep);
  }
  for (const d of dropped) rep.dropped.push(join(path, d));
}

function conversion(c: Conversion, p: string, rep: Collector): void {
  switch (c.op) {
    case 'copy':
      rep.kept.push(p);
      return;
    case 'struct':
      members(c.members, c.dropped, p, rep);
      return;
    case 'reset':
      return; // recorded when carried, with the value's path
    case 'channel':
      if (
        c.message.op === 'copy' &&
        c.from.capacity === c.to.capacity &&
        c.from.latest === c.to.latest
      ) {
        rep.kept.push(p);
      } else {
        rep.converted.push(`${p} (${typeName(c.from)} → ${typeName(c.to)})`);
      }
      return;
    case 'framebuffer':
      if (c.from.width === c.to.width && c.from.height === c.to.height) rep.kept.push(p);
      else rep.converted.push(`${p} (${typeName(c.from)} → ${typeName(c.to)})`);
      return;
    default:
      rep.converted.push(`${p} (${typeName(c.from)} → ${typeName(c.to)})`);
  }
}

/** The report in one line, for the terminal (the host puts what happened and the total before it). */
function summarize(r: Omit<MigrationReport, 'summary'>): string {
  const parts: string[] = [];
  const list = (xs: readonly string[]): string =>
    xs.length <= 6 ? xs.join(', ') : `${xs.slice(0, 6).join(', ')} and ${xs.length - 6} more`;
  const pending = new Map(r.channels.map((c) => [c.path, c]));
  const kept = r.kept.map((k) => {
    const c = pending.get(k);
    return c !== undefined && c.carried > 0
      ? `${k} (${c.carried} message${c.carried === 1 ? '' : 's'})`
      : k;
  });
  if (kept.length > 0) parts.push(`kept ${list(kept)}`);
  if (r.converted.length > 0) parts.push(`converted ${list(r.converted)}`);
  if (r.renamed.length > 0)
    parts.push(`renamed ${list(r.renamed.map((x) => `${x.from} → ${x.to}`))}`);
  if (r.reset.length > 0) parts.push(`reset ${list(r.reset.map((x) => `${x.path} (${x.why})`))}`);
  if (r.added.length > 0) parts.push(`added ${list(r.added)}`);
  if (r.dropped.length > 0) parts.push(`dropped ${list(r.dropped)}`);
  const carried = r.channels.filter((c) => !r.kept.includes(c.path) && c.carried > 0);
  if (carried.length > 0) {
    parts.push(
      `carried ${list(carried.map((c) => `${c.carried} message${c.carried === 1 ? '' : 's'} in ${c.path}`))}`,
    );
  }
  if (r.droppedMessages > 0) {
    parts.push(`${r.droppedMessages} pending message${r.droppedMessages === 1 ? '' : 's'} dropped`);
  }
  return `${parts.length > 0 ? parts.join('; ') : 'nothing to carry'} (carried in ${r.ms.toFixed(1)} ms)`;
}

// ---- values -----------------------------------------------------------------------------------

const NO: unique symbol = Symbol('does not fit');

/** `v` (a value of kind `from`) as a value of kind `to`, or NO when it is not held exactly. */
export function convertNumber(v: number | bigint, to: string): number | bigint | typeof NO {
  const int = INT_BITS[to];
  if (int !== undefined) {
    const [signed, bits] = int;
    const min = signed ? -(2n ** BigInt(bits - 1)) : 0n;
    const max = signed ? 2n ** BigInt(bits - 1) - 1n : 2n ** BigInt(bits) - 1n;
    let big: bigint;
    if (typeof v === 'bigint') big = v;
    else if (Number.isInteger(v)) big = BigInt(v);
    else return NO;
    if (big < min || big > max) return NO;
    return bits === 64 ? big : Number(big);
  }
  // A float.
  let n: number;
  if (typeof v === 'bigint') {
    n = Number(v);
    if (BigInt(n) !== v) return NO;
  } else {
    n = v;
  }
  if (to === 'f32' && !Number.isNaN(n) && Math.fround(n) !== n) return NO;
  return n;
}

/**
 * A value of `c.from` as a value of `c.to`, by the rules above. What cannot be carried becomes
 * `fallback()` and is reported at its path; this never throws.
 */
export function convertValue(
  c: Conversion,
  value: unknown,
  path: string,
  rep: { reset(path: string, why: string): void },
  fallback: () => unknown = () => defaultValue(c.to),
): unknown {
  switch (c.op) {
    case 'copy':
      return value;
    case 'number': {
      const out = convertNumber(value as number | bigint, c.to.kind);
      if (out !== NO) return out;
      rep.reset(path, `${describeValue(value)} does not fit ${c.to.kind}`);
      return fallback();
    }
    case 'string': {
      const s = value as string;
      if (Buffer.byteLength(s, 'utf8') <= c.to.capacity) return s;
      rep.reset(
        path,
        `${Buffer.byteLength(s, 'utf8')} bytes do not fit fixedString(${c.to.capacity})`,
      );
      return fallback();
    }
    case 'struct': {
      const v = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const m of c.members) {
        const d = (): unknown => memberDefault(m);
        out[m.name] =
          m.conversion === undefined || m.source === undefined
            ? d()
            : convertValue(m.conversion, v[m.source.name], join(path, m.name), rep, d);
      }
      return out;
    }
    case 'array': {
      const v = value as unknown[];
      const e = c.to.element;
      const out = new Array<unknown>(c.to.length);
      for (let i = 0; i < c.to.length; i++) {
        out[i] =
          i < v.length
            ? convertValue(c.element, v[i], `${path}[]`, rep, () => defaultValue(e))
            : defaultValue(e);
      }
      return out;
    }
    case 'vec': {
      const v = value as unknown[];
      const n = Math.min(v.length, c.to.capacity);
      const e = c.to.element;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) {
        out[i] = convertValue(c.element, v[i], `${path}[]`, rep, () => defaultValue(e));
      }
      return out;
    }
    case 'slice': {
      const v = value as ArrayLike<number | bigint>;
      const out = defaultValue(c.to) as { [i: number]: number | bigint; length: number };
      const n = Math.min(v.length, out.length);
      const zero = c.to.element.kind === 'u64' || c.to.element.kind === 'i64' ? 0n : 0;
      for (let i = 0; i < n; i++) {
        out[i] = convertValue(c.element, v[i], `${path}[]`, rep, () => zero) as number | bigint;
      }
      return out;
    }
    case 'reset':
      rep.reset(path, c.why);
      return fallback();
    default:
      // channels and framebuffers hold no plain value
      return fallback();
  }
}

function memberDefault(m: MemberStep): unknown {
  return m.meta?.hasInitial ? structuredClone(m.meta.initial) : defaultValue(m.schema);
}

// ---- bytes ------------------------------------------------------------------------------------

interface Bytes {
  readonly view: DataView;
  readonly u8: Uint8Array;
}

const bytesOf = (buffer: ArrayBuffer): Bytes => ({
  view: new DataView(buffer),
  u8: new Uint8Array(buffer),
});

/**
 * Carries the value at `so` in `src` (of `c.from`) to `dst` at `dout` (of `c.to`). Same types
 * are copied as bytes, so a value survives bit for bit (NaN payloads, a bool's byte); leaves that
 * change type go through their plain value. On a reset, `fallback()` is written.
 */
function carry(
  c: Conversion,
  src: Bytes,
  so: number,
  dst: Bytes,
  dout: number,
  path: string,
  rep: Collector,
  fallback: () => unknown,
): void {
  switch (c.op) {
    case 'copy':
      dst.u8.set(src.u8.subarray(so, so + c.from.size), dout);
      return;
    case 'struct':
      for (const m of c.members) {
        if (m.conversion === undefined || m.source === undefined) {
          // Added: zero is in place; an initial value is written (inside a vec's slot or an
          // array's new element nobody wrote one before).
          if (m.meta?.hasInitial === true || hasInitial(m.schema)) {
            write(m.schema, dst, dout + m.offset, memberDefault(m));
          }
          continue;
        }
        carry(
          m.conversion,
          src,
          so + m.source.offset,
          dst,
          dout + m.offset,
          join(path, m.name),
          rep,
          () => memberDefault(m),
        );
      }
      return;
    case 'array': {
      const n = Math.min(c.from.length, c.to.length);
      const fs = c.from.element.size;
      const ts = c.to.element.size;
      if (c.element.op === 'copy') {
        dst.u8.set(src.u8.subarray(so, so + n * fs), dout);
        return;
      }
      const e = c.to.element;
      for (let i = 0; i < n; i++) {
        carry(c.element, src, so + i * fs, dst, dout + i * ts, `${path}[]`, rep, () =>
          defaultValue(e),
        );
      }
      return;
    }
    case 'vec': {
      const length = c.from.lengthAt(src.view, so);
      const n = Math.min(length, c.to.capacity);
      const fs = c.from.element.size;
      const ts = c.to.element.size;
      const sd = so + c.from.dataOffset;
      const dd = dout + c.to.dataOffset;
      if (c.element.op === 'copy') {
        dst.u8.set(src.u8.subarray(sd, sd + n * fs), dd);
      } else {
        const e = c.to.element;
        for (let i = 0; i < n; i++) {
          carry(c.element, src, sd + i * fs, dst, dd + i * ts, `${path}[]`, rep, () =>
            defaultValue(e),
          );
        }
      }
      dst.view.setUint32(dout, n, true);
      if (length > n)
        rep.reset(
          `${path}[]`,
          `${length - n} of ${length} elements do not fit fixedVec(…, ${c.to.capacity})`,
        );
      return;
    }
    case 'string': {
      // The bytes as they are (no decode): kept if they fit.
      const length = Math.min(src.view.getUint32(so, true), c.from.capacity);
      if (length <= c.to.capacity) {
        dst.u8.set(src.u8.subarray(so + 4, so + 4 + length), dout + 4);
        dst.view.setUint32(dout, length, true);
        return;
      }
      rep.reset(path, `${length} bytes do not fit fixedString(${c.to.capacity})`);
      write(c.to, dst, dout, fallback());
      return;
    }
    case 'slice': {
      const n = Math.min(c.from.length, c.to.length);
      if (c.element.op === 'copy') {
        dst.u8.set(src.u8.subarray(so, so + n * c.from.element.size), dout);
        return;
      }
      const fe = c.from.element;
      const te = c.to.element;
      const zero = te.kind === 'u64' || te.kind === 'i64' ? 0n : 0;
      for (let i = 0; i < n; i++) {
        const v = fe.read(src.view, so + i * fe.size);
        const out = convertNumber(v as number | bigint, te.kind);
        if (out === NO) rep.reset(`${path}[]`, `${describeValue(v)} does not fit ${te.kind}`);
        te.write(dst.view, dout + i * te.size, (out === NO ? zero : out) as never);
      }
      return;
    }
    case 'number': {
      const v = c.from.read(src.view, so) as number | bigint;
      const out = convertNumber(v, c.to.kind);
      if (out === NO) {
        rep.reset(path, `${describeValue(v)} does not fit ${c.to.kind}`);
        write(c.to, dst, dout, fallback());
      } else {
        c.to.write(dst.view, dout, out);
      }
      return;
    }
    case 'reset':
      rep.reset(path, c.why);
      write(c.to, dst, dout, fallback());
      return;
    default:
      return;
  }
}

/** Writes a default value; one that does not fit (it always does) leaves the zeros there. */
function write(s: Schema, dst: Bytes, offset: number, value: unknown): void {
  if (value === undefined) return;
  try {
    s.write(dst.view, offset, value);
  } catch {
    new Uint8Array(dst.u8.buffer, offset, s.size).fill(0);
  }
}

// ---- executing a plan -------------------------------------------------------------------------

export interface ExecuteOptions {
  /** The writer epoch of the renderer that starts on the new region. */
  readonly epoch: number;
}

/**
 * Carries every value of `from` (laid out as `plan.from`) into `to` (laid out as `plan.to`,
 * initialised: `initFields`), and reports what it did. The caller owns both regions; `to` is
 * not published (ready) here.
 */
export function executeMigration(
  plan: MigrationPlan,
  from: Region,
  to: Region,
  options: ExecuteOptions,
): MigrationReport {
  const t0 = performance.now();
  const rep = new Collector();
  planned(plan, rep);
  let corrupt = 0;
  const fromCtx = new RegionContext(from, 'owner', 0, undefined, () => {
    corrupt++;
  });
  const toCtx = new RegionContext(to, 'owner', 0);
  const src = bytesOf(from.buffer);
  const dst = bytesOf(to.buffer);
  let droppedMessages = 0;
  for (const step of plan.fields) {
    const c = step.conversion;
    const s = step.source;
    if (c === undefined || s === undefined) {
      // Added: its default was written when the region was made; a framebuffer's epoch is set.
      if (step.schema.kind === 'framebuffer') {
        beginFrameEpoch(
          step.schema.bind(toCtx, step.offset, step.name) as FrameBuffer,
          options.epoch,
        );
      }
      continue;
    }
    if (c.op === 'channel') {
      const before = corrupt;
      const carried = carryChannel(c, fromCtx, s.offset, toCtx, step.offset, step.name, rep);
      if (corrupt > before) {
        // The old ring's consumer side dropped what did not decode (and said so through
        // onCorrupt); count those as dropped too.
        carried.dropped += corrupt - before;
        carried.why ??= 'pending messages that did not decode were dropped';
      }
      droppedMessages += carried.dropped;
      rep.channels.push(carried);
      continue;
    }
    if (c.op === 'framebuffer') {
      const old = c.from.bind(fromCtx, s.offset, step.name) as FrameBuffer;
      carryFrame(old, toCtx, step.offset, c.to, options.epoch);
      continue;
    }
    carry(c, src, s.offset, dst, step.offset, step.name, rep, () => memberDefault(step));
  }
  const ms = performance.now() - t0;
  const report = {
    state: plan.to.state,
    kept: rep.kept,
    converted: rep.converted,
    reset: rep.resets(),
    added: rep.added,
    dropped: rep.dropped,
    renamed: rep.renamed,
    channels: rep.channels,
    droppedMessages,
    ms,
  };
  return { ...report, summary: summarize(report) };
}

/**
 * Takes every pending message of the old channel with the consumers' own commit (one CAS over
 * all of them: a consumer still running on the old region gets each message or none of them,
 * never a copy we also carry), converts them, and queues them in order in the new one.
 */
function carryChannel(
  c: Extract<Conversion, { op: 'channel' }>,
  fromCtx: RegionContext,
  fromOffset: number,
  toCtx: RegionContext,
  toOffset: number,
  path: string,
  rep: Collector,
): { path: string; carried: number; dropped: number; why?: string } {
  const old = c.from.bind(fromCtx, fromOffset, path) as Channel<unknown>;
  if (c.message.op === 'copy') {
    // The same message type, ring to ring: the bytes move, nothing is decoded.
    const next = c.to.bind(toCtx, toOffset, path) as Channel<unknown>;
    const moved = moveMessages(old, next);
    if (moved !== undefined) {
      return moved.dropped === 0
        ? { path, carried: moved.moved, dropped: 0 }
        : {
            path,
            carried: moved.moved,
            dropped: moved.dropped,
            why: `the new ring holds ${c.to.capacity} messages`,
          };
    }
  }
  const pending = old.drain();
  if (old.delivery === 'handled') {
    // A handled ring commits what its consumer took when that consumer asks for the next: ask
    // until nothing is left (messages a crashed renderer held come out one per call). The last
    // call commits the last batch and finds the ring empty.
    // At most one call per slot: each call takes at least one message or ends the loop.
    for (let i = 0; i < c.from.capacity; i++) {
      const more = old.drain();
      if (more.length === 0) break;
      pending.push(...more);
    }
  }
  if (c.message.op === 'reset') {
    return pending.length === 0
      ? { path, carried: 0, dropped: 0 }
      : { path, carried: 0, dropped: pending.length, why: c.message.why };
  }
  const next = c.to.bind(toCtx, toOffset, path) as Channel<unknown>;
  // A latest channel keeps only the newest value: the older ones would be overwritten anyway.
  const keep = c.to.latest ? pending.slice(-1) : pending;
  let carried = 0;
  let refused = 0;
  for (const message of keep) {
    const value = convertValue(c.message, message, `${path}[]`, rep);
    let sent = false;
    try {
      sent = next.trySend(value);
    } catch {
      sent = false;
    }
    if (sent) carried++;
    else refused++;
  }
  const dropped = pending.length - carried;
  if (dropped === 0) return { path, carried, dropped: 0 };
  const why =
    refused > 0 && !c.to.latest
      ? `the new ring holds ${c.to.capacity} messages`
      : 'a latest channel keeps only its newest value';
  return { path, carried, dropped, why };
}
