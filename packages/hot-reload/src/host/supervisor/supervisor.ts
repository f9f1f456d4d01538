/**
 * Hot mode: the process host. It watches the reloadable's sources, rebuilds them with an
 * incremental in-memory esbuild context, and swaps renderer processes without the owner noticing:
 *
 *   save → change seen → build (~3 ms) → a warm standby imports the bundle → its main() gets its
 *   state and begins its epoch (its frames are shown from here) → ready → the old renderer is
 *   retired (its channels close) and, after the new one's first frame, stopped with its process
 *   group → a new standby warms up in the background.
 *
 * What keeps every save landing, and landing once:
 *   - A build is handed over only if it is good: it built, its entry exports `main`, and the files
 *     it read are still what is on disk (stat before and after; an in-place save that was caught
 *     half-written is rebuilt, never started). A failed build is reported only once the files have
 *     been quiet for `errorQuietMs`: the empty file of a truncate-then-write never reaches anyone.
 *   - Builds coalesce: events during a build mark it dirty and exactly one more follows; a newer
 *     good build replaces one still waiting to be handed over (a burst lands its last content).
 *   - `standbys` processes are kept warm (2 by default). A save lands at once on a warm one; during
 *     a burst of saves (events less than `burstMs` apart) the last warm standby is kept for the
 *     burst's last save, which lands `burstMs` after it. No save waits for a cold process unless
 *     saves come faster than processes can boot for longer than a burst.
 *   - A renderer that does not become ready within `startTimeoutMs` (a loop at its top level) is
 *     killed and reported; the renderer it was to replace never stopped presenting. A newer save
 *     replaces a start that is taking long.
 *
 * Epochs keep frames honest: each renderer gets a writer epoch and begins it itself when it has
 * its state; framebuffers refuse presents from any other epoch. A renderer of epoch E writes only
 * its parity's pair of pixel buffers, so before a renderer of epoch E+2 starts, the one of epoch E
 * must be gone (`parityFree`).
 *
 * The region is checked while renderers come and go: before each hand-over and once a second the
 * owner compares its header with what it wrote and each channel's indices with what they can be,
 * repairs what was damaged, and reports it once (`repair` event).
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BuildError,
  ErrorCode,
  RendererCrashError,
  RendererStartError,
  SpawnError,
} from '../../errors.js';
import { ENV } from '../../state/runtime.js';
import { type BuildOutput, type Bundler, createBundler } from '../build/bundler.js';
import { buildLibrary, type LibraryBuild } from '../build/library.js';
import { TypedEmitter } from '../emitter.js';
import type { HostEvents, HostStats, HostTarget, ReloadReason, RendererHost } from '../events.js';
import { type RestartOptions, RestartPolicy } from '../restart.js';
import { createTempDir, type TempDir } from '../temp.js';
import { type ChildExit, describeExit, RendererProcess, type Writable } from './standby.js';
import { SourceWatcher, type WatchEvent } from './watcher.js';

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

interface Change {
  at: number;
  files: Set<string>;
  reason: ReloadReason;
}

type Stamp = string | null;

interface Candidate {
  readonly out: BuildOutput;
  readonly reason: ReloadReason;
  readonly changeAt: number | null;
  readonly builtAt: number;
  /** What the build read, as it was on disk when the build began. */
  readonly stamps: ReadonlyMap<string, Stamp>;
  superseded: number;
  cold: boolean;
}

type Outcome =
  | { readonly ok: true; readonly importMs: number }
  | {
      readonly ok: false;
      readonly why: 'failed' | 'exited' | 'timeout' | 'superseded' | 'closed';
      readonly error?: RendererStartError;
      readonly code?: string;
    };

const PARITY_FRAME_POLL_MS = 1;
const FIRST_FRAME_WAIT_MS = 2000;
const RECHECK_MS = 80;
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

  // Renderer processes.
  #pool: RendererProcess[] = [];
  #spawning = false;
  #spawnFailures = 0;
  #spawnTimer: ReturnType<typeof setTimeout> | undefined;
  #spawnPaused = 0;
  #current: RendererProcess | undefined;
  #starting: RendererProcess | undefined;
  readonly #holders = new Set<RendererProcess>();
  #lastEpoch = 0;

  // Builds.
  #building = false;
  #pending: Change | undefined;
  #lastChangeAt = Number.NEGATIVE_INFINITY;
  #prevChangeAt = Number.NEGATIVE_INFINITY;
  #lastBuildFailed = false;
  #errorTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #recheck = new Map<string, Stamp | undefined>();
  #recheckTimer: ReturnType<typeof setTimeout> | undefined;
  #inputs: readonly string[] = [];

  // Hand-overs.
  #candidate: Candidate | undefined;
  #activating: Promise<void> | undefined;
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
  }

  get rendererPid(): number | undefined {
    return this.#current?.alive ? this.#current.pid : undefined;
  }

  get standbyPid(): number | undefined {
    return this.#pool.find((p) => p.alive)?.pid;
  }

  get stats(): HostStats {
    return { ...this.#stats };
  }

  /**
   * Builds the runner and the library, warms a standby, builds the entry, starts the first
   * renderer and starts watching. Resolves once the first renderer is ready, or once its build
   * failed (a hot owner waits for the fix: `build-error` said what is wrong).
   */
  async start(): Promise<void> {
    this.#temp = createTempDir();
    this.#library = await buildLibrary(this.#temp.path);
    this.#ensureStandby();
    this.#bundler = await createBundler(this.#target.entry, {
      aliases: this.#library.aliases,
      outDir: this.#temp.path,
    });
    this.#watcher = new SourceWatcher({
      usePolling: this.#opts.usePolling,
      onChange: (path, event) => this.#onFileEvent(path, event),
      onWarning: (message) => this.emit('warning', { message }),
    });
    this.#watcher.update([this.#target.entry]);
    await this.#watcher.start();
    if (this.#opts.inspectEveryMs > 0) {
      this.#inspectTimer = setInterval(() => this.#inspect(false), this.#opts.inspectEveryMs);
      this.#inspectTimer.unref();
    }
    this.#schedule({ at: performance.now(), files: new Set(), reason: 'start' });
    await this.idle();
  }

  /** Resolves when no build, hand-over or pending candidate is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#activating;
      await new Promise((r) => setTimeout(r, 5));
      if (this.#closed) return;
      const busy =
        this.#building ||
        this.#pending !== undefined ||
        this.#activating !== undefined ||
        (this.#candidate !== undefined && this.#spawnFailures <= 8);
      if (!busy) return;
    }
  }

  reload(): void {
    // 'restart' bypasses the same-output check: this replaces a renderer stuck in a loop.
    this.#schedule({ at: performance.now(), files: new Set(), reason: 'restart' });
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [this.#restartTimer, this.#recheckTimer, this.#errorTimer, this.#decideTimer])
      clearTimeout(t);
    clearTimeout(this.#spawnTimer);
    clearInterval(this.#inspectTimer);
    await this.#watcher?.close();
    const all = new Set([...this.#pool, ...this.#holders]);
    if (this.#current) all.add(this.#current);
    if (this.#starting) all.add(this.#starting);
    if (this.#current) this.#target.retire(this.#current.epoch);
    await Promise.allSettled([...all].map((p) => p.stop(this.#opts.graceMs, reason)));
    await this.#activating?.catch(() => {});
    await this.#bundler?.dispose().catch(() => {});
    this.#temp?.remove();
    this.emit('exit', { reason });
  }

  // --- watching and building -------------------------------------------------------------

  #onFileEvent(path: string, _event: WatchEvent): void {
    const now = performance.now();
    this.#prevChangeAt = this.#lastChangeAt;
    this.#lastChangeAt = now;
    this.#waitingForChange = false;
    this.#policy.reset();
    this.#schedule({ at: now, files: new Set([path]), reason: 'change' });
    this.#recheckLater(path);
  }

  /**
   * chokidar drops a second 'change' of the same file within 50 ms of the first (editors that
   * write twice, tools that touch then write). So each event is followed by one look at the file
   * 80 ms later: if it is not as the last build that read it found it, build again. The first
   * build is never delayed, and a save seen once costs one build, not two.
   */
  #recheckLater(path: string): void {
    // undefined until a build reads the file: a file no build has read yet has one coming.
    if (!this.#recheck.has(path)) this.#recheck.set(path, undefined);
    if (this.#recheckTimer) return;
    this.#recheckTimer = setTimeout(() => {
      this.#recheckTimer = undefined;
      const changed = [...this.#recheck].filter(
        ([p, built]) => built !== undefined && stamp(p) !== built,
      );
      this.#recheck.clear();
      if (changed.length > 0 && !this.#closed) {
        const files = new Set(changed.map(([p]) => p));
        this.#schedule({ at: performance.now(), files, reason: 'change' });
      }
    }, RECHECK_MS);
    this.#recheckTimer.unref();
  }

  #schedule(change: Change): void {
    if (this.#closed) return;
    if (this.#pending) {
      for (const f of change.files) this.#pending.files.add(f);
      this.#pending.at = change.at;
      if (change.reason !== 'start') this.#pending.reason = change.reason;
    } else {
      this.#pending = change;
    }
    // A pending error report is dropped: a newer save is on its way.
    clearTimeout(this.#errorTimer);
    // Events of one save usually arrive in the same tick or the next: one setImmediate gathers
    // them without a timer; anything later marks the running build dirty (see #runBuilds).
    if (!this.#building) setImmediate(() => void this.#runBuilds());
  }

  async #runBuilds(): Promise<void> {
    const bundler = this.#bundler;
    if (this.#building || !bundler) return;
    this.#building = true;
    try {
      while (this.#pending && !this.#closed) {
        const change = this.#pending;
        this.#pending = undefined;
        this.emit('build-start', { reason: change.reason, files: [...change.files] });
        // Stamped before esbuild reads anything: a write after this changes the stamp.
        const stamps = new Map<string, Stamp>();
        for (const f of new Set([this.#target.entry, ...this.#inputs, ...change.files]))
          stamps.set(f, stamp(f));
        if (this.#lastBuildFailed) bundler.invalidate();
        let out: BuildOutput;
        try {
          out = await bundler.build();
        } catch (e) {
          if (!(e instanceof BuildError)) throw e;
          this.#lastBuildFailed = true;
          if (this.#pending || changedSince(stamps)) continue;
          this.#reportErrorSoon(e);
          continue;
        } finally {
          for (const f of change.files) {
            if (this.#recheck.has(f)) this.#recheck.set(f, stamps.get(f) ?? null);
          }
        }
        this.#lastBuildFailed = false;
        this.#inputs = out.inputs;
        this.#watcher?.update([this.#target.entry, ...out.inputs]);
        // A file changed while esbuild read it (an in-place save caught half-written): what it
        // built may be neither version. The change's own event is already pending, or this is.
        if (this.#pending || changedSince(stamps)) {
          this.#stats.superseded++;
          this.#pending ??= { at: change.at, files: change.files, reason: change.reason };
          continue;
        }
        if (!out.exports.includes('main')) {
          this.#reportErrorSoon(
            new BuildError(this.#target.entry, [
              {
                text: `the entry exports no main(): expected \`export async function main() { … }\`, got exports [${out.exports.join(', ')}]`,
                location: this.#target.entry,
              },
            ]),
          );
          continue;
        }
        this.#stats.builds++;
        const builtAt = performance.now();
        const running = this.#candidate?.out.hash ?? this.#liveHash;
        const unchanged =
          out.hash === running && this.#current?.alive === true && change.reason !== 'restart';
        this.emit('build-done', { buildMs: out.ms, unchanged });
        if (unchanged) continue;
        this.#offer({
          out,
          reason: change.reason,
          changeAt: change.reason === 'restart' ? null : change.at,
          builtAt,
          stamps,
          superseded: 0,
          cold: false,
        });
      }
    } catch (e) {
      this.emit('warning', {
        message: `the build loop failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      });
    } finally {
      this.#building = false;
    }
  }

  /** Reports a failed build once the files have been quiet for a moment (see the module comment). */
  #reportErrorSoon(error: BuildError): void {
    clearTimeout(this.#errorTimer);
    this.#errorTimer = setTimeout(() => {
      if (this.#closed || this.#pending || this.#building) return;
      this.emit('build-error', {
        error,
        messages: error.messages,
        locations: error.locations,
        buildMs: error.buildMs,
      });
    }, this.#opts.errorQuietMs);
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
    const warm = this.#pool.filter((p) => p.isWarm && p.alive);
    const standby = warm[0];
    if (standby === undefined) {
      c.cold = true;
      this.#ensureStandby();
      return;
    }
    const now = performance.now();
    const inBurst =
      c.reason === 'change' &&
      this.#lastChangeAt - this.#prevChangeAt < this.#opts.burstMs &&
      now - this.#lastChangeAt < this.#opts.burstMs;
    if (warm.length < 2 && this.#opts.standbys > 1 && inBurst) {
      // Keep the last warm standby for the last save of the burst.
      this.#decideTimer = setTimeout(
        () => this.#decide(),
        this.#lastChangeAt + this.#opts.burstMs - now,
      );
      return;
    }
    this.#candidate = undefined;
    this.#activating = this.#activate(c, standby)
      .catch((e: unknown) => {
        this.emit('warning', {
          message: `reload failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
        });
      })
      .finally(() => {
        this.#activating = undefined;
        this.#decide();
      });
  }

  async #activate(c: Candidate, standby: RendererProcess): Promise<void> {
    if (this.#closed) return;
    clearTimeout(this.#restartTimer);
    this.#pool = this.#pool.filter((p) => p !== standby);
    const previous = this.#current?.alive ? this.#current : undefined;
    const epoch = (previous?.epoch ?? this.#lastEpoch) + 1;
    this.#spawnPaused++;
    let resumed = false;
    const resumeSpawning = (): void => {
      if (resumed) return;
      resumed = true;
      this.#spawnPaused--;
      this.#ensureStandby();
    };
    try {
      await this.#parityFree(epoch, standby);
      if (this.#closed) return;
      if (changedSince(c.stamps)) {
        // Saved again while this build waited: the newer save's build takes its place.
        this.#stats.superseded++;
        this.#pool.unshift(standby);
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

      const importMs = outcome.importMs;
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
            importMs,
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
        if (m.type === 'ready') finish({ ok: true, importMs: m.importMs });
        else if (m.type === 'failed') {
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
        else setTimeout(tick, PARITY_FRAME_POLL_MS);
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

  /** Starts one standby if fewer than `standbys` are warm or warming (one boot at a time). */
  #ensureStandby(): void {
    if (this.#closed || this.#spawning || !this.#library || this.#spawnTimer) return;
    this.#pool = this.#pool.filter((p) => p.alive);
    const wanted = this.#candidate && this.#pool.length === 0;
    if (this.#pool.length >= this.#opts.standbys) return;
    // While a hand-over is in flight a boot would take a core from it, unless nothing is warm.
    if (this.#spawnPaused > 0 && !wanted) return;
    let p: RendererProcess;
    try {
      p = this.#spawn();
    } catch (e) {
      this.#spawnFailed(e);
      return;
    }
    this.#pool.push(p);
    this.#spawning = true;
    p.warm.then(
      () => {
        this.#spawning = false;
        this.#spawnFailures = 0;
        this.#decide();
        this.#ensureStandby();
      },
      (e: unknown) => {
        this.#spawning = false;
        this.#pool = this.#pool.filter((q) => q !== p);
        if (!p.stopReason) this.#spawnFailed(e);
      },
    );
  }

  #spawnFailed(e: unknown): void {
    this.#spawnFailures++;
    const retryMs = this.#policy.backoff(this.#spawnFailures);
    const giveUp = this.#spawnFailures > 8;
    this.emit('warning', {
      message: `${e instanceof Error ? e.message : String(e)}; ${giveUp ? 'giving up until the next change' : `trying again in ${retryMs} ms`}`,
      ...(e instanceof SpawnError ? { error: e } : {}),
    });
    if (giveUp || this.#closed) {
      this.#candidate = undefined;
      this.#waitingForChange = true;
      return;
    }
    this.#spawnTimer = setTimeout(() => {
      this.#spawnTimer = undefined;
      this.#ensureStandby();
    }, retryMs);
  }

  #onExit(p: RendererProcess, e: ChildExit): void {
    if (this.#closed || p.stopReason) return;
    if (this.#pool.includes(p)) {
      this.#pool = this.#pool.filter((q) => q !== p);
      if (p.isWarm) {
        this.emit('warning', {
          message: `a standby process died (${describeExit(e)})${lastError(p.stderr)}; starting another`,
        });
        this.#ensureStandby();
      }
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

/** A file's identity and content state: a change of any means a different file. */
function stamp(path: string): Stamp {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return null;
  }
}

function changedSince(stamps: ReadonlyMap<string, Stamp>): boolean {
  for (const [path, before] of stamps) if (stamp(path) !== before) return true;
  return false;
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

/** The last line of stderr that names an error, as ": TypeError: …", or nothing. */
function lastError(stderr: string): string {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => /^\s*(\w*Error|Uncaught|FATAL)/.test(l));
  return line ? `: ${line.trim()}` : '';
}
