/**
 * The state layer: one declaration that both sides of an app share. It names the reloadable's
 * entry, the arguments the reloadable needs (a schema, so they are validated on arrival), and the
 * fields as a function of those arguments.
 *
 * - `create(args)` is the owner's side (./owned.ts): it creates the region, fills its header
 *   last, and returns an `OwnedState`: the owner's view of the fields plus what a renderer host
 *   needs to drive renderers over the region (writer epochs, frame counts, checks and repairs,
 *   and the migration to a new layout).
 * - `reloadable()` is the renderer's side: it finds the region through the hand-off its host
 *   left, proves the layouts agree, and returns the same typed fields.
 *
 * Every definition made in a process is registered (`registeredStates()`), so a renderer's runner
 * can compare the layout the new code declares with the region's before it runs `main()`.
 *
 * This layer knows nothing of processes, threads, watchers or builds: those are the hosts'
 * (../host), and the package's entry composes the two (../owner.ts).
 */
import { InvalidArgumentError, SchemaError, ValueError } from '../errors.js';
import { beginFrameEpoch } from '../frames/framebuffer.js';
import type { FrameBuffer } from '../frames/index.js';
import { HEADER_SIZE, HeaderSlot, readHeader, validateHeader } from '../memory/header.js';
import { openRegion, type Region } from '../memory/index.js';
import { unwrapField } from '../schema/index.js';
import type { Access, BindContext, Infer, Schema } from '../schema/types.js';
import { createBindContext } from './context.js';
import { describeLayout, diffLayouts, type LayoutDescriptor } from './descriptor.js';
import { describe, isSchema, layoutState, type StateLayout } from './layout.js';
import { createOwned, type OwnedState as OwnedStateOf } from './owned.js';
import { findHandoff, type RuntimeHandoff } from './runtime.js';

export type StateFields<F extends Record<string, Schema>> = {
  readonly [K in keyof F]: Access<F[K]>;
};

export interface StateSpec<A extends Schema, F extends Record<string, Schema>> {
  /** A name for the state, part of its layout signature. */
  readonly name: string;
  /**
   * The reloadable's entry module, which exports `async function main()`: a package name the
   * owner depends on, an absolute path, or a URL such as `new URL('./renderer.ts', import.meta.url)`.
   * A relative path is refused: it would depend on the directory the owner is started from.
   */
  readonly reloadable: string | URL;
  /** The arguments' schema (usually a struct); they travel as JSON and are checked on arrival. */
  readonly args: A;
  /** The fields of the region, given the arguments. */
  readonly fields: (args: Infer<A>) => F;
}

export type ReloadableState<A extends Schema, F extends Record<string, Schema>> = StateFields<F> & {
  readonly args: Infer<A>;
  readonly region: Region;
  /** This renderer's writer epoch. */
  readonly epoch: number;
};

export type { MigrationTarget, PreparedMigration, RegionRepair } from './owned.js';

/** The owner's side of a state of this definition (see ./owned.ts). */
export type OwnedState<A extends Schema, F extends Record<string, Schema>> = OwnedStateOf<
  Infer<A>,
  StateFields<F>
>;

export interface StateCore<A extends Schema, F extends Record<string, Schema>> {
  readonly name: string;
  readonly argsSchema: A;
  /** The reloadable entry as declared. */
  readonly reloadableEntry: string | URL;
  /** The layout for these arguments (offsets, sizes, signature, fingerprint). */
  layout(args: Infer<A>): StateLayout;
  /**
   * The arguments as the renderer will receive them (JSON), after checking them against the
   * schema and proving they survive the trip (ValueError otherwise).
   */
  encodeArgs(args: Infer<A>): string;
  /** Owner side: creates, initialises and publishes the region. */
  create(args: Infer<A>): OwnedState<A, F>;
  /**
   * The layout for these arguments as data: what a renderer sends its owner so the owner can
   * compare it with its region's (and migrate to it).
   */
  describe(args: Infer<A>): LayoutDescriptor;
  /** Renderer side: the region its host handed over, checked and bound. */
  reloadable(): ReloadableState<A, F>;
}

/**
 * @example
 * const core = defineStateCore({
 *   name: 'demo',
 *   reloadable: 'example-impl',
 *   args: struct({ width: u32, height: u32 }),
 *   fields: ({ width, height }) => ({ framebuffer: framebuffer(width, height) }),
 * });
 */
export function defineStateCore<A extends Schema, F extends Record<string, Schema>>(
  spec: StateSpec<A, F>,
): StateCore<A, F> {
  if (typeof spec !== 'object' || spec === null) {
    throw new SchemaError(`defineState: expected a spec object, got ${describe(spec)}`);
  }
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new SchemaError(`defineState: expected a non-empty name, got ${describe(spec.name)}`);
  }
  if (!isSchema(spec.args))
    throw new SchemaError(
      `defineState(${spec.name}): expected args to be a schema such as struct({...}), got ${describe(spec.args)}`,
    );
  const jsonProblem = notJsonSafe(spec.args, 'args');
  if (jsonProblem !== undefined) {
    throw new SchemaError(
      `defineState(${spec.name}): the arguments travel to the renderer as JSON, so ${jsonProblem}`,
    );
  }
  if (typeof spec.fields !== 'function') {
    throw new SchemaError(
      `defineState(${spec.name}): expected fields to be a function (args) => ({...}), got ${describe(spec.fields)}`,
    );
  }
  checkReloadable(spec.reloadable, `defineState(${spec.name}): reloadable`);
  const name = spec.name;
  // The layout of the last arguments asked for: a renderer's runner lays the state out to compare
  // it with the region's, then State.reloadable() needs the same layout (a layout is immutable).
  let last: { readonly key: string; readonly layout: StateLayout } | undefined;
  const layout = (args: Infer<A>): StateLayout => {
    spec.args.check(args, `${name} args`);
    const key = JSON.stringify(args);
    if (last?.key === key) return last.layout;
    const made = layoutState(name, spec.fields(args), HEADER_SIZE);
    last = { key, layout: made };
    return made;
  };
  let reloadableState: ReloadableState<A, F> | undefined;
  let reloadableFor: RuntimeHandoff | undefined;

  const core: StateCore<A, F> = {
    name,
    argsSchema: spec.args,
    reloadableEntry: spec.reloadable,
    layout,
    encodeArgs(args) {
      layout(args);
      return argsToJson(spec.args, args, name);
    },

    create(args) {
      return createOwned<Infer<A>, StateFields<F>>(
        {
          name,
          layout,
          encodeArgs: (a) => argsToJson(spec.args, a, name),
          checkArgs(a: unknown, where: string): asserts a is Infer<A> {
            spec.args.check(a, where);
          },
        },
        args,
      );
    },

    describe(args) {
      return describeLayout(layout(args));
    },

    reloadable() {
      const handoff = findHandoff();
      if (reloadableState && reloadableFor === handoff) return reloadableState;
      let args: unknown;
      try {
        args = JSON.parse(handoff.argsJson);
      } catch (e) {
        throw new InvalidArgumentError(
          `${name}: expected the owner's arguments as JSON, got ${describe(handoff.argsJson)}`,
          { cause: e },
        );
      }
      const lay = layout(args as Infer<A>);
      const region = handoff.region ?? openRegion(handoff.regionName);
      validateHeader(region, {
        fingerprint: lay.fingerprint,
        explain: (ownerDescriptor) => diffLayouts(ownerDescriptor, lay),
      });
      const ctx = createBindContext(region, 'reloadable', handoff.epoch, handoff.producerGate);
      const fields = bindFields(lay, ctx);
      // This renderer has its state: from here on its frames are the ones shown, and the one it
      // replaces (which kept presenting until now) is refused.
      beginEpochIn(
        new Int32Array(region.buffer, 0, HEADER_SIZE / 4),
        Object.values(fields).filter(isFrameBuffer),
        handoff.epoch,
      );
      reloadableState = Object.assign(fields, {
        args,
        region,
        epoch: handoff.epoch,
      }) as unknown as ReloadableState<A, F>;
      reloadableFor = handoff;
      handoff.onReloadable?.(reloadableState);
      return reloadableState;
    },
  };
  registry().set(name, core as unknown as StateCore<Schema, Record<string, Schema>>);
  return core;
}

/**
 * Shared by every copy of this library in the process (a renderer's bundle may carry its own):
 * the key is a registered symbol, not a module-level variable.
 */
const REGISTRY_KEY: unique symbol = Symbol.for('hotshm.states') as never;

function registry(): Map<string, StateCore<Schema, Record<string, Schema>>> {
  const g = globalThis as {
    [REGISTRY_KEY]?: Map<string, StateCore<Schema, Record<string, Schema>>>;
  };
  g[REGISTRY_KEY] ??= new Map();
  return g[REGISTRY_KEY];
}

/**
 * The state definitions made in this process, one per name (a later definition of a name
 * replaces the earlier one): a renderer's runner uses it before `main()` to compare what the new
 * code declares (`describe(args)`) with the region's layout.
 *
 * @example
 * const def = registeredStates().find((s) => s.name === regionState);
 * const wanted = def?.describe(args); // send it to the owner if its fingerprint differs
 */
export function registeredStates(): readonly StateCore<Schema, Record<string, Schema>>[] {
  return [...registry().values()];
}

/**
 * Before a new program's `main()` runs (a renderer's runner): does the state it defines still fit
 * `region`? The region's header names the state and holds its layout; the program's definition of
 * that name (see `registeredStates`) lays its fields out for the owner's arguments. Returns that
 * layout's descriptor when it differs from the region's (the owner migrates the region to it), or
 * undefined when it fits, or when the program defines no state of that name.
 *
 * Cheap when nothing changed (one fingerprint compared). Throws what the new definition throws
 * (`fields()` throwing, an invalid schema, arguments its args schema refuses): the running
 * renderer and the region stay as they are.
 *
 * @example
 * const wanted = layoutChange(region, handoff.argsJson);
 * if (wanted !== undefined) askTheOwnerToMigrate(wanted);
 */
export function layoutChange(region: Region, argsJson: string): LayoutDescriptor | undefined {
  const header = readHeader(region);
  if (header.descriptor === undefined) return undefined;
  let state: unknown;
  try {
    state = (JSON.parse(header.descriptor) as { state?: unknown }).state;
  } catch {
    return undefined; // a damaged header: validateHeader says so when the program binds it
  }
  if (typeof state !== 'string') return undefined;
  const def = registry().get(state);
  if (def === undefined) return undefined;
  let args: unknown;
  try {
    args = JSON.parse(argsJson);
  } catch (e) {
    throw new InvalidArgumentError(
      `${state}: expected the owner's arguments as JSON, got ${describe(argsJson)}`,
      { cause: e },
    );
  }
  const layout = def.layout(args as never);
  if (Buffer.from(layout.fingerprint).equals(Buffer.from(header.fingerprint))) return undefined;
  return describeLayout(layout);
}

function beginEpochIn(
  headerI32: Int32Array,
  framebuffers: readonly FrameBuffer[],
  epoch: number,
): void {
  Atomics.store(headerI32, HeaderSlot.epoch, epoch);
  for (const fb of framebuffers) beginFrameEpoch(fb, epoch);
}

/** Refuses what cannot name an entry independently of the working directory. */
export function checkReloadable(entry: unknown, where: string): void {
  if (entry instanceof URL) return;
  if (typeof entry !== 'string' || entry.length === 0) {
    throw new SchemaError(
      `${where}: expected a package name, an absolute path or a URL, got ${describe(entry)}`,
    );
  }
  if (/^\.\.?([/\\]|$)/.test(entry)) {
    throw new SchemaError(
      `${where}: a relative path (${JSON.stringify(entry)}) would depend on the directory the owner is started from; expected a package name, an absolute path, or a URL such as new URL(${JSON.stringify(entry)}, import.meta.url)`,
    );
  }
}

/** Why values of `schema` cannot make a JSON round trip, or undefined when they can. */
function notJsonSafe(schema: Schema, path: string): string | undefined {
  const s = unwrapField(schema).schema as Schema & {
    fields?: Record<string, Schema>;
    element?: Schema;
    kind: string;
  };
  if (s.kind === 'u64' || s.kind === 'i64') {
    return `${path} cannot be a ${s.kind} (a bigint, which JSON cannot carry): expected u32, i32 or f64`;
  }
  if (s.topLevelOnly) return `${path} cannot be a ${s.kind}: it has no plain value`;
  if (s.fields && typeof s.fields === 'object') {
    for (const [k, v] of Object.entries(s.fields)) {
      const problem = notJsonSafe(v, `${path}.${k}`);
      if (problem) return problem;
    }
  }
  if (s.element && isSchema(s.element)) return notJsonSafe(s.element, `${path}[]`);
  return undefined;
}

/** The arguments as JSON, after proving they arrive as they left (no NaN, no Infinity). */
function argsToJson<A extends Schema>(schema: A, args: Infer<A>, name: string): string {
  const json = JSON.stringify(args);
  try {
    schema.check(JSON.parse(json), `${name} args (as the renderer receives them)`);
  } catch (e) {
    throw new ValueError(
      `${name}: the arguments do not survive JSON on their way to the renderer: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return json;
}

function bindFields(lay: StateLayout, ctx: BindContext): Record<string, unknown> {
  // Every field's bytes are checked before any accessor exists: a corrupt ring index or length
  // is an error here, never an out-of-bounds view later.
  for (const f of lay.fields) f.schema.verify?.(ctx.view, f.offset, f.name);
  const out: Record<string, unknown> = {};
  for (const f of lay.fields) out[f.name] = f.schema.bind(ctx, f.offset, f.name);
  return out;
}

function isFrameBuffer(v: unknown): v is FrameBuffer {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Partial<FrameBuffer>).acquireFront === 'function' &&
    typeof (v as Partial<FrameBuffer>).frameCount === 'function'
  );
}
