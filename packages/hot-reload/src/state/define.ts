/**
 * The state layer: one declaration that both sides of an app share. It names the reloadable's
 * entry, the arguments the reloadable needs (a schema, so they are validated on arrival), and the
 * fields as a function of those arguments.
 *
 * - `create(args)` is the owner's side: it creates the region, fills its header last, and returns
 *   an `OwnedState`: the typed fields plus what a renderer host needs to drive renderers over
 *   the region (begin and retire writer epochs, count frames, check and repair the region).
 * - `reloadable()` is the renderer's side: it finds the region through the hand-off its host
 *   left, proves the layouts agree, and returns the same typed fields.
 *
 * This layer knows nothing of processes, threads, watchers or builds: those are the hosts'
 * (../host), and the package's entry composes the two (../owner.ts).
 */
import { InvalidArgumentError, RegionExistsError, SchemaError, ValueError } from '../errors.js';
import type { FrameBuffer } from '../frames/index.js';
import {
  HEADER_SIZE,
  HeaderSlot,
  headerLayout,
  markReady,
  snapshotHeader,
  validateHeader,
  writeHeader,
} from '../memory/header.js';
import {
  createRegion,
  newRegionName,
  openRegion,
  type Region,
  removeStaleRegions,
} from '../memory/index.js';
import { unlinkOnExit } from '../memory/lifetime.js';
import type { Access, BindContext, Infer, Schema } from '../schema/types.js';
import { createBindContext } from './context.js';
import { describe, diffSignatures, isSchema, layoutState, type StateLayout } from './layout.js';
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

/** Something the owner found damaged in its region and put right. */
export interface RegionRepair {
  /** 'header', or the name of the field. */
  readonly part: string;
  readonly message: string;
}

/**
 * The owner's side of a state: the typed fields, and the operations a renderer host performs on
 * the region. Created by `StateCore.create`; closed by the owner entry.
 */
export interface OwnedState<A extends Schema, F extends Record<string, Schema>> {
  readonly fields: StateFields<F>;
  readonly args: Infer<A>;
  /** The arguments as the renderer receives them. */
  readonly argsJson: string;
  readonly region: Region;
  /**
   * From now on only the renderer of `epoch` may present frames. A renderer begins its own epoch
   * when it gets its state (see `reloadable()`); the owner calls this to give the floor back.
   */
  beginEpoch(epoch: number): void;
  /** The epoch currently allowed to present. */
  currentEpoch(): number;
  /**
   * Renderers of `epoch` and older must stop: their channels close (receives end, `for await`
   * loops finish) and every parked receiver is woken to see it.
   */
  retire(epoch: number): void;
  /** Frames presented so far, if the state has a framebuffer. */
  frameCount(): number | undefined;
  /**
   * Checks the header against what the owner wrote and every field's control words (and, with
   * `deep`, the messages queued in channels), repairs what is damaged, and says what it repaired.
   */
  inspect(deep?: boolean): RegionRepair[];
  /** Repairs found by the fields' own accessors while the owner used them (then cleared). */
  takeRepairs(): RegionRepair[];
  /** Unlinks and unmaps the region. Every accessor throws RegionClosedError afterwards. */
  close(): void;
}

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
  const layout = (args: Infer<A>): StateLayout => {
    spec.args.check(args, `${name} args`);
    return layoutState(name, spec.fields(args), HEADER_SIZE);
  };
  let reloadableState: ReloadableState<A, F> | undefined;
  let reloadableFor: RuntimeHandoff | undefined;

  return {
    name,
    argsSchema: spec.args,
    reloadableEntry: spec.reloadable,
    layout,
    encodeArgs(args) {
      layout(args);
      return argsToJson(spec.args, args, name);
    },

    create(args) {
      const lay = layout(args);
      const argsJson = argsToJson(spec.args, args, name);
      try {
        removeStaleRegions();
      } catch {
        // Cleaning up after dead owners is best effort; it never stops a start.
      }
      const sigBytes = Buffer.byteLength(lay.signature);
      const hl = headerLayout(lay.dataSize, sigBytes);
      const region = createFreshRegion(hl.totalSize);
      const disposeExitHook = unlinkOnExit(region);
      writeHeader(region, {
        fingerprint: lay.fingerprint,
        signature: lay.signature,
        ownerPid: process.pid,
      });
      const view = new DataView(region.buffer);
      for (const f of lay.fields) f.schema.init?.(view, f.offset);
      const headerI32 = new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
      Atomics.store(headerI32, HeaderSlot.epoch, 1);
      Atomics.store(headerI32, HeaderSlot.retired, 0);
      markReady(region);
      const header = snapshotHeader(region);

      const found: RegionRepair[] = [];
      const ctx = createBindContext(region, 'owner', 0, undefined, (message) => {
        found.push({ part: message.split(':')[0] ?? 'field', message });
      });
      const fields = bindFields(lay, ctx);
      const framebuffers = Object.values(fields).filter(isFrameBuffer);
      const channels = Object.values(fields).filter(isInterruptible);
      let closed = false;
      // Only this owner writes the retired word; what it wrote is what the word must hold. A stray
      // write of a larger value would close the channels of every renderer, present and future.
      let retiredWritten = 0;

      return {
        fields: fields as StateFields<F>,
        args,
        argsJson,
        region,
        beginEpoch(epoch) {
          if (closed) return;
          beginEpochIn(headerI32, framebuffers, epoch);
        },
        currentEpoch() {
          return closed ? 0 : Atomics.load(headerI32, HeaderSlot.epoch);
        },
        retire(epoch) {
          if (closed) return;
          retiredWritten = Math.max(retiredWritten, epoch);
          // Only ever moves forward: a late retire of an older epoch never revives a newer one.
          for (;;) {
            const current = Atomics.load(headerI32, HeaderSlot.retired);
            if (current >= epoch) break;
            if (Atomics.compareExchange(headerI32, HeaderSlot.retired, current, epoch) === current)
              break;
          }
          for (const ch of channels) ch.interruptWaiters();
        },
        frameCount: framebuffers[0] ? () => framebuffers[0]!.frameCount() : () => undefined,
        inspect(deep = false) {
          if (closed) return [];
          const repairs: RegionRepair[] = [];
          const damage = header.damage();
          if (damage !== undefined) {
            header.restore();
            repairs.push({ part: 'header', message: `${damage}; the owner wrote it back` });
          }
          const retired = Atomics.load(headerI32, HeaderSlot.retired);
          if (retired !== retiredWritten) {
            Atomics.store(headerI32, HeaderSlot.retired, retiredWritten);
            repairs.push({
              part: 'header',
              message: `the retired word of region ${region.name} was overwritten (expected ${retiredWritten}, got ${retired}); the owner wrote it back`,
            });
          }
          for (const f of lay.fields) {
            const message = f.schema.repair?.(view, f.offset, f.name, deep);
            if (message !== undefined) repairs.push({ part: f.name, message });
          }
          return repairs;
        },
        takeRepairs() {
          return found.splice(0);
        },
        close() {
          if (closed) return;
          closed = true;
          disposeExitHook();
          region.unlink();
          region.close();
        },
      };
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
        explain: (ownerSignature) => diffSignatures(ownerSignature, lay.signature),
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
}

function beginEpochIn(
  headerI32: Int32Array,
  framebuffers: readonly FrameBuffer[],
  epoch: number,
): void {
  Atomics.store(headerI32, HeaderSlot.epoch, epoch);
  for (const fb of framebuffers) fb.beginEpoch(epoch);
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
  const s = schema as Schema & {
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

function createFreshRegion(size: number): Region {
  // A name someone else created first is never opened as ours: O_EXCL fails, and we pick another.
  for (let attempt = 0; ; attempt++) {
    const regionName = newRegionName();
    try {
      return createRegion(regionName, size);
    } catch (e) {
      if (!(e instanceof RegionExistsError) || attempt >= 4) throw e;
      console.warn(
        `hotshm: region name ${regionName} was already taken by another process; using a fresh name`,
      );
    }
  }
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
    typeof (v as Partial<FrameBuffer>).beginEpoch === 'function' &&
    typeof (v as Partial<FrameBuffer>).frameCount === 'function'
  );
}

function isInterruptible(v: unknown): v is { interruptWaiters(): void } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { interruptWaiters?: unknown }).interruptWaiters === 'function'
  );
}
