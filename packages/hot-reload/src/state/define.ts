/**
 * `defineState`: one declaration that both sides of an app share. It names the reloadable's entry,
 * the arguments the reloadable needs (a struct schema, so they are validated on arrival), and the
 * fields as a function of those arguments. `owner()` creates the region, fills its header last,
 * and starts the reloadable (a supervised process in hot mode, a worker thread otherwise);
 * `reloadable()` finds the region, proves the layouts agree, and returns the same typed fields.
 */
import { createRequire } from 'node:module';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, RegionExistsError, SchemaError } from '../errors.js';
import type { FrameBuffer } from '../frames/index.js';
import {
  HEADER_SIZE,
  HeaderSlot,
  headerLayout,
  markReady,
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
import {
  Supervisor,
  type SupervisorEvents,
  type SupervisorOptions,
} from '../supervisor/supervisor.js';
import { WorkerHost } from '../supervisor/worker-host.js';
import { createBindContext } from './context.js';
import { describe, diffSignatures, isSchema, layoutState, type StateLayout } from './layout.js';
import { attachLogger } from './log.js';
import { findHandoff, type RuntimeHandoff } from './runtime.js';

export type StateFields<F extends Record<string, Schema>> = {
  readonly [K in keyof F]: Access<F[K]>;
};

export interface StateSpec<A extends Schema, F extends Record<string, Schema>> {
  /** A name for the state, part of its layout signature. */
  readonly name: string;
  /**
   * The reloadable's entry module, which exports `async function main()`: a package name
   * (resolved from the owner's main script, then from the working directory), a path, or a URL.
   */
  readonly reloadable: string | URL;
  /** The arguments' schema (usually a struct); they travel as JSON and are checked on arrival. */
  readonly args: A;
  /** The fields of the region, given the arguments. */
  readonly fields: (args: Infer<A>) => F;
}

export interface OwnerOptions {
  /** Hot reload (a watched, supervised renderer process) or a worker thread. Default true. */
  readonly hot?: boolean;
  /** Overrides `spec.reloadable`. */
  readonly entry?: string | URL;
  /**
   * Report reloads, build errors and crashes: true (the default) prints them to stderr, false
   * keeps quiet, a function receives each line (an owner drawing in the terminal logs elsewhere).
   */
  readonly log?: boolean | ((line: string) => void);
  /** Passed to the supervisor (grace period, crash policy, stderr…). */
  readonly supervisor?: Partial<
    Omit<SupervisorOptions, 'entry' | 'regionName' | 'argsJson' | 'setEpoch'>
  >;
}

/** What both a supervisor and a worker host offer: typed events and a close. */
export interface RendererHost {
  on<K extends keyof SupervisorEvents>(
    event: K,
    listener: (...args: SupervisorEvents[K]) => void,
  ): this;
  off<K extends keyof SupervisorEvents>(
    event: K,
    listener: (...args: SupervisorEvents[K]) => void,
  ): this;
  once<K extends keyof SupervisorEvents>(
    event: K,
    listener: (...args: SupervisorEvents[K]) => void,
  ): this;
  readonly rendererPid: number | undefined;
  readonly standbyPid: number | undefined;
  reload(): void;
  idle(): Promise<void>;
  close(reason?: string): Promise<void>;
}

export type OwnerState<A extends Schema, F extends Record<string, Schema>> = StateFields<F> & {
  readonly args: Infer<A>;
  readonly region: Region;
  readonly supervisor: RendererHost;
  readonly hot: boolean;
  /** Stops the renderer, then unlinks and closes the region. */
  close(): Promise<void>;
};

export type ReloadableState<A extends Schema, F extends Record<string, Schema>> = StateFields<F> & {
  readonly args: Infer<A>;
  readonly region: Region;
  /** This renderer's writer epoch. */
  readonly epoch: number;
};

export interface StateDefinition<A extends Schema, F extends Record<string, Schema>> {
  readonly name: string;
  readonly argsSchema: A;
  /** The layout for these arguments (offsets, sizes, signature, fingerprint). */
  layout(args: Infer<A>): StateLayout;
  owner(args: Infer<A>, options?: OwnerOptions): Promise<OwnerState<A, F>>;
  reloadable(): ReloadableState<A, F>;
}

/**
 * @example
 * export const State = defineState({
 *   name: 'demo',
 *   reloadable: 'example-impl',
 *   args: struct({ width: u32, height: u32 }),
 *   fields: ({ width, height }) => ({
 *     framebuffer: framebuffer(width, height),
 *     toRenderer: channel(InputEvent, { capacity: 256 }),
 *   }),
 * });
 * const state = await State.owner({ width: 300, height: 300 }, { hot: true });
 */
export function defineState<A extends Schema, F extends Record<string, Schema>>(
  spec: StateSpec<A, F>,
): StateDefinition<A, F> {
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
  if (typeof spec.fields !== 'function') {
    throw new SchemaError(
      `defineState(${spec.name}): expected fields to be a function (args) => ({...}), got ${describe(spec.fields)}`,
    );
  }
  if (typeof spec.reloadable !== 'string' && !(spec.reloadable instanceof URL)) {
    throw new SchemaError(
      `defineState(${spec.name}): expected reloadable to be a package name, path or URL, got ${describe(spec.reloadable)}`,
    );
  }
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
    layout,

    async owner(args, options = {}) {
      const hot = options.hot ?? true;
      const lay = layout(args);
      const argsJson = JSON.stringify(args);
      const entry = resolveEntry(options.entry ?? spec.reloadable);
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
      Atomics.store(headerI32, HeaderSlot.epoch, 0);
      markReady(region);

      const ctx = createBindContext(region, 'owner', 0);
      const fields = bindFields(lay, ctx);
      const framebuffers = Object.values(fields).filter(isFrameBuffer);
      const setEpoch = (epoch: number): void => {
        // Published before the renderer of `epoch` starts: from here on, framebuffers accept
        // only its presents (a renderer still running with another epoch is ignored).
        Atomics.store(headerI32, HeaderSlot.epoch, epoch);
        for (const fb of framebuffers) fb.beginEpoch(epoch);
      };
      const frameCount = framebuffers[0] ? (): number => framebuffers[0]!.frameCount() : undefined;
      const common = {
        entry,
        regionName: region.name,
        argsJson,
        setEpoch,
        ...(frameCount ? { frameCount } : {}),
      };
      const host: RendererHost = hot
        ? new Supervisor({ ...common, ...options.supervisor })
        : new WorkerHost({ ...common, ...options.supervisor });
      const log = options.log ?? true;
      if (log !== false) attachLogger(host, log === true ? undefined : log);

      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await host.close();
        disposeExitHook();
        region.unlink();
        region.close();
      };
      try {
        await (host as Supervisor | WorkerHost).start();
      } catch (e) {
        await close();
        throw e;
      }
      return Object.assign(fields, {
        args,
        region,
        supervisor: host,
        hot,
        close,
      }) as unknown as OwnerState<A, F>;
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
      reloadableState = Object.assign(fields, {
        args,
        region,
        epoch: handoff.epoch,
      }) as unknown as ReloadableState<A, F>;
      reloadableFor = handoff;
      handoff.onReloadable?.();
      return reloadableState;
    },
  };
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

/** Resolves the reloadable's entry to an absolute file path. */
export function resolveEntry(entry: string | URL): string {
  if (entry instanceof URL) return fileURLToPath(entry);
  if (entry.startsWith('file:')) return fileURLToPath(entry);
  if (isAbsolute(entry)) return entry;
  if (entry.startsWith('.')) return resolvePath(entry);
  const bases = [process.argv[1], resolvePath('package.json')].filter(
    (b): b is string => typeof b === 'string',
  );
  const errors: string[] = [];
  for (const base of bases) {
    try {
      return createRequire(pathToFileURL(base)).resolve(entry);
    } catch (e) {
      errors.push(`${base}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new InvalidArgumentError(
    `cannot find the reloadable "${entry}": expected a package the owner depends on, or a path (${errors.join('; ')})`,
  );
}
