/**
 * What both hosts do with renderers, written once: hand a build to a warm renderer and make it the
 * live one, replace the renderer it supersedes, migrate the region when the new build's state no
 * longer fits it, restart crashed renderers by the restart policy, report everything as events.
 * The process host (process/supervisor.ts) adds where builds come from (a watcher and a build
 * loop) and where renderers come from (a pool of warm standby processes); the thread host
 * (thread/worker-host.ts) builds once and starts a worker per renderer.
 *
 * A hand-over, in the order it happens (every step is fired by an event, see ../lifecycle.ts):
 *
 *   handOver(renderer, job)
 *     → stop any holder of the new epoch's pixel buffers (epoch parity), check the region
 *     → renderer.load(program, epoch, region, args)
 *         · `layout`: the build's state no longer fits the region → #migrate: make the new region,
 *           stop every renderer on the old one, carry the values over, answer `region`
 *     → `ready`: it has its state and began its epoch: its frames are shown from now on
 *     → the previous renderer is retired (its channels close) and, after the new one's first
 *       frame, stopped; then the new one is told it is `exclusive` (its sends go to the rings)
 *     → `reload` event once its first frame is out
 *
 * A start that fails gives the floor back to the renderer it was to replace (which never stopped
 * presenting) and is reported as a crash in phase 'start'.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, HotshmError, RendererCrashError, type RendererStartError } from '../errors.js';
import { TypedEmitter } from './emitter.js';
import type {
  HostEvents,
  HostTarget,
  MigrateReason,
  PreparedMigration,
  ReloadReason,
} from './events.js';
import {
  type Clock,
  describeExit,
  type LayoutAnswer,
  type LoadOutcome,
  type Renderer,
  type RendererExit,
  systemClock,
} from './lifecycle.js';
import { type RestartOptions, RestartPolicy } from './restart.js';

/** A program a host can hand to renderers. */
export interface Build {
  /** The program file's contents (an ES module bundle, or a program description). */
  readonly contents: string;
  readonly ext: '.mjs' | '.json';
  /** Identical builds are not reloaded. */
  readonly hash: string;
  /** Packages it imports, by file URL (standbys load them ahead). */
  readonly externals: readonly string[];
  /** How long the build took. */
  readonly ms: number;
}

/** One hand-over: a build, and why and when it came. */
export interface Job {
  readonly build: Build;
  readonly reason: ReloadReason;
  /** When the change it carries was seen (null: a start or restart). */
  readonly changeAt: number | null;
  readonly builtAt: number;
  /** Builds of earlier saves it made unnecessary. */
  superseded: number;
  /** It waited for a renderer that was not warm. */
  cold: boolean;
  /** Arguments to run with (a resize); the target's otherwise. */
  readonly args?: string;
  /** Told whether the job's renderer went live (or that a newer job replaced it). */
  readonly done?: (live: boolean) => void;
}

export interface HostBaseOptions extends RestartOptions {
  readonly target: HostTarget;
  /** How long a stopped renderer may take to end before it is killed. Default 1000 ms. */
  readonly graceMs?: number;
  /** How long a new renderer may take to get its state. Default 5000 ms. */
  readonly startTimeoutMs?: number;
  /** How often the owner checks its region for damage. Default 1000 ms; 0 turns it off. */
  readonly inspectEveryMs?: number;
  readonly clock?: Clock;
  /** A launcher restarts the owner when asked (`hotshm dev`): a refused migration asks. */
  readonly ownerRestarts?: boolean;
}

/** How long the reload event waits for the new renderer's first frame. */
const FIRST_FRAME_WAIT_MS = 2000;
/** A renderer that waits for input before it draws: its predecessor is stopped after this. */
const STOP_PREVIOUS_AFTER_MS = 100;

export abstract class HostBase extends TypedEmitter<HostEvents> {
  protected readonly target: HostTarget;
  protected readonly clock: Clock;
  protected readonly policy: RestartPolicy;
  protected readonly graceMs: number;
  protected readonly startTimeoutMs: number;
  readonly #inspectEveryMs: number;
  readonly #ownerRestarts: boolean;
  /** The live renderer. */
  protected current: Renderer | undefined;
  /** Every renderer handed a build that has not ended. */
  protected readonly holders = new Set<Renderer>();
  protected closed = false;
  protected lastGood: Build | undefined;
  protected readonly counts = {
    builds: 0,
    reloads: 0,
    superseded: 0,
    crashes: 0,
    migrations: 0,
    coldStarts: 0,
  };
  #epoch = 0;
  #generation = 0;
  #programSeq = 0;
  #restartTimer: unknown;
  #inspectTimer: ReturnType<typeof setInterval> | undefined;
  readonly #idleWaiters: Array<() => void> = [];

  constructor(options: HostBaseOptions) {
    super();
    this.target = options.target;
    this.clock = options.clock ?? systemClock;
    this.policy = new RestartPolicy(options);
    this.graceMs = options.graceMs ?? 1000;
    this.startTimeoutMs = options.startTimeoutMs ?? 5000;
    this.#inspectEveryMs = options.inspectEveryMs ?? 1000;
    this.#ownerRestarts = options.ownerRestarts ?? false;
  }

  get rendererPid(): number | undefined {
    return this.current?.alive ? this.current.pid : undefined;
  }

  /** Where program files are written. */
  protected abstract programDir(): string;
  /** A crashed renderer's build is to run again now (the restart policy's back-off is over). */
  protected abstract restartLater(build: Build): void;
  /** Whether a crashed renderer may be started again at all (a worker host's first start may not). */
  protected mayRestart(): boolean {
    return true;
  }
  /** Restarts stopped: the host waits for new code (or gives up, without a source to watch). */
  protected abstract restartsStopped(): void;
  /** Whether a build, hand-over or pending job is in flight (see idle()). */
  protected abstract get busy(): boolean;

  /** Resolves when nothing is in flight; subclasses call settled() when that may have changed. */
  idle(): Promise<void> {
    if (this.closed || !this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  protected settled(): void {
    if (!this.closed && this.busy) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  protected startInspecting(): void {
    this.reportWarnings();
    if (this.#inspectEveryMs <= 0) return;
    this.#inspectTimer = setInterval(() => this.inspect(false), this.#inspectEveryMs);
    this.#inspectTimer.unref();
  }

  /** What the state layer noticed and did not fail for (a region name taken…): warning events. */
  protected reportWarnings(): void {
    for (const message of this.target.takeWarnings?.() ?? []) this.emit('warning', { message });
  }

  /** Checks and repairs the region; reports what it repaired. Returns how many repairs. */
  protected inspect(deep: boolean): number {
    if (this.closed) return 0;
    this.reportWarnings();
    const repairs = [...this.target.inspect(deep), ...this.target.takeRepairs()];
    if (repairs.length > 0) this.emit('repair', { repairs });
    return repairs.length;
  }

  /**
   * Hands `job` to the warm `renderer` and, when it gets its state, makes it the live renderer.
   * Resolves with whether it went live.
   */
  protected async handOver(renderer: Renderer, job: Job): Promise<boolean> {
    const epoch = ++this.#epoch;
    await this.#parityFree(epoch, renderer);
    if (this.closed) {
      void renderer.kill('the host closed');
      return false;
    }
    this.inspect(false);
    const file = join(this.programDir(), `program-${++this.#programSeq}${job.build.ext}`);
    writeFileSync(file, job.build.contents);
    renderer.tag = job.build;
    this.holders.add(renderer);
    void renderer.exited.then(() => this.holders.delete(renderer));
    const handedAt = this.clock.now();
    const previousAtStart = this.current?.alive ? this.current : undefined;
    let migrated: { at: number } | undefined;
    const outcome = await renderer.load(
      {
        program: file,
        epoch,
        region: this.target.regionName,
        args: job.args ?? this.target.argsJson,
        externals: job.build.externals,
      },
      {
        timeoutMs: this.startTimeoutMs,
        onLayout: async (descriptor) => {
          const answer = await this.#migrate(renderer, epoch, descriptor, job);
          if ('region' in answer) migrated = { at: this.clock.now() };
          return answer;
        },
      },
    );
    rmSync(file, { force: true });
    // A migration stopped it, or it ended on its own meanwhile. One being stopped (a migration
    // asked it to end and it is still finishing) is no renderer to fall back on either: a start
    // that failed then must restart, or nothing would run once it has gone.
    const previous =
      previousAtStart?.alive && previousAtStart.stopReason === undefined
        ? previousAtStart
        : undefined;

    if (!outcome.ok) {
      await this.#startFailed(renderer, job, outcome, previous);
      return false;
    }
    if (this.closed) return false;
    if (job.args !== undefined && migrated === undefined) this.target.useArgs(job.args);
    this.current = renderer;
    this.lastGood = job.build;
    this.counts.reloads++;
    if (job.cold && job.reason !== 'start') this.counts.coldStarts++;
    const generation = ++this.#generation;
    // The old renderer stops taking input at once; its process goes after the new first frame.
    if (previous) {
      this.target.retire(previous.epoch);
      previous.retire();
    }
    const frame = this.#within(renderer.firstFrame, FIRST_FRAME_WAIT_MS);
    void frame.then((frameAt) => {
      if (this.closed || !renderer.alive) return;
      const t = outcome.timings;
      this.emit('reload', {
        generation,
        epoch,
        pid: renderer.pid,
        reason: job.reason,
        coldStart: job.cold && job.reason !== 'start',
        superseded: job.superseded,
        timings: {
          changeSeenAt: job.changeAt,
          changeToBuildMs: job.changeAt === null ? null : job.builtAt - job.changeAt,
          buildMs: job.build.ms,
          heldMs: handedAt - job.builtAt,
          deliverMs: t.receivedAt - (performance.timeOrigin + handedAt),
          importMs: t.evalMs,
          stateMs: t.stateMs,
          handoffToReadyMs: t.readyAt - handedAt,
          handoffToFrameMs: frameAt === null ? null : frameAt - handedAt,
          totalMs: job.changeAt === null || frameAt === null ? null : frameAt - job.changeAt,
        },
      });
    });
    if (!previous) {
      renderer.exclusive();
      return true;
    }
    // Stopping a process and booting the next standby both take a core: not before the new
    // renderer's first frame is out (or a moment, for a renderer that waits for input to draw).
    void this.#within(renderer.firstFrame, STOP_PREVIOUS_AFTER_MS).then(async () => {
      await previous.stop(this.graceMs, 'replaced by a newer renderer');
      // Once the old renderer is gone the new one is the only producer on its channels.
      renderer.exclusive();
    });
    return true;
  }

  /**
   * The renderer of `epoch` needs a region with its state's layout: make it, stop every renderer
   * on the old one (a message taken or a value written after the copy would be lost), carry the
   * values over, rebind the owner, and answer with the new region's name. A refusal (the owner's
   * code uses a field the new layout drops, /dev/shm is full) leaves the region and its renderers
   * as they were.
   */
  async #migrate(
    renderer: Renderer,
    epoch: number,
    descriptor: unknown,
    job: Job,
  ): Promise<LayoutAnswer> {
    const asked = this.clock.now();
    const from = this.target.regionName;
    let prepared: PreparedMigration;
    try {
      prepared = this.target.prepareMigration(
        job.args === undefined ? { descriptor } : { descriptor, args: job.args },
      );
    } catch (error) {
      const err =
        error instanceof HotshmError
          ? error
          : new HotshmError(ErrorCode.Migration, `the migration failed: ${String(error)}`, {
              cause: error,
            });
      this.migrationRefused(err);
      return { abort: err.message };
    }
    const others = [...this.holders].filter((r) => r !== renderer && r.alive);
    for (const r of others) this.target.retire(r.epoch);
    await Promise.allSettled(others.map((r) => r.stop(this.graceMs, 'the state migrated')));
    if (this.closed || !renderer.alive) {
      this.target.abortMigration(prepared);
      return { abort: 'the host closed' };
    }
    const report = this.target.commitMigration(prepared, epoch);
    this.target.releaseRegion(prepared);
    this.counts.migrations++;
    const reason: MigrateReason = job.reason === 'resize' ? 'resize' : 'layout';
    this.emit('migrate', {
      reason,
      from,
      to: prepared.regionName,
      report,
      summary: report.summary,
      totalMs: this.clock.now() - asked,
    });
    return { region: prepared.regionName };
  }

  /**
   * New arguments with no build to run them (the entry has not built yet): the owner's own
   * definition lays the state out for them, and the region migrates with no renderer on it.
   */
  protected resizeWithoutRenderer(args: string): boolean {
    const from = this.target.regionName;
    const asked = this.clock.now();
    let prepared: PreparedMigration;
    try {
      prepared = this.target.prepareMigration({ args });
    } catch (error) {
      this.migrationRefused(
        error instanceof HotshmError
          ? error
          : new HotshmError(ErrorCode.Migration, `the resize failed: ${String(error)}`, {
              cause: error,
            }),
      );
      return false;
    }
    const report = this.target.commitMigration(prepared, Math.max(1, this.target.currentEpoch()));
    this.target.releaseRegion(prepared);
    this.counts.migrations++;
    this.emit('migrate', {
      reason: 'resize',
      from,
      to: prepared.regionName,
      report,
      summary: report.summary,
      totalMs: this.clock.now() - asked,
    });
    return true;
  }

  /** A migration was refused: say why (under `hotshm dev` the owner restarts on the new code). */
  protected migrationRefused(error: HotshmError): void {
    if (error.code === ErrorCode.IncompatibleChange) {
      const restart = this.#ownerRestarts;
      this.emit('layout-change', {
        message: restart
          ? `${error.message}; restarting the owner on the new state definition`
          : `${error.message}; the renderer keeps the old state definition until the owner restarts`,
        error,
        restart,
      });
    } else {
      this.emit('warning', { message: `the state could not migrate: ${error.message}`, error });
    }
  }

  async #startFailed(
    renderer: Renderer,
    job: Job,
    outcome: Exclude<LoadOutcome, { ok: true }>,
    previous: Renderer | undefined,
  ): Promise<void> {
    if (renderer.alive) await renderer.kill('the supervisor stopped it');
    // Give the floor back to the renderer that still runs: its presents count again.
    if (previous?.alive && this.target.currentEpoch() !== previous.epoch) {
      this.target.beginEpoch(previous.epoch);
    }
    if (outcome.why === 'cancelled' || outcome.why === 'refused' || this.closed) return;
    // The region itself may be what failed it (a damaged header, a corrupt ring): repair, and
    // give the same build one more go if something was repaired.
    const repaired = this.inspect(true);
    if (repaired > 0 && isRegionError(outcome.code) && job.reason !== 'restart') {
      this.retry({ ...job, reason: 'restart' });
      return;
    }
    this.#crashed(renderer, 'start', outcome.error, previous);
  }

  /** Hands `job` over again, later (a repaired region). */
  protected abstract retry(job: Job): void;

  /** Every renderer's exit, whatever the phase: subclasses call it from their transports. */
  protected rendererExited(renderer: Renderer, exit: RendererExit): void {
    if (renderer.epoch > 0) {
      const crashed = renderer.stopReason === undefined;
      for (const message of this.target.rendererGone(renderer.epoch, crashed)) {
        this.emit('warning', { message });
      }
    }
    if (this.closed || renderer.stopReason !== undefined) return;
    if (renderer !== this.current) return;
    const message = `the renderer ${describeExit(exit)}${renderer.lastError}`;
    this.#crashed(
      renderer,
      'running',
      new RendererCrashError(message, exit.code, exit.signal),
      undefined,
    );
    this.settled();
  }

  #crashed(
    renderer: Renderer,
    phase: 'start' | 'running',
    error: RendererStartError | RendererCrashError,
    stillRunning: Renderer | undefined,
  ): void {
    this.counts.crashes++;
    if (renderer === this.current) this.current = undefined;
    // A new build that fails to start leaves the old renderer running: nothing to restart.
    const needRestart = !stillRunning?.alive && !this.closed;
    const decision = this.policy.crashed(this.clock.now() - renderer.loadedAt);
    const build = (renderer.tag as Build | undefined) ?? this.lastGood;
    const willRestart =
      needRestart && this.mayRestart() && decision.willRestart && build !== undefined;
    const restartInMs = willRestart ? decision.restartInMs : null;
    if (phase === 'running') this.inspect(true);
    const exit = renderer.exit ?? { code: null, signal: null };
    this.emit('crash', {
      pid: renderer.pid,
      epoch: renderer.epoch,
      code: exit.code,
      signal: exit.signal,
      phase,
      error,
      // A start the host ended itself is not an outside kill: say who stopped it.
      message: `${error.message}${renderer.stopReason ? `; ${renderer.stopReason}` : ''} (pid ${renderer.pid})`,
      stderr: renderer.stderr,
      willRestart,
      restartInMs,
    });
    this.clock.clearTimeout(this.#restartTimer);
    if (willRestart && build) {
      this.#restartTimer = this.clock.setTimeout(() => {
        if (!this.closed) this.restartLater(build);
      }, restartInMs ?? 0);
    } else if (needRestart) {
      this.restartsStopped();
    }
  }

  protected cancelRestart(): void {
    this.clock.clearTimeout(this.#restartTimer);
  }

  /** `promise`'s value, or null once `ms` have passed (the timer goes when either settles). */
  #within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
    let timer: unknown;
    const late = new Promise<null>((resolve) => {
      timer = this.clock.setTimeout(() => resolve(null), ms);
    });
    return Promise.race([promise, late]).finally(() => this.clock.clearTimeout(timer));
  }

  /** Until the renderer of `epoch` starts, no other live renderer may hold its pixel buffers. */
  async #parityFree(epoch: number, next: Renderer): Promise<void> {
    for (const holder of this.holders) {
      if (holder === next || !holder.alive || (holder.epoch & 1) !== (epoch & 1)) continue;
      this.target.retire(holder.epoch);
      await holder.stop(this.graceMs, 'replaced by a newer renderer');
    }
  }

  /** Stops every renderer (retiring the live one first) and the timers. */
  protected async stopAll(others: readonly Renderer[], reason: string): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.#restartTimer);
    clearInterval(this.#inspectTimer);
    const all = new Set<Renderer>([...others, ...this.holders]);
    if (this.current) {
      all.add(this.current);
      this.target.retire(this.current.epoch);
    }
    await Promise.allSettled([...all].map((r) => r.stop(this.graceMs, reason)));
    this.settled();
  }
}

function isRegionError(code: string | undefined): boolean {
  return (
    code === ErrorCode.BadMagic ||
    code === ErrorCode.VersionMismatch ||
    code === ErrorCode.CorruptRegion ||
    code === ErrorCode.SizeMismatch ||
    code === ErrorCode.RegionNotReady
  );
}
