/**
 * What every renderer host offers, in both modes: a process supervisor with hot reload, or a
 * worker thread without. The same events with the same payloads, the same error classes, the
 * same `close()`. The declarations here mention no Node.js type (see emitter.ts).
 */
import type { BuildError, HotshmError, RendererCrashError, RendererStartError } from '../errors.js';
import type { RegionRepair } from '../state/define.js';
import type { MigrationReport } from '../state/migrate.js';
import type { Listener } from './emitter.js';

export type ReloadReason = 'start' | 'change' | 'restart' | 'resize';

/** Where a reload's time went, in milliseconds on the owner's clock. */
export interface ReloadTimings {
  /** performance.now() in the owner when the first change of the burst was seen (null: none). */
  readonly changeSeenAt: number | null;
  /** Change seen → bundle built (includes esbuild's own time and any coalescing). */
  readonly changeToBuildMs: number | null;
  /** esbuild's rebuild. */
  readonly buildMs: number;
  /** Built → handed to a renderer (waiting for a burst of saves to end, or for a warm process). */
  readonly heldMs: number;
  /** Handed over → the renderer process got the bundle (null for a worker). */
  readonly deliverMs: number | null;
  /** The renderer's import of the bundle (its own clock; null for a worker). */
  readonly importMs: number | null;
  /** Bundle imported → the renderer has its state (null for a worker). */
  readonly stateMs: number | null;
  /** Handed over → the new renderer has its state (`State.reloadable()` returned). */
  readonly handoffToReadyMs: number;
  /** Handed over → its first frame presented in shared memory (null: none within 2 s). */
  readonly handoffToFrameMs: number | null;
  /** Change seen → first new frame presented (null when either is unknown). */
  readonly totalMs: number | null;
}

export interface ReloadEvent {
  /** Counts renderers started by this host (1 for the first). */
  readonly generation: number;
  readonly epoch: number;
  /** The renderer's process id (the owner's own pid for a worker thread). */
  readonly pid: number;
  readonly reason: ReloadReason;
  /** True when the reload had to wait for a renderer process that was not warm yet. */
  readonly coldStart: boolean;
  /** Builds of earlier saves that this one made unnecessary (a burst of saves lands once). */
  readonly superseded: number;
  readonly timings: ReloadTimings;
}

export interface CrashEvent {
  readonly pid: number;
  readonly epoch: number;
  readonly code: number | null;
  readonly signal: string | null;
  /** 'start': it failed before it was ready (the renderer it was to replace keeps running). */
  readonly phase: 'start' | 'running';
  readonly error: RendererStartError | RendererCrashError;
  /** One line: what happened. */
  readonly message: string;
  /** The tail of the renderer's stderr. */
  readonly stderr: string;
  readonly willRestart: boolean;
  readonly restartInMs: number | null;
}

export interface HostEvents {
  'build-start': [{ readonly reason: ReloadReason; readonly files: readonly string[] }];
  /** A build succeeded; `unchanged`: its output is what already runs, so nothing reloads. */
  'build-done': [{ readonly buildMs: number; readonly unchanged: boolean }];
  'build-error': [
    {
      readonly error: BuildError;
      readonly messages: readonly string[];
      readonly locations: readonly string[];
      readonly buildMs: number;
    },
  ];
  /**
   * The files the renderer's last good build read (absolute). `reloads`: a change to them reloads
   * the renderer (hot); otherwise the build was made once and only a new owner runs them again.
   */
  inputs: [{ readonly files: readonly string[]; readonly reloads: boolean }];
  reload: [ReloadEvent];
  crash: [CrashEvent];
  /** The region moved to a new layout (a changed state definition, a resize, an owner restart). */
  migrate: [MigrateEvent];
  /**
   * The state definition changed in a way the owner's own code cannot follow (it uses a field the
   * new definition removes or retypes): the renderer keeps the old definition's region and the
   * owner must restart (`restart` says whether one was asked for) to use the new layout.
   */
  'layout-change': [
    {
      readonly message: string;
      readonly error: HotshmError;
      /** Whether the owner was asked to restart itself (it runs under `hotshm dev`). */
      readonly restart: boolean;
    },
  ];
  /** The owner found damage in its region (a stray or hostile write) and repaired it. */
  repair: [{ readonly repairs: readonly RegionRepair[] }];
  warning: [{ readonly message: string; readonly error?: HotshmError }];
  exit: [{ readonly reason: string }];
}

/** Where a renderer process's stderr goes, besides the tail kept for crash reports. */
export interface OutputSink {
  write(chunk: string | Uint8Array): unknown;
}

/** Counters since the host started. */
export interface HostStats {
  readonly builds: number;
  readonly reloads: number;
  /** Builds that a later save made unnecessary before they were handed over. */
  readonly superseded: number;
  readonly crashes: number;
  /** Migrations of the region to a new layout. */
  readonly migrations: number;
}

/** A process host's counters: also the reloads that had to wait for a process to boot. */
export interface ProcessHostStats extends HostStats {
  /** Reloads that waited for a renderer process that was not warm yet. */
  readonly coldStarts: number;
}

/** Why the region moved to a new layout. */
export type MigrateReason = 'layout' | 'resize' | 'adopt';

export interface MigrateEvent {
  readonly reason: MigrateReason;
  /** The region the values came from, and the one they are in now. */
  readonly from: string;
  readonly to: string;
  /** What was kept, converted, reset, added, dropped and carried, field by field. */
  readonly report: MigrationReport;
  /** One line: what the report says (the default logger prints it). */
  readonly summary: string;
  /** From the renderer asking for it to the renderer running on the new region, or null. */
  readonly totalMs: number | null;
}

/** What a host runs renderers for: the owner's side of a state (see state/define.ts). */
export interface HostTarget {
  /** Absolute path of the reloadable's entry module. */
  readonly entry: string;
  /** The region renderers run on now (it changes with a migration). */
  readonly regionName: string;
  /** The state's arguments now, as JSON (they change with a resize). */
  readonly argsJson: string;
  beginEpoch(epoch: number): void;
  currentEpoch(): number;
  retire(epoch: number): void;
  frameCount(): number | undefined;
  inspect(deep?: boolean): RegionRepair[];
  takeRepairs(): RegionRepair[];
  /** What the state layer noticed and did not fail for (then cleared): `warning` events. */
  takeWarnings?(): string[];
  /**
   * Makes the region a new layout needs (`to`: a renderer's layout description, or new arguments
   * for the owner's own definition). Throws a HotshmError when it cannot: the region stays.
   */
  prepareMigration(to: MigrationTarget): PreparedMigration;
  /** Carries the values over (no renderer may use the old region now) and rebinds the owner. */
  commitMigration(prepared: PreparedMigration, epoch: number): MigrationReport;
  /** Unlinks and unmaps the old region once nothing runs on it. */
  releaseRegion(prepared: PreparedMigration): void;
  abortMigration(prepared: PreparedMigration): void;
  /** A renderer went live with new arguments that did not change the layout (a resize). */
  useArgs(argsJson: string): void;
  /**
   * The renderer of `epoch` ended: what it held (messages it had taken and not finished) goes
   * back to the next renderer. Returns what was dropped (a message two renderers died on).
   */
  rendererGone(epoch: number, crashed: boolean): readonly string[];
}

/** What a migration goes to: a new definition's layout, or new arguments. */
export type MigrationTarget =
  | { readonly descriptor: unknown; readonly args?: string }
  | { readonly args: string };

/** A migration made ready by `prepareMigration`: the new region exists, nothing moved yet. */
export interface PreparedMigration {
  readonly regionName: string;
  readonly argsJson: string;
}

interface HostCommon {
  on<K extends keyof HostEvents & string>(event: K, listener: Listener<HostEvents[K]>): this;
  once<K extends keyof HostEvents & string>(event: K, listener: Listener<HostEvents[K]>): this;
  off<K extends keyof HostEvents & string>(event: K, listener: Listener<HostEvents[K]>): this;
  /** The live renderer's process id (the owner's own for a worker thread), if one runs. */
  readonly rendererPid: number | undefined;
  /** Rebuilds and replaces the renderer, as if its source had changed. */
  reload(): void;
  /** Resolves when no build, hand-over or migration is in flight. */
  idle(): Promise<void>;
  /** Stops the renderer and everything the host started. */
  close(reason?: string): Promise<void>;
}

/** Hot reload: renderers in processes of their own, rebuilt on every save. */
export interface ProcessHost extends HostCommon {
  readonly mode: 'process';
  /** A warm (or warming) standby process's id, if any. */
  readonly standbyPid: number | undefined;
  readonly stats: ProcessHostStats;
}

/** No hot reload: the renderer on a worker thread of the owner. */
export interface ThreadHost extends HostCommon {
  readonly mode: 'worker';
  readonly stats: HostStats;
}

/** The renderer host of an owner: `state.host`. Narrow it by `mode`. */
export type RendererHost = ProcessHost | ThreadHost;
