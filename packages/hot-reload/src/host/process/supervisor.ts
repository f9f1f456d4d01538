/**
 * Hot mode: the process host. What it adds to the shared hand-over (../host.ts) is where builds
 * come from and where renderers come from:
 *
 *   save ─▶ watcher.ts ─▶ builds.ts (stamped, coalesced) ─▶ #offer ─▶ #decide ─▶ handOver(standby)
 *                                                                       ▲
 *                                    pool.ts: warm standby processes ───┘ (a new one boots after)
 *
 * What this file decides is when and to whom a build is handed:
 *   - A newer good build replaces one still waiting to be handed over: a burst lands its last
 *     content. A save lands at once on a warm standby; during a burst of saves (events less than
 *     `burstMs` apart) the last warm standby is kept for the burst's last save, which lands
 *     `burstMs` after it. No save waits for a cold process unless saves come faster than processes
 *     can boot for longer than a burst.
 *   - A start that has taken longer than SUPERSEDE_AFTER_MS gives way to a newer save.
 *   - After three quick crashes in a row it waits for the next change.
 */
import { SpawnError } from '../../errors.js';
import { ENV } from '../../state/runtime.js';
import { buildLibrary, type LibraryBuild } from '../build/library.js';
import { createProgramBuilder, type ProgramBuilder } from '../build/program.js';
import type { OutputSink, ProcessHost, ProcessHostStats } from '../events.js';
import { type Build, HostBase, type HostBaseOptions, type Job } from '../host.js';
import { Renderer, type RendererTransport } from '../lifecycle.js';
import { reapOrphans } from '../orphans.js';
import { createTempDir, type TempDir } from '../temp.js';
import { type Builder, BuildLoop, type BuildOutput, type Built, changedSince } from './builds.js';
import { StandbyPool } from './pool.js';
import { ProcessTransport } from './transport.js';
import { SourceWatcher, type SourceWatcherOptions } from './watcher.js';

/** What the supervisor is made of: real ones by default, fakes in its unit tests. */
export interface SupervisorParts {
  tempDir(): TempDir;
  /** Stops what renderers of dead owners left (returns their pids). */
  reap(): number[];
  /** The runner renderer processes start, and the library specifiers a build maps to URLs. */
  library(dir: string): Promise<Pick<LibraryBuild, 'runner' | 'aliases'>>;
  builder(
    entry: string,
    aliases: Readonly<Record<string, string>>,
    outDir: string,
  ): Promise<Builder>;
  transport(runner: string, env: NodeJS.ProcessEnv, stderr: OutputSink): RendererTransport;
  watcher(options: SourceWatcherOptions): Pick<SourceWatcher, 'update' | 'start' | 'close'>;
}

const realParts: SupervisorParts = {
  tempDir: createTempDir,
  reap: reapOrphans,
  library: buildLibrary,
  builder: async (entry, aliases) => programBuilder(createProgramBuilder(entry, { aliases })),
  transport: (runner, env, stderr) => new ProcessTransport({ runner, env, stderr }),
  watcher: (options) => new SourceWatcher(options),
};

export interface SupervisorOptions extends HostBaseOptions {
  /** Warm standby processes kept ready (1 or more). Default 2. */
  readonly standbys?: number;
  /** Saves closer together than this are a burst; its last save lands this long after it. Default 30 ms. */
  readonly burstMs?: number;
  /** A failed build is reported once the files have been quiet this long. Default 40 ms. */
  readonly errorQuietMs?: number;
  /** Where renderers' stderr goes (it is also kept for crash reports). Default process.stderr. */
  readonly stderr?: OutputSink;
  /** Extra environment for renderer processes. */
  readonly env?: Record<string, string>;
  /** Watch with polling (when inotify is exhausted). Chosen automatically on ENOSPC. */
  readonly usePolling?: boolean;
  /** Its parts (unit tests pass fakes). */
  readonly parts?: Partial<SupervisorParts>;
}

/** A start that has taken this long gives way to a newer save. */
const SUPERSEDE_AFTER_MS = 50;

interface Candidate extends Job {
  readonly stamps: Built['stamps'];
}

export class Supervisor extends HostBase implements ProcessHost {
  readonly mode = 'process' as const;
  readonly #standbys: number;
  readonly #burstMs: number;
  readonly #errorQuietMs: number;
  readonly #stderr: OutputSink;
  readonly #env: Record<string, string>;
  readonly #usePolling: boolean;
  readonly #pool: StandbyPool;
  #temp: TempDir | undefined;
  readonly #parts: SupervisorParts;
  #library: Pick<LibraryBuild, 'runner' | 'aliases'> | undefined;
  #builder: Builder | undefined;
  #watcher: Pick<SourceWatcher, 'update' | 'start' | 'close'> | undefined;
  #builds: BuildLoop | undefined;
  #candidate: Candidate | undefined;
  /** The hand-over in flight, and the standby it went to. */
  #activating: Promise<void> | undefined;
  #handing: { renderer: Renderer; at: number; hash: string } | undefined;
  #decideTimer: unknown;
  #supersedeTimer: unknown;
  #liveHash = '';
  /** The externals standbys were last told to load. */
  #preloaded = '';
  #waitingForChange = false;
  /** The first hand-over (or the first failed build) ends start(). */
  #started: (() => void) | undefined;

  constructor(options: SupervisorOptions) {
    super(options);
    this.#standbys = Math.max(1, Math.floor(options.standbys ?? 2));
    this.#burstMs = options.burstMs ?? 30;
    this.#errorQuietMs = options.errorQuietMs ?? 40;
    this.#stderr = options.stderr ?? process.stderr;
    this.#env = options.env ?? {};
    this.#usePolling = options.usePolling ?? false;
    this.#parts = { ...realParts, ...options.parts };
    this.#pool = new StandbyPool({
      size: this.#standbys,
      spawn: () => this.#spawn(),
      backoff: (n) => this.policy.backoff(n),
      clock: this.clock,
      onWarm: () => this.#decide(),
      onWarning: (message, error) => this.emit('warning', { message, ...(error ? { error } : {}) }),
      onGiveUp: () => {
        this.#candidate = undefined;
        this.#waitingForChange = true;
        this.#started?.();
        this.settled();
      },
    });
  }

  get standbyPid(): number | undefined {
    return this.#pool.all().find((p) => p.alive)?.pid;
  }

  get stats(): ProcessHostStats {
    const { builds: _builds, ...rest } = this.counts;
    return { ...rest, builds: this.#builds?.builds ?? 0 };
  }

  protected get busy(): boolean {
    return (
      this.#builds?.busy === true ||
      this.#activating !== undefined ||
      (this.#candidate !== undefined && !this.#pool.gaveUp)
    );
  }

  protected programDir(): string {
    if (!this.#temp) throw new SpawnError('the supervisor has not started');
    return this.#temp.path;
  }

  /**
   * Builds the runner and the library, warms a standby, builds the entry, starts the first
   * renderer and starts watching. Resolves once the first renderer is ready, or once its build
   * failed (a hot owner waits for the fix: `build-error` said what is wrong).
   */
  async start(): Promise<void> {
    this.#temp = this.#parts.tempDir();
    const reaped = this.#parts.reap();
    if (reaped.length > 0) {
      this.emit('warning', {
        message: `stopped ${reaped.length} process${reaped.length > 1 ? 'es' : ''} that renderers of owners that died had started (pid ${reaped.join(', ')})`,
      });
    }
    this.#library = await this.#parts.library(this.#temp.path);
    this.#pool.fill();
    this.#builder = await this.#parts.builder(
      this.target.entry,
      this.#library.aliases,
      this.#temp.path,
    );
    const watcher = this.#parts.watcher({
      usePolling: this.#usePolling,
      onChange: (path) => {
        this.#waitingForChange = false;
        this.policy.reset();
        this.#builds?.changed(path);
      },
      onWarning: (message) => this.emit('warning', { message }),
    });
    this.#watcher = watcher;
    const builds = new BuildLoop({
      builder: this.#builder,
      entry: this.target.entry,
      errorQuietMs: this.#errorQuietMs,
      clock: this.clock,
    });
    this.#builds = builds;
    builds.on('building', (e) => this.emit('build-start', e));
    builds.on('built', (b) => this.#built(b));
    builds.on('failed', (error) => {
      this.emit('build-error', {
        error,
        messages: error.messages,
        locations: error.locations,
        buildMs: error.buildMs,
      });
      this.#started?.();
      this.settled();
    });
    builds.on('warning', (message) => this.emit('warning', { message }));
    watcher.update([this.target.entry]);
    await watcher.start();
    this.startInspecting();
    const started = new Promise<void>((resolve) => {
      this.#started = () => {
        this.#started = undefined;
        resolve();
      };
    });
    builds.schedule(this.clock.now(), [], 'start');
    await started;
  }

  reload(): void {
    // 'restart' bypasses the same-output check: this replaces a renderer stuck in a loop.
    this.#builds?.schedule(this.clock.now(), [], 'restart');
  }

  /**
   * Runs the live build with new arguments (a window resize): a renderer computes its state's
   * layout for them and, when it differs, the region migrates. Resolves when it is live.
   */
  async resize(args: string): Promise<boolean> {
    const build = this.lastGood;
    if (this.closed) return false;
    if (!build) return this.resizeWithoutRenderer(args);
    return new Promise<boolean>((resolve) => {
      this.#offer({
        build,
        reason: 'resize',
        changeAt: null,
        builtAt: this.clock.now(),
        superseded: 0,
        cold: false,
        args,
        stamps: new Map(),
        done: resolve,
      });
    });
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.closed) return;
    this.clock.clearTimeout(this.#decideTimer);
    this.clock.clearTimeout(this.#supersedeTimer);
    this.#candidate?.done?.(false);
    this.#candidate = undefined;
    this.#builds?.close();
    this.#pool.close();
    const closing = this.stopAll(this.#pool.all(), reason);
    await this.#watcher?.close();
    await closing;
    await this.#activating?.catch(() => {});
    await this.#builder?.dispose().catch(() => {});
    this.#temp?.remove();
    this.#started?.();
    this.emit('exit', { reason });
  }

  // --- builds into hand-overs ----------------------------------------------------------------

  #built(b: Built): void {
    this.counts.superseded += b.discarded;
    // The program already runs, or is on its way in: a hand-over of it in progress (a restart
    // after a crash, whose old renderer is gone) would only be cancelled for the same code.
    const running =
      b.out.hash === (this.#candidate?.build.hash ?? this.#handing?.hash ?? this.#liveHash) &&
      (this.current?.alive === true || this.#handing !== undefined) &&
      b.reason !== 'restart';
    this.emit('build-done', { buildMs: b.out.ms, unchanged: running });
    this.#watcher?.update([this.target.entry, ...b.out.inputs]);
    this.emit('inputs', { files: [this.target.entry, ...b.out.inputs], reloads: true });
    // Standbys load the packages a build imports while they wait: a reload then costs what the
    // edit costs, not what its dependencies cost.
    if (b.out.externals.join('\n') !== this.#preloaded) {
      this.#preloaded = b.out.externals.join('\n');
      for (const standby of this.#pool.all()) standby.preload(b.out.externals);
    }
    if (running) {
      this.settled();
      return;
    }
    this.#offer({
      build: toBuild(b.out),
      reason: b.reason,
      changeAt: b.changeAt,
      builtAt: b.builtAt,
      superseded: 0,
      cold: false,
      stamps: b.stamps,
    });
  }

  #offer(c: Candidate): void {
    const replaced = this.#candidate;
    if (replaced) {
      c.superseded = replaced.superseded + 1;
      c.cold ||= replaced.cold;
      this.counts.superseded++;
      replaced.done?.(false);
    }
    this.#candidate = c;
    this.#decide();
  }

  #decide(): void {
    this.clock.clearTimeout(this.#decideTimer);
    this.#decideTimer = undefined;
    const c = this.#candidate;
    if (!c || this.closed) return;
    if (this.#activating) {
      this.#supersedeSlowStart();
      return;
    }
    const warm = this.#pool.warm();
    const standby = warm[0];
    if (standby === undefined) {
      c.cold = true;
      this.#pool.fill(true);
      return;
    }
    const now = this.clock.now();
    const last = this.#builds?.lastChangeAt ?? Number.NEGATIVE_INFINITY;
    const prev = this.#builds?.prevChangeAt ?? Number.NEGATIVE_INFINITY;
    const inBurst =
      c.reason === 'change' && last - prev < this.#burstMs && now - last < this.#burstMs;
    if (warm.length < 2 && this.#standbys > 1 && inBurst) {
      // Keep the last warm standby for the last save of the burst.
      this.#decideTimer = this.clock.setTimeout(() => this.#decide(), last + this.#burstMs - now);
      return;
    }
    this.#candidate = undefined;
    if (changedSince(c.stamps)) {
      // Saved again since it was built: the newer save's build takes its place.
      this.counts.superseded++;
      c.done?.(false);
      this.settled();
      return;
    }
    this.#activating = this.#activate(c, standby).finally(() => {
      this.#activating = undefined;
      this.#handing = undefined;
      this.#decide();
      this.settled();
    });
  }

  async #activate(c: Candidate, standby: Renderer): Promise<void> {
    this.cancelRestart();
    this.#pool.take(standby);
    const resumeSpawning = this.#pool.pause();
    this.#handing = { renderer: standby, at: this.clock.now(), hash: c.build.hash };
    let live = false;
    try {
      live = await this.handOver(standby, c);
      if (live) this.#liveHash = c.build.hash;
    } catch (e) {
      this.emit('warning', {
        message: `reload failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      });
    } finally {
      c.done?.(live);
      this.#started?.();
      // The next standby boots once the new renderer's first frame is out (or it failed).
      if (live) void standby.firstFrame.then(resumeSpawning);
      else resumeSpawning();
    }
  }

  /** A newer save is waiting: a start that has taken long gives way to it. */
  #supersedeSlowStart(): void {
    const handing = this.#handing;
    if (handing === undefined || handing.renderer.phase !== 'loading') return;
    const waited = this.clock.now() - handing.at;
    if (waited >= SUPERSEDE_AFTER_MS) {
      handing.renderer.cancel('replaced by a newer save while it was starting');
      return;
    }
    this.clock.clearTimeout(this.#supersedeTimer);
    this.#supersedeTimer = this.clock.setTimeout(
      () => this.#supersedeSlowStart(),
      SUPERSEDE_AFTER_MS - waited,
    );
  }

  protected retry(job: Job): void {
    this.#offer({ ...job, stamps: new Map() });
  }

  protected restartLater(build: Build): void {
    if (this.#waitingForChange || this.#candidate || this.closed) return;
    this.#offer({
      build,
      reason: 'restart',
      changeAt: null,
      builtAt: this.clock.now(),
      superseded: 0,
      cold: false,
      stamps: new Map(),
    });
  }

  protected restartsStopped(): void {
    this.#waitingForChange = true;
  }

  // --- standbys ------------------------------------------------------------------------------

  #spawn(): Renderer {
    if (!this.#library) throw new SpawnError('the renderer runner has not been built');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.#env,
      [ENV.region]: this.target.regionName,
      [ENV.args]: this.target.argsJson,
      [ENV.ownerPid]: String(process.pid),
    };
    const transport = this.#parts.transport(this.#library.runner, env, this.#stderr);
    const renderer = new Renderer(transport, this.clock);
    void renderer.exited.then((e) => {
      if (this.#pool.has(renderer)) {
        if (!this.closed && renderer.stopReason === undefined) {
          this.#pool.died(renderer, describe(e));
        } else {
          this.#pool.take(renderer);
        }
        return;
      }
      this.rendererExited(renderer, e);
    });
    if (this.#builds && this.lastGood) renderer.preload(this.lastGood.externals);
    return renderer;
  }
}

function describe(e: { code: number | null; signal: string | null }): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** The program builder as a builder of the build loop: the program travels as one JSON file. */
export function programBuilder(builder: ProgramBuilder): Builder {
  return {
    async build(changed): Promise<BuildOutput> {
      const program = await builder.build(changed.length > 0 ? changed : undefined);
      return {
        contents: JSON.stringify(program),
        ext: '.json',
        hash: program.hash,
        inputs: program.inputs,
        exports: program.exports,
        externals: program.externals,
        ms: program.ms,
      };
    },
    invalidate: () => builder.invalidate(),
    dispose: () => builder.dispose(),
  };
}

function toBuild(out: BuildOutput): Build {
  return {
    contents: out.contents,
    ext: out.ext,
    hash: out.hash,
    externals: out.externals,
    ms: out.ms,
  };
}
