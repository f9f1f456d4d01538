/**
 * The owner's view of its state: the fields as the owner's code was written for them (its own
 * definition at start), over whatever region and layout the state has now.
 *
 * The owner process outlives every migration, and its code holds on to what it got:
 * `state.memory.clicks` read each frame, or `const clicks = state.memory.clicks` captured at start,
 * or `state.toRenderer` in a closure. So every handle the view gives out is a stable object that a
 * migration points at the new bytes:
 *   - a primitive's handle is the schema's own cell, moved in place (`[rebind]`) or, if the field
 *     changed kind, rerouted to a cell of the new kind (`[reroute]`): the owner's per-frame
 *     `get`/`set` costs what it did before any migration;
 *   - structs and arrays are handles whose members are the members' handles;
 *   - strings, vecs, channels and framebuffers are handles over the current accessor, converting
 *     values between the shape the owner's code knows and the current one when they differ;
 *   - a slice is a typed array over the bytes, which cannot move: `state.pixels` gives the current
 *     one, a typed array captured before a migration keeps the old region's bytes.
 *
 * The view also records which paths the owner's code reached (a getter returned the handle) and
 * which plain values it read or wrote whole. A migration that removes or incompatibly retypes a
 * used path is refused (`check`); a path the owner has not used yet but that a migration made
 * incompatible throws `IncompatibleChangeError` the first time the owner reaches it.
 */

import type { Channel, ChannelSchema, RecvOptions, SendOptions } from '../channel/index.js';
import { ChannelClosedError, IncompatibleChangeError, ValueError } from '../errors.js';
import type { FrameBuffer, FrontFrame } from '../frames/index.js';
import type { StringAccess, VecAccess, WriteOptions } from '../schema/index.js';
import {
  ArraySchema,
  defaultValue,
  FixedStringSchema,
  FixedVecSchema,
  SliceSchema,
  StructSchema,
} from '../schema/index.js';
import { type Rebindable, rebind, reroute } from '../schema/shared.js';
import type { BindContext, Schema } from '../schema/types.js';
import type { StateLayout } from './layout.js';
import { type Conversion, type MigrationPlan, typeName } from './migrate.js';

// ---- templates: one per declared path ----------------------------------------------------------

type Kind =
  | 'number'
  | 'bigint'
  | 'bool'
  | 'unit'
  | 'string'
  | 'vec'
  | 'array'
  | 'slice'
  | 'struct'
  | 'channel'
  | 'framebuffer'
  | 'other';

function kindOf(s: Schema): Kind {
  switch (s.kind) {
    case 'u8':
    case 'u16':
    case 'u32':
    case 'i8':
    case 'i16':
    case 'i32':
    case 'f32':
    case 'f64':
      return 'number';
    case 'u64':
    case 'i64':
      return 'bigint';
    case 'bool':
      return 'bool';
    case 'unit':
      return 'unit';
    default:
      break;
  }
  if (s instanceof FixedStringSchema) return 'string';
  if (s instanceof FixedVecSchema) return 'vec';
  if (s instanceof ArraySchema) return 'array';
  if (s instanceof SliceSchema) return 'slice';
  if (s instanceof StructSchema) return 'struct';
  if (s.kind === 'channel') return 'channel';
  if (s.kind === 'framebuffer') return 'framebuffer';
  return 'other';
}

const VALUE_WORD: Partial<Record<Kind, string>> = {
  number: 'a number',
  bigint: 'a bigint',
  bool: 'a boolean',
  unit: 'null',
};

/**
 * A path of the owner's own definition: what it was declared as, where it is now (its name and
 * offset in its current parent, its current schema), and whether the owner's code used it.
 */
class Template {
  readonly path: string;
  readonly declared: Schema;
  readonly kind: Kind;
  /** Struct members, in declared order. */
  readonly members: readonly Template[] = [];
  /** Array or vec element, or a channel's message. */
  readonly element: Template | undefined;
  /** Reached by the owner's code (a getter returned its handle). */
  used = false;
  /** Its whole plain value was read or written (every part of it is used). */
  whole = false;
  /** Its name in its current parent (it changes with a rename). */
  name: string;
  /** Byte offset in its current parent (absolute for a top-level field). */
  offset: number;
  /** Its current schema; undefined once a migration removed it. */
  current: Schema | undefined;
  /** Why the owner cannot use it over the current layout (removed, retyped), if it cannot. */
  broken: string | undefined;
  /**
   * A member of a channel's message that the current message type lacks or retyped: messages are
   * converted without it (sent without it, received with its default) instead of refusing.
   */
  mismatch: string | undefined;

  constructor(path: string, name: string, offset: number, declared: Schema) {
    this.path = path;
    this.name = name;
    this.offset = offset;
    this.declared = declared;
    this.current = declared;
    this.kind = kindOf(declared);
    if (declared instanceof StructSchema) {
      this.members = declared.layout.map(
        (m) => new Template(`${path}.${m.name}`, m.name, m.offset, m.schema),
      );
    }
    const el =
      declared instanceof ArraySchema || declared instanceof FixedVecSchema
        ? declared.element
        : declared.kind === 'channel'
          ? (declared as ChannelSchema<Schema>).message
          : undefined;
    this.element = el === undefined ? undefined : new Template(`${path}[]`, '', 0, el);
  }

  /** True while the current type is the declared one: no conversion is needed. */
  get identical(): boolean {
    return this.current !== undefined && this.current.signature === this.declared.signature;
  }

  markUsed(): void {
    if (this.broken !== undefined) throw new IncompatibleChangeError(this.path, this.broken);
    this.used = true;
  }

  /** Its plain value (or, for a channel, its messages) is used: every part of it. */
  markWhole(): void {
    this.markUsed();
    if (this.whole) return;
    this.whole = true;
    for (const m of this.members) m.markWhole();
    this.element?.markWhole();
  }
}

/** Where a template goes under a plan step, or why the owner cannot follow it there. */
interface Move {
  readonly t: Template;
  readonly name: string | undefined;
  readonly offset: number;
  readonly current: Schema | undefined;
  readonly broken: string | undefined;
  readonly mismatch?: string;
}

/**
 * Follows `t` (whose current schema is `conv.from`) into `to` through `conv`, and every template
 * below it; collects the moves. Nothing changes until they are applied. `lenient` below a
 * channel's message: a member that does not fit is a mismatch (converted around), not a break.
 */
function follow(
  t: Template,
  to: Schema,
  conv: Conversion | undefined,
  name: string,
  offset: number,
  out: Move[],
  lenient = false,
): void {
  const problem = incompatible(t.declared, to);
  if (problem !== undefined) {
    out.push(
      lenient
        ? { t, name, offset, current: to, broken: undefined, mismatch: problem }
        : { t, name, offset, current: to, broken: problem },
    );
    // Everything below goes with it (`check` names the used path nearest the top).
    markBelow(t, 'changes type with it', out, lenient);
    return;
  }
  out.push({ t, name, offset, current: to, broken: undefined });
  if (t.kind === 'struct') {
    const target = to as StructSchema<never>;
    for (const m of t.members) {
      const step = memberStep(m, target, conv);
      if (step === undefined) {
        out.push(
          lenient
            ? {
                t: m,
                name: undefined,
                offset: 0,
                current: undefined,
                broken: undefined,
                mismatch: 'removes it',
              }
            : { t: m, name: undefined, offset: 0, current: undefined, broken: 'removes it' },
        );
        markBelow(m, 'removes it', out, lenient);
      } else {
        follow(m, step.schema, step.conversion, step.name, step.offset, out, lenient);
      }
    }
  } else if (t.element !== undefined) {
    const channelMessage = t.kind === 'channel';
    const el = channelMessage
      ? (to as ChannelSchema<Schema>).message
      : (to as ArraySchema<Schema> | FixedVecSchema<Schema>).element;
    const sub =
      conv?.op === 'array' || conv?.op === 'vec'
        ? conv.element
        : conv?.op === 'channel'
          ? conv.message
          : undefined;
    // A message's own type must still fit (a struct stays a struct); its members convert around.
    followElement(t.element, el, sub, out, lenient, channelMessage);
  }
}

function followElement(
  t: Template,
  to: Schema,
  conv: Conversion | undefined,
  out: Move[],
  lenient: boolean,
  message: boolean,
): void {
  if (!message) {
    follow(t, to, conv, '', 0, out, lenient);
    return;
  }
  const problem = incompatible(t.declared, to);
  if (problem !== undefined) {
    out.push({ t, name: '', offset: 0, current: to, broken: problem });
    markBelow(t, 'changes type with it', out, true);
    return;
  }
  out.push({ t, name: '', offset: 0, current: to, broken: undefined });
  if (t.kind === 'struct') {
    for (const m of t.members) {
      const step = memberStep(m, to as StructSchema<never>, conv);
      if (step === undefined) {
        out.push({
          t: m,
          name: undefined,
          offset: 0,
          current: undefined,
          broken: undefined,
          mismatch: 'removes it',
        });
        markBelow(m, 'removes it', out, true);
      } else {
        follow(m, step.schema, step.conversion, step.name, step.offset, out, true);
      }
    }
  } else if (t.element !== undefined) {
    const el = (to as ArraySchema<Schema> | FixedVecSchema<Schema>).element;
    const sub = conv?.op === 'array' || conv?.op === 'vec' ? conv.element : undefined;
    follow(t.element, el, sub, '', 0, out, true);
  }
}

/** Where member `m` (named `m.name` in its current parent) goes in `target`. */
function memberStep(
  m: Template,
  target: StructSchema<never>,
  conv: Conversion | undefined,
): { name: string; offset: number; schema: Schema; conversion?: Conversion } | undefined {
  if (m.current === undefined) {
    // Removed earlier: a member of the declared name added again takes its place again.
    const again = target.layout.find((x) => x.name === declaredName(m));
    if (again === undefined) return undefined;
    if (
      conv?.op === 'struct' &&
      conv.members.some((x) => x.name === again.name && x.source !== undefined)
    ) {
      return undefined;
    }
    return { name: again.name, offset: again.offset, schema: again.schema };
  }
  if (conv?.op === 'struct') {
    const s = conv.members.find((x) => x.source?.name === m.name);
    if (s === undefined) return undefined;
    return s.conversion === undefined
      ? { name: s.name, offset: s.offset, schema: s.schema }
      : { name: s.name, offset: s.offset, schema: s.schema, conversion: s.conversion };
  }
  const s = target.layout.find((x) => x.name === m.name);
  return s === undefined ? undefined : { name: s.name, offset: s.offset, schema: s.schema };
}

function markBelow(t: Template, why: string, out: Move[], lenient = false): void {
  const kids = t.element === undefined ? t.members : [...t.members, t.element];
  for (const m of kids) {
    out.push(
      lenient
        ? { t: m, name: undefined, offset: 0, current: undefined, broken: undefined, mismatch: why }
        : { t: m, name: undefined, offset: 0, current: undefined, broken: why },
    );
    markBelow(m, why, out, lenient);
  }
}

/**
 * Why code written for `declared` cannot use a field that is now `to` (only the shape matters
 * here; members are followed one by one), or undefined when it can.
 */
function incompatible(declared: Schema, to: Schema): string | undefined {
  const a = kindOf(declared);
  const b = kindOf(to);
  if (a === 'other')
    return declared.signature === to.signature
      ? undefined
      : `changes its type (${typeName(declared)} → ${typeName(to)})`;
  if (a === b) {
    if (
      a === 'slice' &&
      (declared as SliceSchema<never>).element !== (to as SliceSchema<never>).element
    ) {
      return `retypes it from ${typeName(declared)} to ${typeName(to)} (another typed array)`;
    }
    return undefined;
  }
  const word = (k: Kind, s: Schema) =>
    VALUE_WORD[k] === undefined ? typeName(s) : `${s.kind} (${VALUE_WORD[k]})`;
  return `retypes it from ${word(a, declared)} to ${word(b, to)}`;
}

// ---- handles ---------------------------------------------------------------------------------

/** What every handle of a view shares: the current region's context (replaced by `rebind`). */
interface Env {
  ctx: BindContext;
}

/** One placement of a template in the region: its handle, moved by `place`. */
interface Node {
  readonly t: Template;
  /** The object the owner's code holds. */
  readonly handle: unknown;
  /** The handle is the same object across migrations (a slice's typed array is not). */
  readonly stable: boolean;
  /** Points the handle at `base` (the absolute offset of its value) in the current region. */
  place(base: number): void;
  /** The template is gone (removed, broken, past an array's end): calls throw `why`. */
  lose(why: Error): void;
}

function gone(t: Template, why = t.broken ?? 'removes it'): IncompatibleChangeError {
  return new IncompatibleChangeError(t.path, why);
}

function makeNode(t: Template, env: Env, base: number): Node {
  switch (t.kind) {
    case 'number':
    case 'bigint':
    case 'bool':
    case 'unit':
      return new CellNode(t, env, base);
    case 'struct':
      return new StructNode(t, env, base);
    case 'array':
      return new ArrayNode(t, env, base);
    case 'string':
      return new StringNode(t, env, base);
    case 'vec':
      return new VecNode(t, env, base);
    case 'slice':
      return new SliceNode(t, env, base);
    case 'channel':
      return new ChannelNode(t, env, base);
    case 'framebuffer':
      return new FrameBufferNode(t, env, base);
    default:
      return new OtherNode(t, env, base);
  }
}

type AnyCell = { get(): unknown; set(value: unknown): void } & Rebindable<unknown>;

/** A cell that throws: the field is gone. */
class LostCell {
  readonly #why: Error;
  constructor(why: Error) {
    this.#why = why;
  }
  get(): never {
    throw this.#why;
  }
  set(): never {
    throw this.#why;
  }
}

class CellNode implements Node {
  readonly stable = true;
  readonly t: Template;
  readonly handle: AnyCell;
  readonly #env: Env;
  constructor(t: Template, env: Env, base: number) {
    this.t = t;
    this.#env = env;
    this.handle = t.declared.bind(env.ctx, base, t.path) as AnyCell;
  }
  place(base: number): void {
    const current = this.t.current!;
    if (current.kind === this.t.declared.kind) this.handle[rebind](this.#env.ctx, base);
    else this.handle[reroute](current.bind(this.#env.ctx, base, this.t.path) as AnyCell);
  }
  lose(why: Error): void {
    this.handle[reroute](new LostCell(why));
  }
}

/** The owner's plain value of `t` from the current one: the declared shape, values as they are. */
function fromCurrent(t: Template, value: unknown): unknown {
  if (t.identical) return value;
  if (t.kind === 'struct') {
    const v = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const m of t.members) {
      if (m.broken !== undefined) throw gone(m);
      out[declaredName(m)] =
        m.current === undefined || m.mismatch !== undefined
          ? defaultValue(m.declared)
          : fromCurrent(m, v[m.name]);
    }
    return out;
  }
  if ((t.kind === 'array' || t.kind === 'vec') && t.element !== undefined) {
    const el = t.element;
    return (value as unknown[]).map((x) => fromCurrent(el, x));
  }
  return value;
}

/** The current plain value from the owner's, keeping what the owner's definition does not know. */
function toCurrent(t: Template, value: unknown, current: unknown): unknown {
  if (t.identical) return value;
  if (t.kind === 'struct') {
    if (typeof value !== 'object' || value === null) return value; // the write reports it
    const v = value as Record<string, unknown>;
    const out: Record<string, unknown> = { ...(current as Record<string, unknown>) };
    for (const m of t.members) {
      if (m.current === undefined || m.mismatch !== undefined) continue;
      out[m.name] = toCurrent(m, v[declaredName(m)], out[m.name]);
    }
    return out;
  }
  if (t.kind === 'array' && t.element !== undefined && Array.isArray(value)) {
    const out = [...(current as unknown[])];
    for (let i = 0; i < Math.min(out.length, value.length); i++)
      out[i] = toCurrent(t.element, value[i], out[i]);
    return out;
  }
  if (t.kind === 'vec' && t.element !== undefined && Array.isArray(value)) {
    const el = t.element;
    const dflt = el.current === undefined ? undefined : defaultValue(el.current);
    return value.map((x) => toCurrent(el, x, structuredClone(dflt)));
  }
  return value;
}

const declaredName = (t: Template): string => t.path.slice(t.path.lastIndexOf('.') + 1);

/**
 * Handles of one struct template (and the root) share a class whose prototype has one getter per
 * declared member. The first read of a member notes the use and, for a handle that never changes
 * identity, shadows the getter with a plain data property on the object: from then on
 * `state.memory.clicks` is two property loads, as it was before views could move. A path the
 * owner has used is never removed (a migration that would is refused), so the data property never
 * has to become a getter again; paths not used yet keep their getter, which throws once a
 * migration has made them unusable.
 */
function reach(holder: object, name: string, n: Node): unknown {
  n.t.markUsed();
  const handle = n.handle;
  if (n.stable) Object.defineProperty(holder, name, { value: handle, enumerable: true });
  return handle;
}

const NODES: unique symbol = Symbol('hotshm.view.nodes');
const OWNER: unique symbol = Symbol('hotshm.view.node');

interface StructHandle {
  [NODES]: Node[];
  [OWNER]: StructNode;
}

const structClasses = new WeakMap<
  Template,
  new (
    node: StructNode,
    members: Node[],
  ) => StructHandle
>();

function structClass(t: Template): new (node: StructNode, members: Node[]) => StructHandle {
  let C = structClasses.get(t);
  if (C !== undefined) return C;
  class Handle {
    [NODES]: Node[];
    [OWNER]: StructNode;
    constructor(node: StructNode, members: Node[]) {
      this[NODES] = members;
      this[OWNER] = node;
    }
    get(): unknown {
      return this[OWNER].get();
    }
    set(value: unknown, options?: WriteOptions): void {
      this[OWNER].set(value, options);
    }
  }
  t.members.forEach((m, i) => {
    const name = declaredName(m);
    Object.defineProperty(Handle.prototype, name, {
      enumerable: true,
      get(this: StructHandle) {
        return reach(this, name, this[NODES][i]!);
      },
    });
  });
  C = Handle;
  structClasses.set(t, C);
  return C;
}

class StructNode implements Node {
  readonly stable = true;
  readonly t: Template;
  readonly handle: StructHandle;
  readonly #env: Env;
  readonly #members: Node[];
  #base: number;
  #lost: Error | undefined;
  constructor(t: Template, env: Env, base: number) {
    this.t = t;
    this.#env = env;
    this.#base = base;
    this.#members = t.members.map((m) => makeNode(m, env, base + m.offset));
    this.handle = new (structClass(t))(this, this.#members);
  }
  place(base: number): void {
    this.#base = base;
    this.#lost = undefined;
    for (const m of this.#members) {
      if (m.t.current === undefined || m.t.broken !== undefined) m.lose(gone(m.t));
      else m.place(base + m.t.offset);
    }
  }
  lose(why: Error): void {
    this.#lost = why;
    for (const m of this.#members) m.lose(why);
  }
  get(): unknown {
    if (this.#lost) throw this.#lost;
    this.t.markWhole();
    const s = this.t.current!;
    this.#env.ctx.assertOpen(`field ${this.t.path}`);
    return fromCurrent(this.t, s.read(this.#env.ctx.view, this.#base));
  }
  set(value: unknown, options?: WriteOptions): void {
    if (this.#lost) throw this.#lost;
    this.t.markWhole();
    const s = this.t.current!;
    const { view } = this.#env.ctx;
    this.#env.ctx.assertOpen(`field ${this.t.path}`);
    const next = this.t.identical ? value : toCurrent(this.t, value, s.read(view, this.#base));
    // Checked whole before the first byte is written, with the owner's path in the message.
    if (options?.truncate !== true) s.check(next, this.t.path);
    s.write(view, this.#base, next as never, options);
  }
}

class ArrayHandle {
  readonly #node: ArrayNode;
  constructor(node: ArrayNode) {
    this.#node = node;
  }
  get length(): number {
    return this.#node.length();
  }
  at(index: number): unknown {
    return this.#node.at(index);
  }
  get(): unknown[] {
    return this.#node.get();
  }
  set(values: readonly unknown[], options?: WriteOptions): void {
    this.#node.set(values, options);
  }
}

class ArrayNode implements Node {
  readonly stable = true;
  readonly t: Template;
  readonly handle: ArrayHandle;
  readonly #env: Env;
  readonly #elements: Node[] = [];
  #base: number;
  #lost: Error | undefined;
  constructor(t: Template, env: Env, base: number) {
    this.t = t;
    this.#env = env;
    this.#base = base;
    this.handle = new ArrayHandle(this);
  }
  #schema(): ArraySchema<Schema> {
    if (this.#lost) throw this.#lost;
    this.#env.ctx.assertOpen(`field ${this.t.path}`);
    return this.t.current as ArraySchema<Schema>;
  }
  length(): number {
    return this.#schema().length;
  }
  at(index: number): unknown {
    const s = this.#schema();
    const el = this.t.element!;
    if (!Number.isInteger(index) || index < 0 || index >= s.length) {
      throw new ValueError(
        `${this.t.path}: expected an index in [0, ${s.length - 1}], got ${String(index)}`,
      );
    }
    if (!el.used) el.markUsed();
    let n = this.#elements[index];
    if (n === undefined) {
      n = makeNode(el, this.#env, this.#base + index * s.element.size);
      this.#elements[index] = n;
    }
    return n.handle;
  }
  get(): unknown[] {
    const s = this.#schema();
    this.t.markWhole();
    return fromCurrent(this.t, s.read(this.#env.ctx.view, this.#base)) as unknown[];
  }
  set(values: readonly unknown[], options?: WriteOptions): void {
    const s = this.#schema();
    this.t.markWhole();
    const { view } = this.#env.ctx;
    const next = this.t.identical ? values : toCurrent(this.t, values, s.read(view, this.#base));
    if (options?.truncate !== true) s.check(next, this.t.path);
    s.write(view, this.#base, next as never, options);
  }
  place(base: number): void {
    this.#base = base;
    this.#lost = undefined;
    const s = this.t.current as ArraySchema<Schema>;
    const el = this.t.element!;
    this.#elements.forEach((n, i) => {
      if (el.current === undefined || el.broken !== undefined) n.lose(gone(el));
      else if (i >= s.length) {
        n.lose(
          new ValueError(
            `${this.t.path}[${i}]: the array has ${s.length} elements since the state definition changed`,
          ),
        );
      } else n.place(base + i * s.element.size);
    });
  }
  lose(why: Error): void {
    this.#lost = why;
    for (const n of this.#elements) n?.lose(why);
  }
}

/** Base of the handles that forward to an accessor of the current schema, bound anew on `place`. */
abstract class Forwarding<A> implements Node {
  readonly stable: boolean = true;
  readonly t: Template;
  abstract readonly handle: unknown;
  protected readonly env: Env;
  #acc: A | undefined;
  #lost: Error | undefined;
  constructor(t: Template, env: Env, base: number) {
    this.t = t;
    this.env = env;
    this.#acc = this.bindAt(base);
  }
  protected bindAt(base: number): A {
    // The owner's own schema while the type is unchanged (a schema rebuilt from a descriptor
    // may be opaque; the owner's never is).
    const s = this.t.identical ? this.t.declared : this.t.current!;
    return s.bind(this.env.ctx, base, this.t.path) as A;
  }
  /** The accessor of the current bytes (throws once the field is gone). */
  protected get acc(): A {
    if (this.#lost !== undefined) throw this.#lost;
    return this.#acc as A;
  }
  place(base: number): void {
    this.#lost = undefined;
    this.#acc = this.bindAt(base);
    this.placed();
  }
  lose(why: Error): void {
    this.#lost = why;
    this.placed();
  }
  protected placed(): void {}
}

class StringNode extends Forwarding<StringAccess> {
  readonly handle: StringAccess;
  constructor(t: Template, env: Env, base: number) {
    super(t, env, base);
    const node = this;
    this.handle = {
      get capacity() {
        return node.acc.capacity;
      },
      get byteLength() {
        return node.acc.byteLength;
      },
      get: () => this.acc.get(),
      set: (value, options) => this.acc.set(value, options),
    };
  }
}

class SliceNode extends Forwarding<unknown> {
  override readonly stable = false;
  get handle(): unknown {
    return this.acc;
  }
}

class OtherNode extends Forwarding<unknown> {
  override readonly stable = false;
  get handle(): unknown {
    return this.acc;
  }
}

class VecNode extends Forwarding<VecAccess<unknown>> {
  readonly handle: VecAccess<unknown>;
  constructor(t: Template, env: Env, base: number) {
    super(t, env, base);
    const node = this;
    const el = t.element!;
    const out = (v: unknown): unknown => (el.identical ? v : fromCurrent(el, v));
    const into = (v: unknown): unknown =>
      el.identical || el.current === undefined ? v : toCurrent(el, v, defaultValue(el.current));
    const whole = (): VecAccess<unknown> => {
      t.markWhole();
      return node.acc;
    };
    this.handle = {
      get length() {
        return node.acc.length;
      },
      get capacity() {
        return node.acc.capacity;
      },
      at: (i) => out(whole().at(i)),
      setAt: (i, v) => whole().setAt(i, into(v)),
      push: (v) => whole().push(into(v)),
      pop: () => {
        const v = whole().pop();
        return v === undefined ? v : out(v);
      },
      clear: () => node.acc.clear(),
      get: () => whole().get().map(out),
      set: (values, options) => whole().set(values.map(into), options),
      toArray: () => whole().toArray().map(out),
      [Symbol.iterator]: function* () {
        for (const v of whole()) yield out(v);
      },
    };
  }
}

/** Rejections of a pending `recv` when its channel moved to a new region: it goes on there. */
const MOVED_ON = new Error('hotshm: the channel moved to a new region');

class ChannelNode extends Forwarding<Channel<unknown> & { interruptWaiters(): void }> {
  readonly handle: Channel<unknown> & { interruptWaiters(): void };
  #moved = new AbortController();
  constructor(t: Template, env: Env, base: number) {
    super(t, env, base);
    const node = this;
    const el = t.element!;
    const out = (v: unknown): unknown => (el.identical ? v : fromCurrent(el, v));
    const into = (v: unknown): unknown =>
      el.identical || el.current === undefined ? v : toCurrent(el, v, defaultValue(el.current));
    const acc = (): Channel<unknown> & { interruptWaiters(): void } => {
      // A channel carries whole messages: every part of its message type is used.
      if (!el.whole) el.markWhole();
      return node.acc;
    };
    this.handle = {
      get name() {
        return node.acc.name;
      },
      get capacity() {
        return node.acc.capacity;
      },
      get latest() {
        return node.acc.latest;
      },
      get delivery() {
        return node.acc.delivery;
      },
      get length() {
        return node.acc.length;
      },
      ack: () => acc().ack(),
      releaseClaims: (epoch, options) => {
        const released = acc().releaseClaims(epoch, options);
        const poison = released.poison;
        if (poison === undefined || poison.message === undefined) return released;
        return { ...released, poison: { ...poison, message: out(poison.message) } };
      },
      send: (message, options?: SendOptions) => acc().send(into(message), options),
      trySend: (message) => acc().trySend(into(message)),
      tryRecv: () => {
        const v = acc().tryRecv();
        return v === undefined ? v : out(v);
      },
      drain: () => acc().drain().map(out),
      recvSync: (timeoutMs?: number) => {
        const v = acc().recvSync(timeoutMs);
        return v === undefined ? v : out(v);
      },
      recv: (options?: RecvOptions) => this.#recv(options, out),
      interruptWaiters: () => node.acc.interruptWaiters(),
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<unknown>> => {
          try {
            return { value: await this.#recv(undefined, out), done: false };
          } catch (error) {
            if (error instanceof ChannelClosedError) return { value: undefined, done: true };
            throw error;
          }
        },
        return: async (): Promise<IteratorResult<unknown>> => ({ value: undefined, done: true }),
      }),
    };
  }

  /** A receive that follows the channel to its new region when a migration moves it. */
  async #recv(options: RecvOptions | undefined, out: (v: unknown) => unknown): Promise<unknown> {
    const el = this.t.element!;
    if (!el.whole) el.markWhole();
    for (;;) {
      const moved = this.#moved.signal;
      const signal =
        options?.signal === undefined ? moved : AbortSignal.any([options.signal, moved]);
      try {
        return out(await this.acc.recv({ ...options, signal }));
      } catch (error) {
        if (moved.aborted && !options?.signal?.aborted) continue;
        throw error;
      }
    }
  }

  /** Commits every message this owner took and did not commit (see OwnerView.settleChannels). */
  settle(): void {
    if (this.t.broken !== undefined || this.t.current === undefined) return;
    try {
      while (this.acc.ack());
    } catch {
      // A closed or damaged region: nothing of it is carried then either.
    }
  }

  protected override placed(): void {
    this.#moved.abort(MOVED_ON);
    this.#moved = new AbortController();
  }
}

class FrameBufferNode extends Forwarding<FrameBuffer> {
  readonly handle: FrameBuffer;
  /** The accessor the owner acquired the front from, until it releases it. */
  #holding: FrameBuffer | undefined;
  constructor(t: Template, env: Env, base: number) {
    super(t, env, base);
    const node = this;
    this.handle = {
      get width() {
        return node.acc.width;
      },
      get height() {
        return node.acc.height;
      },
      get format() {
        return node.acc.format;
      },
      get stride() {
        return node.acc.stride;
      },
      get pitch() {
        return node.acc.pitch;
      },
      get byteLength() {
        return node.acc.byteLength;
      },
      get epoch() {
        return node.acc.epoch;
      },
      back: () => this.acc.back(),
      present: () => this.acc.present(),
      acquireFront: (): FrontFrame | null => {
        const fb = this.acc;
        this.#holding = fb;
        return fb.acquireFront();
      },
      releaseFront: () => {
        // The buffer acquired before a migration is released where it was acquired.
        const fb = this.#holding ?? this.acc;
        this.#holding = undefined;
        fb.releaseFront();
      },
      frameCount: () => this.acc.frameCount(),
    };
  }
}

// ---- the view ---------------------------------------------------------------------------------

const ROOT_NODES: unique symbol = Symbol('hotshm.view.root');

/**
 * The owner's fields over the current region. `fields` is the object the owner's code gets;
 * `check` and `rebind` are the migration's two steps on it.
 */
export class OwnerView {
  readonly #env: Env;
  readonly #templates: Template[];
  readonly #nodes: Node[];
  /** The object with one getter per declared field. */
  readonly fields: Record<string, unknown>;

  constructor(declared: StateLayout, ctx: BindContext) {
    this.#env = { ctx };
    this.#templates = declared.fields.map((f) => new Template(f.name, f.name, f.offset, f.schema));
    this.#nodes = this.#templates.map((t) => makeNode(t, this.#env, t.offset));
    class Fields {
      [ROOT_NODES]: Node[];
      constructor(nodes: Node[]) {
        this[ROOT_NODES] = nodes;
      }
    }
    this.#templates.forEach((t, i) => {
      Object.defineProperty(Fields.prototype, t.name, {
        enumerable: true,
        get(this: Fields) {
          return reach(this, t.name, this[ROOT_NODES][i]!);
        },
      });
    });
    this.fields = new Fields(this.#nodes) as unknown as Record<string, unknown>;
  }

  /** The paths the owner's code has used so far, declared names, parents first. */
  used(): string[] {
    const out: string[] = [];
    const walk = (t: Template): void => {
      if (!t.used) return;
      out.push(t.path);
      for (const m of t.members) walk(m);
      if (t.element !== undefined) walk(t.element);
    };
    for (const t of this.#templates) walk(t);
    return out;
  }

  /** Every moves of every template under `plan` (the current layout → the target). */
  #moves(plan: MigrationPlan): Move[] {
    const out: Move[] = [];
    for (const t of this.#templates) {
      // Removed earlier: a field of the declared name added again takes its place again.
      const step =
        t.current === undefined
          ? plan.fields.find((s) => s.name === t.path && s.source === undefined)
          : plan.fields.find((s) => s.source?.name === t.name);
      if (step === undefined) {
        out.push({ t, name: undefined, offset: 0, current: undefined, broken: 'removes it' });
        markBelow(t, 'removes it', out);
      } else {
        follow(
          t,
          step.schema,
          t.current === undefined ? undefined : step.conversion,
          step.name,
          step.offset,
          out,
        );
      }
    }
    return out;
  }

  /**
   * The first path the owner's code uses that `plan` removes or retypes incompatibly, with why;
   * undefined when the owner can carry on over the target layout.
   */
  check(plan: MigrationPlan): { path: string; reason: string } | undefined {
    for (const m of this.#moves(plan)) {
      if (m.t.used && m.broken !== undefined) return { path: m.t.path, reason: m.broken };
    }
    return undefined;
  }

  /** Points every handle at the target of `plan` in the region of `ctx` (after `check`). */
  rebind(plan: MigrationPlan, ctx: BindContext): void {
    for (const m of this.#moves(plan)) {
      m.t.current = m.current;
      m.t.broken = m.broken;
      m.t.mismatch = m.mismatch;
      if (m.name !== undefined) {
        m.t.name = m.name;
        m.t.offset = m.offset;
      }
    }
    this.#env.ctx = ctx;
    for (const n of this.#nodes) {
      if (n.t.current === undefined || n.t.broken !== undefined) n.lose(gone(n.t));
      else n.place(n.t.offset);
    }
  }

  /**
   * Commits what the owner's own consumers took and have not committed yet (`delivery:
   * 'handled'`): the owner has those messages in hand, so a migration must not carry them again,
   * and the claim they hold would keep the migration from taking the rest.
   */
  settleChannels(): void {
    for (const n of this.#nodes) {
      if (n instanceof ChannelNode) n.settle();
    }
  }

  /** The current accessors of the top-level fields of `kind` that the owner still has. */
  currentOf<T>(kind: 'channel' | 'framebuffer'): T[] {
    const out: T[] = [];
    for (const n of this.#nodes) {
      if (n.t.current?.kind !== kind || n.t.broken !== undefined) continue;
      out.push(n.handle as T);
    }
    return out;
  }
}
