/**
 * Hot mode: the process host. It watches the reloadable's sources (watcher.ts), rebuilds them
 * with an incremental in-memory esbuild context (builds.ts), and hands each good build to a warm
 * standby process (pool.ts) without the owner noticing:
 *
 *   save → change seen → build (~3 ms) → a warm standby imports the bundle → its main() gets its
 *   state and begins its epoch (its frames are shown from here) → ready → the old renderer is
 *   retired (its channels close) and, after the new one's first frame, stopped with its process
 *   group → a new standby warms up in the background.
 *
 * What this file decides is when and to whom a build is handed:
 *   - A newer good build replaces one still waiting to be handed over: a burst lands its last
 *     content. A save lands at once on a warm standby; during a burst of saves (events less than
 *     `burstMs` apart) the last warm standby is kept for the burst's last save, which lands
 *     `burstMs` after it. No save waits for a cold process unless saves come faster than processes
 *     can boot for longer than a burst.
 *   - A renderer that does not become ready within `startTimeoutMs` (a loop at its top level) is
 *     killed and reported; the renderer it was to replace never stopped presenting. A newer save
 *     replaces a start that is taking long.
 *   - Crashes are reported with the exit code or signal and the tail of stderr, and restarted by
 *     the restart policy (../restart.ts).
 *
 * Epochs keep frames honest: each renderer gets a writer epoch and begins it itself when it has
 * its state; framebuffers refuse presents from any other epoch. A renderer of epoch E writes only
 * its parity's pair of pixel buffers, so before a renderer of epoch E+2 starts, the one of epoch E
 * must be gone (`parityFree`).
 *
 * The region is checked while renderers come and go: before each hand-over, after a crash, and
 * once a second the owner compares its header with what it wrote and each channel's indices with
 * what they can be, repairs what was damaged, and reports it once (`repair` event).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, RendererCrashError, RendererStartError } from '../../errors.js';
import { ENV } from '../../state/runtime.js';
import { type BuildOutput, type Bundler, createBundler } from '../build/bundler.js';
import { buildLibrary, type LibraryBuild } from '../build/library.js';
import { TypedEmitter } from '../emitter.js';
import type { HostEvents, HostStats, HostTarget, RendererHost } from '../events.js';
import { reapOrphans } from '../orphans.js';
import { type RestartOptions, RestartPolicy } from '../restart.js';
import { createTempDir, type TempDir } from '../temp.js';
import { BuildLoop, type Built, changedSince } from './builds.js';
import { StandbyPool } from './pool.js';
import { type ChildExit, describeExit, RendererProcess, type Writable } from './standby.js';
import { SourceWatcher } from './watcher.js';

export interface SupervisorOptions extends RestartOptions {
  /** The owner's side of the state: region, epochs, checks. */
  readonly target: HostTarget;
  /** SIGTERM → SIGKILL grace period for a replaced renderer. Default 1000 ms. */
  readonly graceMs?: number;
  /** How long a new renderer may take to get its state before it is killed. Default 5000 ms. */
  readonly startTimeoutMs?: number;
  /** Warm standby processes kept ready (1 or more). Default 2. */
  readonly standbys?: number;
  /** Saves closer together than this are a burst; its last save lands this long after it. Default 30 ms. */
  readonly burstMs?: number;
  /** A failed build is reported once the files have been quiet this long. Default 40 ms. */
  readonly errorQuietMs?: number;
  /** How often the owner checks its region for damage. Default 1000 ms; 0 turns it off. */
  readonly inspectEveryMs?: number;
  /** Where renderers' stderr goes (it is also kept for crash reports). Default process.stderr. */
  readonly stderr?: Writable;
  /** Extra environment for renderer processes. */
  readonly env?: Record<string, string>;
  /** Watch with polling (when inotify is exhausted). Chosen automatically on ENOSPC. */
  readonly usePolling?: boolean;
}

/** A good build waiting to be handed to a standby. */
interface Candidate extends Built {
  /** Builds of earlier saves it made unnecessary. */
  superseded: number;
  /** It had to wait for a standby that was not warm. */
  cold: boolean;
}

type Outcome =
  | {
      readonly ok: true;
      readonly receivedAt: number;
      readonly importMs: number;
      readonly stateMs: number;
    }
  | {
      readonly ok: false;
      readonly why: 'failed' | 'exited' | 'timeout' | 'superseded' | 'closed';
      readonly error?: RendererStartError;
      readonly code?: string;
    };

const FRAME_POLL_MS = 1;
const FIRST_FRAME_WAIT_MS = 2000;
/** A start that has taken this long gives way to a newer save. */
const SUPERSEDE_AFTER_MS = 50;

export class Supervisor extends TypedEmitter<HostEvents> implements RendererHost {
  readonly mode = 'process' as const;
  readonly #target: HostTarget;
  readonly #opts: {
    graceMs: number;
    startTimeoutMs: number;
    standbys: number;
    burstMs: number;
    errorQuietMs: number;
    inspectEveryMs: number;
    stderr: Writable;
    env: Record<string, string>;
    usePolling: boolean;
  };
  readonly #policy: RestartPolicy;
  #temp: TempDir | undefined;
  #library: LibraryBuild | undefined;
  #bundler: Bundler | undefined;
  #watcher: SourceWatcher | undefined;
  #builds: BuildLoop | undefined;
  readonly #pool: StandbyPool;

  // Renderers handed a bundle.
  #current: RendererProcess | undefined;
  #starting: RendererProcess | undefined;
  readonly #holders = new Set<RendererProcess>();
  #lastEpoch = 0;

  // Hand-overs.
  #candidate: Candidate | undefined;
  #activating: Promise<void> | undefined;
  /** The hash of the build being handed over, while it is. */
  #activatingHash: string | undefined;
  #decideTimer: ReturnType<typeof setTimeout> | undefined;
  #lastGood: BuildOutput | undefined;
  #liveHash = '';
  #waitingForChange = false;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #inspectTimer: ReturnType<typeof setInterval> | undefined;
  #generation = 0;
  #bundleSeq = 0;
  #closed = false;
  readonly #stats = { builds: 0, reloads: 0, coldStarts: 0, superseded: 0, crashes: 0 };

  constructor(options: SupervisorOptions) {
    super();
    this.#target = options.target;
    this.#opts = {
      graceMs: options.graceMs ?? 1000,
      startTimeoutMs: options.startTimeoutMs ?? 5000,
      standbys: Math.max(1, Math.floor(options.standbys ?? 2)),
      burstMs: options.burstMs ?? 30,
      errorQuietMs: options.errorQuietMs ?? 40,
      inspectEveryMs: options.inspectEveryMs ?? 1000,
      stderr: options.stderr ?? process.stderr,
      env: options.env ?? {},
      usePolling: options.usePolling ?? false,
    };
    this.#policy = new RestartPolicy(options);
    this.#pool = new StandbyPool({
      size: this.#opts.standbys,
      spawn: () => this.#spawn(),
      backoff: (n) => this.#policy.backoff(n),
      onWarm: () => this.#decide(),
      onWarning: (message, error) => this.emit('warning', { message, ...(error ? { error } : {}) }),
      onGiveUp: () => {
        this.#candidate = undefined;
        this.#waitingForChange = true;
      },
    });
  }

  get rendererPid(): number | undefined {
    return this.#current?.alive ? this.#current.pid : undefined;
  }

  get standbyPid(): number | undefined {
    return this.#pool.all().find((p) => p.alive)?.pid;
  }

  get stats(): HostStats {
    return { ...this.#stats, builds: this.#builds?.builds ?? 0 };
  }

  /**
   * Builds the runner and the library, warms a standby, builds the entry, starts the first
   * renderer and starts watching. Resolves once the first renderer is ready, or once its build
   * failed (a hot owner waits for the fix: `build-error` said what is wrong).
   */
  async start(): Promise<void> {
    this.#temp = createTempDir();
    const reaped = reapOrphans();
    if (reaped.length > 0) {
      this.emit('warning', {
        message: `stopped ${reaped.length} process${reaped.length > 1 ? 'es' : ''} that renderers of owners that died had started (pid ${reaped.join(', ')})`,
      });
    }
    this.#library = await buildLibrary(this.#temp.path);
    this.#pool.fill();
    const bundler = await createBundler(this.#target.entry, {
      aliases: this.#library.aliases,
      outDir: this.#temp.path,
    });
    this.#bundler = bundler;
    const watcher = new SourceWatcher({
      usePolling: this.#opts.usePolling,
      onChange: (path) => {
        this.#waitingForChange = false;
        this.#policy.reset();
        this.#builds?.changed(path);
      },
      onWarning: (message) => this.emit('warning', { message }),
    });
    this.#watcher = watcher;
    this.#builds = new BuildLoop({
      bundler,
      entry: this.#target.entry,
      errorQuietMs: this.#opts.errorQuietMs,
      onStart: (reason, files) => this.emit('build-start', { reason, files }),
      isRunning: (out, reason) =>
        out.hash === (this.#candidate?.out.hash ?? this.#activatingHash ?? this.#liveHash) &&
        this.#current?.alive === true &&
        reason !== 'restart',
      onDone: (buildMs, unchanged) => this.emit('build-done', { buildMs, unchanged }),
      onBuilt: (built) => this.#offer({ ...built, superseded: 0, cold: false }),
      onError: (error) =>
        this.emit('build-error', {
          error,
          messages: error.messages,
          locations: error.locations,
          buildMs: error.buildMs,
        }),
      onInputs: (inputs) => {
        watcher.update([this.#target.entry, ...inputs]);
        this.emit('inputs', { files: [this.#target.entry, ...inputs], reloads: true });
      },
      onSuperseded: () => this.#stats.superseded++,
      onWarning: (message) => this.emit('warning', { message }),
    });
    watcher.update([this.#target.entry]);
    await watcher.start();
    if (this.#opts.inspectEveryMs > 0) {
      this.#inspectTimer = setInterval(() => this.#inspect(false), this.#opts.inspectEveryMs);
      this.#inspectTimer.unref();
    }
    this.#builds.schedule(performance.now(), [], 'start');
    await this.idle();
  }

  /** Resolves when no build, hand-over or pending candidate is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#activating;
      await new Promise((r) => setTimeout(r, 5));
      if (this.#closed) return;
      const busy =
        this.#builds?.busy === true ||
        this.#activating !== undefined ||
        (this.#candidate !== undefined && !this.#pool.gaveUp);
      if (!busy) return;
    }
  }

  reload(): void {
    // 'restart' bypasses the same-output check: this replaces a renderer stuck in a loop.
    this.#builds?.schedule(performance.now(), [], 'restart');
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#decideTimer);
    clearInterval(this.#inspectTimer);
    this.#builds?.close();
    this.#pool.close();
    await this.#watcher?.close();
    const all = new Set([...this.#pool.all(), ...this.#holders]);
    if (this.#current) all.add(this.#current);
    if (this.#starting) all.add(this.#starting);
    if (this.#current) this.#target.retire(this.#current.epoch);
    await Promise.allSettled([...all].map((p) => p.stop(this.#opts.graceMs, reason)));
    await this.#activating?.catch(() => {});
    await this.#bundler?.dispose().catch(() => {});
    this.#temp?.remove();
    this.emit('exit', { reason });
  }

  // --- handing builds to renderers -------------------------------------------------------

  #offer(c: Candidate): void {
    if (this.#candidate) {
      c.superseded = this.#candidate.superseded + 1;
      c.cold ||= this.#candidate.cold;
      this.#stats.superseded++;
    }
    this.#candidate = c;
    this.#decide();
  }

  #decide(): void {
    clearTimeout(this.#decideTimer);
    this.#decideTimer = undefined;
    const c = this.#candidate;
    if (!c || this.#closed || this.#activating) return;
    const warm = this.#pool.warm();
    const standby = warm[0];
    if (standby === undefined) {
      c.cold = true;
      this.#pool.fill(true);
      return;
    }
    const now = performance.now();
    const last = this.#builds?.lastChangeAt ?? Number.NEGATIVE_INFINITY;
    const prev = this.#builds?.prevChangeAt ?? Number.NEGATIVE_INFINITY;
    const inBurst =
      c.reason === 'change' && last - prev < this.#opts.burstMs && now - last < this.#opts.burstMs;
    if (warm.length < 2 && this.#opts.standbys > 1 && inBurst) {
      // Keep the last warm standby for the last save of the burst.
      this.#decideTimer = setTimeout(() => this.#decide(), last + this.#opts.burstMs - now);
      return;
    }
    this.#candidate = undefined;
    this.#activatingHash = c.out.hash;
    this.#activating = this.#activate(c, standby)
      .catch((e: unknown) => {
        this.emit('warning', {
          message: `reload failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        });
      })
      .finally(() => {
        this.#activating = undefined;
        this.#activatingHash = undefined;
        this.#decide();
      });
  }

  async #activate(c: Candidate, standby: RendererProcess): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#restartTimer);
    this.#pool.take(standby);
    const previous = this.#current?.alive ? this.#current : undefined;
    const epoch = (previous?.epoch ?? this.#lastEpoch) + 1;
    const resumeSpawning = this.#pool.pause();
    try {
      await this.#parityFree(epoch, standby);
      if (this.#closed) return;
      if (changedSince(c.stamps)) {
        // Saved again while this build waited: the newer save's build takes its place.
        this.#stats.superseded++;
        this.#pool.putBack(standby);
        return;
      }
      this.#inspect(false);
      const file = join(this.#temp!.path, `bundle-${++this.#bundleSeq}.mjs`);
      writeFileSync(file, c.out.code);
      standby.epoch = epoch;
      standby.build = c.out;
      this.#holders.add(standby);
      void standby.exited.then(() => this.#holders.delete(standby));
      const handedAt = performance.now();
      standby.startedAt = handedAt;
      this.#starting = standby;
      const baseFrames = this.#target.frameCount();
      standby.send({ type: 'load', bundle: file, epoch });
      const outcome = await this.#waitReady(standby);
      this.#starting = undefined;
      rmSync(file, { force: true });
      const readyAt = performance.now();

      if (!outcome.ok) {
        await standby.kill('the supervisor stopped it');
        // Give the floor back to the renderer that still runs: its presents count again.
        if (previous?.alive && this.#target.currentEpoch() !== previous.epoch) {
          this.#target.beginEpoch(previous.epoch);
        }
        this.#startFailed(c, standby, outcome, previous);
        return;
      }

      const { importMs, stateMs } = outcome;
      const deliverMs = outcome.receivedAt - (performance.timeOrigin + handedAt);
      this.#target.beginEpoch(epoch);
      this.#current = standby;
      this.#lastEpoch = epoch;
      this.#lastGood = c.out;
      this.#liveHash = c.out.hash;
      if (c.cold && c.reason !== 'start') this.#stats.coldStarts++;
      this.#stats.reloads++;
      const generation = ++this.#generation;
      // The old renderer stops taking input at once; its process goes after the new first frame.
      if (previous) this.#target.retire(previous.epoch);

      const frame = this.#firstFrame(baseFrames);
      void frame.then((frameAt) => {
        if (this.#closed || !standby.alive) return;
        this.emit('reload', {
          generation,
          epoch,
          pid: standby.pid,
          reason: c.reason,
          coldStart: c.cold && c.reason !== 'start',
          superseded: c.superseded,
          timings: {
            changeSeenAt: c.changeAt,
            changeToBuildMs: c.changeAt === null ? null : c.builtAt - c.changeAt,
            buildMs: c.out.ms,
            heldMs: handedAt - c.builtAt,
            deliverMs,
            importMs,
            stateMs,
            handoffToReadyMs: readyAt - handedAt,
            handoffToFrameMs: frameAt === null ? null : frameAt - handedAt,
            totalMs: c.changeAt === null || frameAt === null ? null : frameAt - c.changeAt,
          },
        });
      });
      if (!previous) {
        standby.send({ type: 'exclusive' });
        void frame.then(resumeSpawning);
        return;
      }
      // Stopping a process and booting the next standby both take a core: not before the new
      // renderer's first frame is out (or 100 ms, for a renderer that waits for input to draw).
      void Promise.race([frame, sleep(100)]).then(async () => {
        resumeSpawning();
        await previous.stop(this.#opts.graceMs, 'replaced by a newer renderer');
        // Once the old renderer is gone the new one is the only producer on its channels.
        standby.send({ type: 'exclusive' });
      });
    } finally {
      if (!this.#current || this.#current.epoch !== epoch) resumeSpawning();
    }
  }

  /** Waits for the standby's `ready`, its failure, its exit, the deadline, or a newer save. */
  #waitReady(standby: RendererProcess): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const t0 = performance.now();
      let settled = false;
      const finish = (o: Outcome): void => {
        if (settled) return;
        settled = true;
        off();
        clearTimeout(deadline);
        clearInterval(newer);
        resolve(o);
      };
      const off = standby.on((m) => {
        if (m.type === 'ready') {
          finish({ ok: true, receivedAt: m.receivedAt, importMs: m.importMs, stateMs: m.stateMs });
        } else if (m.type === 'failed') {
          finish({
            ok: false,
            why: 'failed',
            error: new RendererStartError(m.stage, m.message),
            ...(m.code ? { code: m.code } : {}),
          });
        }
      });
      void standby.exited.then((e) =>
        finish({
          ok: false,
          why: 'exited',
          error: new RendererStartError(
            'exit',
            `it exited while starting (${describeExit(e)})${lastError(standby.stderr)}`,
          ),
        }),
      );
      const deadline = setTimeout(
        () =>
          finish({
            ok: false,
            why: 'timeout',
            error: new RendererStartError(
              'timeout',
              `it did not get its state within ${this.#opts.startTimeoutMs} ms (is its top level or main() stuck in a loop before State.reloadable()?)`,
            ),
          }),
        this.#opts.startTimeoutMs,
      );
      const newer = setInterval(() => {
        if (this.#closed) finish({ ok: false, why: 'closed' });
        else if (this.#candidate && performance.now() - t0 > SUPERSEDE_AFTER_MS)
          finish({ ok: false, why: 'superseded' });
      }, 10);
    });
  }

  #startFailed(
    c: Candidate,
    standby: RendererProcess,
    outcome: Exclude<Outcome, { ok: true }>,
    previous: RendererProcess | undefined,
  ): void {
    if (outcome.why === 'superseded' || outcome.why === 'closed' || this.#closed) return;
    if (outcome.code === ErrorCode.LayoutMismatch) {
      const error = outcome.error ?? new RendererStartError('main', 'the layouts differ');
      this.emit('layout-change', {
        message: `the state definition changed, so the owner's region no longer fits it (${error.message}); restart the owner to use the new layout`,
        error,
      });
      this.#waitingForChange = true;
      return;
    }
    // The region itself may be what failed it (a damaged header, a corrupt ring): repair, and
    // give the same build one more go if something was repaired.
    const repaired = this.#inspect(true);
    if (repaired > 0 && isRegionError(outcome.code) && c.reason !== 'restart') {
      this.#offer({ ...c, reason: 'restart', superseded: c.superseded });
      return;
    }
    const error = outcome.error ?? new RendererStartError('exit', 'it ended before it was ready');
    this.#crashed(standby, 'start', error, standby.exit ?? { code: null, signal: null }, previous);
  }

  /** Waits until no other live renderer holds the pixel buffers of `epoch`'s parity. */
  async #parityFree(epoch: number, next: RendererProcess): Promise<void> {
    for (const holder of this.#holders) {
      if (holder === next || !holder.alive || (holder.epoch & 1) !== (epoch & 1)) continue;
      this.#target.retire(holder.epoch);
      await holder.stop(this.#opts.graceMs, 'replaced by a newer renderer');
    }
  }

  /** Polls for the first frame after the hand-over (1 ms steps, for at most 2 s). */
  #firstFrame(base: number | undefined): Promise<number | null> {
    if (base === undefined) return Promise.resolve(null);
    const deadline = performance.now() + FIRST_FRAME_WAIT_MS;
    return new Promise((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        if (this.#closed) resolve(null);
        else if (this.#target.frameCount() !== base) resolve(now);
        else if (now > deadline) resolve(null);
        else setTimeout(tick, FRAME_POLL_MS);
      };
      tick();
    });
  }

  // --- standbys ---------------------------------------------------------------------------

  #spawn(): RendererProcess {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.#opts.env,
      [ENV.region]: this.#target.regionName,
      [ENV.args]: this.#target.argsJson,
      [ENV.ownerPid]: String(process.pid),
    };
    const p = new RendererProcess(this.#library!.runner, env, this.#opts.stderr);
    void p.exited.then((e) => this.#onExit(p, e));
    return p;
  }

  #onExit(p: RendererProcess, e: ChildExit): void {
    if (this.#closed || p.stopReason) return;
    if (this.#pool.has(p)) {
      this.#pool.died(p, `${describeExit(e)}${lastError(p.stderr)}`);
      return;
    }
    if (p !== this.#current) return;
    const message = `${describeExit(e)}${lastError(p.stderr)}`;
    this.#crashed(
      p,
      'running',
      new RendererCrashError(`the renderer ${message}`, e.code, e.signal),
      e,
      undefined,
    );
  }

  #crashed(
    p: RendererProcess,
    phase: 'start' | 'running',
    error: RendererStartError | RendererCrashError,
    e: ChildExit,
    stillRunning: RendererProcess | undefined,
  ): void {
    this.#stats.crashes++;
    if (p === this.#current) this.#current = undefined;
    // A new build that fails to start leaves the old renderer running: nothing to restart.
    const needRestart = !stillRunning?.alive && !this.#closed;
    const decision = this.#policy.crashed(performance.now() - p.startedAt);
    const build = (p.build as BuildOutput | undefined) ?? this.#lastGood;
    const willRestart = needRestart && decision.willRestart && build !== undefined;
    const restartInMs = willRestart ? decision.restartInMs : null;
    if (phase === 'running') this.#inspect(true);
    this.emit('crash', {
      pid: p.pid,
      epoch: p.epoch,
      code: e.code,
      signal: e.signal,
      phase,
      error,
      // A start the supervisor ended itself is not an outside kill: say who stopped it.
      message: `${error.message}${p.stopReason ? `; ${p.stopReason}` : ''} (pid ${p.pid})`,
      stderr: p.stderr,
      willRestart,
      restartInMs,
    });
    if (willRestart && build) {
      this.#restartTimer = setTimeout(() => {
        if (this.#waitingForChange || this.#candidate || this.#closed) return;
        this.#offer({
          out: build,
          reason: 'restart',
          changeAt: null,
          builtAt: performance.now(),
          stamps: new Map(),
          superseded: 0,
          cold: false,
        });
      }, restartInMs ?? 0);
    } else if (needRestart) {
      this.#waitingForChange = true;
    }
  }

  /** Checks and repairs the region; reports what it repaired. Returns how many repairs. */
  #inspect(deep: boolean): number {
    if (this.#closed) return 0;
    const repairs = [...this.#target.inspect(deep), ...this.#target.takeRepairs()];
    if (repairs.length > 0) this.emit('repair', { repairs });
    return repairs.length;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isRegionError(code: string | undefined): boolean {
  return (
    code === ErrorCode.BadMagic ||
    code === ErrorCode.VersionMismatch ||
    code === ErrorCode.CorruptRegion ||
    code === ErrorCode.SizeMismatch ||
    code === ErrorCode.RegionNotReady
  );
}

/** The last line of stderr that names an error, as ": TypeError: …", or nothing. */
function lastError(stderr: string): string {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => /^\s*(\w*Error|Uncaught|FATAL)/.test(l));
  return line ? `: ${line.trim()}` : '';
}
