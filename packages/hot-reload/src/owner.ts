/**
 * The package's entry for apps: `defineState` composes the state layer (the typed region, both
 * sides of it) with a renderer host (a supervised process with hot reload, or a worker thread).
 * The state layer knows nothing of hosts; this is the one place where the two meet.
 */

import { ErrorCode, HotshmError, SchemaError } from './errors.js';
import { resolveEntry } from './host/entry.js';
import type {
  PreparedMigration as HostPrepared,
  HostTarget,
  OutputSink,
  RendererHost,
} from './host/events.js';
import { launcherSession } from './host/launcher/session.js';
import { attachLogger } from './host/log.js';
import { Supervisor } from './host/process/supervisor.js';
import { WorkerHost } from './host/thread/worker-host.js';
import type { Region } from './memory/index.js';
import type { Infer, Schema } from './schema/types.js';
import {
  checkReloadable,
  defineStateCore,
  type PreparedMigration,
  type ReloadableState,
  type StateFields,
  type StateSpec,
} from './state/define.js';
import type { LayoutDescriptor } from './state/descriptor.js';
import type { StateLayout } from './state/layout.js';

/** Tuning of the renderer host; every field has a default. */
export interface HostOptions {
  /** Crashes in a row, each within `quickCrashMs` of its start, before restarts stop. Default 3. */
  readonly maxQuickCrashes?: number;
  /** Default 3000 ms. */
  readonly quickCrashMs?: number;
  /** SIGTERM → SIGKILL grace for a replaced renderer; for a worker, how long it may take to return. Default 1000 ms. */
  readonly graceMs?: number;
  /** How long a new renderer may take to get its state before it is stopped. Default 5000 ms. */
  readonly startTimeoutMs?: number;
  /** Hot mode: warm standby processes kept ready. Default 2. */
  readonly standbys?: number;
  /** Hot mode: saves closer together than this are one burst. Default 30 ms. */
  readonly burstMs?: number;
  /** Hot mode: where renderers' stderr goes (also kept for crash reports). Default process.stderr. */
  readonly stderr?: OutputSink;
  /** Hot mode: extra environment variables for renderer processes. */
  readonly env?: Record<string, string>;
  /** Hot mode: watch files by polling. Chosen automatically when inotify runs out. */
  readonly usePolling?: boolean;
}

export interface OwnerOptions {
  /** Hot reload (a watched, supervised renderer process) or a worker thread. Default true. */
  readonly hot?: boolean;
  /** Overrides the state's `reloadable` (same forms: package name, absolute path, URL). */
  readonly entry?: string | URL;
  /**
   * Report reloads, build errors and crashes: true (the default) prints them to stderr, false
   * keeps quiet, a function receives each line (an owner drawing in the terminal logs elsewhere).
   */
  readonly log?: boolean | ((line: string) => void);
  readonly host?: HostOptions;
}

export type OwnerState<A extends Schema, F extends Record<string, Schema>> = StateFields<F> & {
  /** The arguments the state has now (a resize changes them). */
  readonly args: Infer<A>;
  /** The region the state lives in now (a migration moves it). */
  readonly region: Region;
  /** The renderer host: events (`reload`, `build-error`, `crash`, `migrate`…), pids, `reload()`. */
  readonly host: RendererHost;
  readonly hot: boolean;
  /**
   * Runs the state with new arguments (a window resize): the renderer's definition lays the state
   * out for them and, when the layout changes, the region migrates (a `migrate` event says what
   * carried over). Resolves once the renderer runs with them; false if no renderer could.
   */
  resize(args: Infer<A>): Promise<boolean>;
  /** Stops the renderer, then unlinks and closes the region. */
  close(): Promise<void>;
};

export interface StateDefinition<A extends Schema, F extends Record<string, Schema>> {
  readonly name: string;
  readonly argsSchema: A;
  /** The layout for these arguments (offsets, sizes, signature, fingerprint). */
  layout(args: Infer<A>): StateLayout;
  /**
   * Creates the region and starts the renderer. Rejects at once, before any region exists, when
   * the entry cannot be found (`EntryNotFoundError`). With `hot: false` it also rejects when the
   * entry does not build (`BuildError`) or fails before it has its state (`RendererStartError`);
   * with hot reload on it resolves and waits for the fix, which `host` reports as events.
   */
  owner(args: Infer<A>, options?: OwnerOptions): Promise<OwnerState<A, F>>;
  /** In the renderer: the state its owner created, checked and bound. */
  reloadable(): ReloadableState<A, F>;
}

/**
 * Declares the state both sides share.
 *
 * @example
 * export const State = defineState({
 *   name: 'demo',
 *   reloadable: new URL('./renderer.ts', import.meta.url),
 *   args: struct({ width: u32, height: u32 }),
 *   fields: ({ width, height }) => ({
 *     framebuffer: framebuffer(width, height),
 *     input: channel(struct({ x: i32, y: i32 }), { capacity: 256 }),
 *   }),
 * });
 * const state = await State.owner({ width: 300, height: 300 });   // in the owner
 * const s = State.reloadable();                                     // in the renderer's main()
 */
export function defineState<A extends Schema, F extends Record<string, Schema>>(
  spec: StateSpec<A, F>,
): StateDefinition<A, F> {
  const core = defineStateCore(spec);
  return {
    name: core.name,
    argsSchema: core.argsSchema,
    layout: core.layout,
    reloadable: core.reloadable,
    async owner(args, options = {}) {
      if (typeof options !== 'object' || options === null) {
        throw new SchemaError(
          `${core.name}.owner(args, options): expected an options object, got ${String(options)}`,
        );
      }
      if (options.entry !== undefined) checkReloadable(options.entry, 'owner() options.entry');
      // `hotshm dev` / `hotshm start` say what the default is; an explicit option wins.
      const session = launcherSession();
      const hot = options.hot ?? session?.hot ?? true;
      // Before the region exists, in both modes: bad arguments, then a missing entry.
      core.encodeArgs(args);
      const entry = resolveEntry(options.entry ?? core.reloadableEntry);
      const owned = core.create(args);
      // The host's handle on a prepared migration, and the state layer's behind it.
      const migrations = new WeakMap<HostPrepared, PreparedMigration>();
      const preparedOf = (p: HostPrepared): PreparedMigration => {
        const m = migrations.get(p);
        if (m === undefined) {
          throw new HotshmError(
            ErrorCode.Migration,
            `${core.name}: not a migration this owner prepared`,
          );
        }
        return m;
      };
      const target: HostTarget = {
        entry,
        get regionName() {
          return owned.region.name;
        },
        get argsJson() {
          return owned.argsJson;
        },
        beginEpoch: (epoch) => owned.beginEpoch(epoch),
        currentEpoch: () => owned.currentEpoch(),
        retire: (epoch) => owned.retire(epoch),
        frameCount: () => owned.frameCount(),
        inspect: (deep) => owned.inspect(deep),
        takeRepairs: () => owned.takeRepairs(),
        takeWarnings: () => owned.takeWarnings(),
        // A renderer's layout description, maybe with the new arguments it was laid out for (a
        // resize after the definition changed), or new arguments for the owner's own definition.
        prepareMigration: (to) => {
          const args = to.args === undefined ? undefined : (JSON.parse(to.args) as Infer<A>);
          const descriptor = 'descriptor' in to ? (to.descriptor as LayoutDescriptor) : undefined;
          const m = owned.prepareMigration(
            args === undefined
              ? (descriptor as LayoutDescriptor)
              : descriptor === undefined
                ? { args }
                : { args, layout: descriptor },
          );
          const handle: HostPrepared = { regionName: m.to.name, argsJson: m.argsJson };
          migrations.set(handle, m);
          return handle;
        },
        commitMigration: (p, epoch) => owned.commitMigration(preparedOf(p), { epoch }),
        releaseRegion: (p) => owned.releaseRegion(preparedOf(p)),
        abortMigration: (p) => owned.abortMigration(preparedOf(p)),
        useArgs: (json) => owned.useArgs(json),
        // What the gone renderer had taken and not finished goes back to the next one; a message
        // that two renderers died on is dropped and said so (handled delivery). The state layer
        // releases them on its own accessors of every channel, used by the owner's code or not.
        rendererGone: (epoch, crashed) => owned.releaseClaims(epoch, { crashed }),
      };
      const tuning = options.host ?? {};
      const ownerRestarts = session?.mode === 'dev';
      const host: Supervisor | WorkerHost = hot
        ? new Supervisor({ ...tuning, target, ownerRestarts })
        : new WorkerHost({ ...tuning, target, ownerRestarts });
      const log = options.log ?? true;
      if (log !== false) attachLogger(host, log === true ? undefined : log);
      // An owner restarted by `hotshm dev` takes its predecessor's state before any renderer runs.
      const link = await session?.join({ state: core.name, owned, host });
      let closed = false;
      const close = async (): Promise<void> => {
        if (closed) return;
        closed = true;
        await host.close();
        await link?.released();
        owned.close();
      };
      try {
        await host.start();
      } catch (e) {
        await close();
        throw asHotshmError(e, `${core.name}.owner()`);
      }
      const state = Object.defineProperties(owned.fields, {
        args: { get: () => owned.args, enumerable: false },
        region: { get: () => owned.region, enumerable: false },
        host: { value: host as RendererHost, enumerable: false },
        hot: { value: hot, enumerable: false },
        close: { value: close, enumerable: false },
        resize: {
          value: (next: Infer<A>): Promise<boolean> => {
            const json = core.encodeArgs(next);
            return host.resize(json);
          },
          enumerable: false,
        },
      });
      return state as unknown as OwnerState<A, F>;
    },
  };
}

/** Every failure of owner() is a HotshmError with a code; what was not one keeps its cause. */
function asHotshmError(error: unknown, where: string): HotshmError {
  if (error instanceof HotshmError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new HotshmError(
    ErrorCode.Spawn,
    `${where} could not start the renderer host: ${message}`,
    {
      cause: error,
    },
  );
}
