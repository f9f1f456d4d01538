/**
 * Hot mode. Watches the reloadable's sources (exactly the files its last bundle was made of, so
 * the workspace packages it imports are covered), rebuilds them with an incremental in-memory
 * esbuild context, and swaps renderers without the owner noticing:
 *
 *   change seen → build (ms) → the warm standby imports the bundle → ready → old renderer stopped
 *   → a new standby starts in the background.
 *
 * Epochs keep frames honest: each renderer gets a writer epoch, the region's current epoch is set
 * before the new renderer starts, and framebuffers ignore presents from any other epoch. A renderer
 * of epoch E writes only its parity's pair of pixel buffers, so before a renderer of epoch E+2
 * starts, the one of epoch E must be gone: `parityFree` waits for that.
 *
 * Bursts of file events coalesce without a fixed debounce: events that arrive while a build runs
 * mark it dirty and exactly one more build follows. A failed build leaves the running renderer
 * alone. Crashes are reported with the exit code or signal and the tail of stderr, and restarted
 * with a back-off; after `maxQuickCrashes` crashes in a row, the supervisor waits for the next
 * change instead of spinning.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FSWatcher } from 'chokidar';
import { ErrorCode } from '../errors.js';
import { isProcessAlive } from '../memory/stale.js';
import { ENV } from '../state/runtime.js';
import { BuildFailure, type BuildOutput, type Bundler, createBundler } from './bundler.js';
import { type ChildExit, describeExit, RendererProcess } from './child.js';
import { buildRunner } from './runner-build.js';

export interface ReloadTimings {
  /** performance.now() (owner's clock) when the first change of the burst was seen. */
  readonly changeSeenAt: number | null;
  /** Change seen → bundle built (includes coalescing). */
  readonly changeToBuildMs: number | null;
  readonly buildMs: number;
  /** Bundle handed to the standby → its main() started. */
  readonly handoffToReadyMs: number;
  /** Handed over → first frame of the new epoch presented in shared memory (null: none yet). */
  readonly handoffToFrameMs: number | null;
  /** Change seen → first new frame presented (null when either is unknown). */
  readonly totalMs: number | null;
}

export interface SupervisorEvents {
  'build-start': [
    { readonly reason: 'start' | 'change' | 'restart'; readonly files: readonly string[] },
  ];
  /** A build succeeded; `unchanged`: its output is what already runs, so nothing reloads. */
  'build-done': [{ readonly buildMs: number; readonly unchanged: boolean }];
  'build-error': [
    {
      readonly messages: readonly string[];
      readonly locations: readonly string[];
      readonly buildMs: number;
    },
  ];
  reload: [
    {
      readonly generation: number;
      readonly epoch: number;
      readonly pid: number;
      readonly reason: 'start' | 'change' | 'restart';
      readonly timings: ReloadTimings;
    },
  ];
  crash: [
    {
      readonly pid: number;
      readonly epoch: number;
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      readonly phase: 'start' | 'running';
      readonly message: string;
      readonly stderr: string;
      readonly willRestart: boolean;
      readonly restartInMs: number | null;
    },
  ];
  'layout-change': [{ readonly message: string }];
  warning: [{ readonly message: string }];
  exit: [{ readonly reason: string }];
}

export interface SupervisorOptions {
  /** Absolute path of the reloadable's entry module (it exports `main()`). */
  readonly entry: string;
  readonly regionName: string;
  readonly argsJson: string;
  /** Publishes the writer epoch in the region (before a renderer of that epoch starts). */
  readonly setEpoch: (epoch: number) => void;
  /**
   * Frames presented so far, if the state has a framebuffer: once the epoch is begun only the new
   * renderer can present, so the first change after a hand-off is its first frame.
   */
  readonly frameCount?: () => number;
  /** SIGTERM → SIGKILL grace period. Default 1000 ms. */
  readonly graceMs?: number;
  /** Crashes in a row, each within `quickCrashMs` of its start, before waiting for a change. */
  readonly maxQuickCrashes?: number;
  readonly quickCrashMs?: number;
  /** Where renderers' stderr goes (it is also kept for crash reports). Default process.stderr. */
  readonly stderr?: NodeJS.WritableStream;
  /** Extra environment for renderer processes. */
  readonly env?: Record<string, string>;
  /** Watch with polling (when inotify is exhausted). Chosen automatically on ENOSPC. */
  readonly usePolling?: boolean;
}

type Reason = 'start' | 'change' | 'restart';

export class Supervisor extends EventEmitter<SupervisorEvents> {
  private readonly opts: Required<Omit<SupervisorOptions, 'frameCount' | 'env' | 'usePolling'>> &
    SupervisorOptions;
  private readonly dir: string;
  private runnerPath = '';
  private bundler: Bundler | undefined;
  private watcher: FSWatcher | undefined;
  private watch: typeof import('chokidar').watch | undefined;
  private watched = new Set<string>();
  private spare: RendererProcess | undefined;
  private current: RendererProcess | undefined;
  private lastGood: BuildOutput | undefined;
  private building = false;
  private pending: { at: number; files: string[]; reason: Reason } | undefined;
  private activation: Promise<void> = Promise.resolve();
  private generation = 0;
  private bundleSeq = 0;
  private quickCrashes = 0;
  private waitingForChange = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly parityHolder: [RendererProcess | undefined, RendererProcess | undefined] = [
    undefined,
    undefined,
  ];
  private closed = false;
  private readonly recheck = new Set<string>();
  private recheckTimer: NodeJS.Timeout | undefined;
  /** The mtime of each changed file as it was when the build that read it began. */
  private readonly builtMtimes = new Map<string, number | undefined>();
  private queuedHash = '';
  private spawnFailures = 0;

  constructor(options: SupervisorOptions) {
    super();
    this.opts = {
      graceMs: 1000,
      maxQuickCrashes: 3,
      quickCrashMs: 3000,
      stderr: process.stderr,
      ...options,
    };
    // Named after the owner's pid so that the next owner can remove what a killed one left.
    removeStaleTempDirs();
    this.dir = mkdtempSync(join(tmpdir(), `hotshm-${process.pid}-`));
  }

  /** Builds, starts the first renderer, and starts watching. Resolves once the first one is ready (or failed). */
  async start(): Promise<void> {
    this.runnerPath = await buildRunner(this.dir);
    this.spare = this.spawn();
    const library = (await import('../index.js')) as Record<string, unknown>;
    this.bundler = await createBundler(this.opts.entry, {
      sharedLibraryExports: Object.keys(library).filter((k) => /^[A-Za-z_$][\w$]*$/.test(k)),
    });
    // Loaded here, not at import: renderers import this library too and never watch anything.
    this.watch = (await import('chokidar')).watch;
    this.startWatcher();
    this.schedule({ at: performance.now(), files: [this.opts.entry], reason: 'start' });
    await this.idle();
  }

  /** Resolves when no build or activation is in flight. */
  async idle(): Promise<void> {
    for (;;) {
      const a = this.activation;
      await a;
      await new Promise((r) => setImmediate(r));
      if (!this.building && !this.pending && a === this.activation) return;
    }
  }

  /** The live renderer's pid, if one runs. */
  get rendererPid(): number | undefined {
    return this.current?.alive ? this.current.pid : undefined;
  }

  /** The standby's pid, if one is warm or warming. */
  get standbyPid(): number | undefined {
    return this.spare?.alive ? this.spare.pid : undefined;
  }

  /** Stops watching and stops every renderer. */
  async close(reason = 'closed'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.recheckTimer);
    await this.watcher?.close();
    await Promise.allSettled([
      this.current?.stop(this.opts.graceMs),
      this.spare?.stop(this.opts.graceMs),
    ]);
    await this.activation.catch(() => {});
    await this.bundler?.dispose();
    rmSync(this.dir, { recursive: true, force: true });
    this.emit('exit', { reason });
  }

  /** Forces a rebuild and reload, as if a file had changed. */
  reload(): void {
    // 'restart' bypasses the same-output check: this replaces a renderer stuck in a loop.
    this.schedule({ at: performance.now(), files: [], reason: 'restart' });
  }

  private spawn(): RendererProcess {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.opts.env,
      [ENV.region]: this.opts.regionName,
      [ENV.args]: this.opts.argsJson,
      [ENV.ownerPid]: String(process.pid),
    };
    const p = new RendererProcess(this.runnerPath, env, this.opts.stderr);
    void p.exited.then((e) => this.onExit(p, e));
    return p;
  }

  private startWatcher(): void {
    if (!this.watch) return;
    this.watcher = this.watch([], {
      ignoreInitial: true,
      atomic: true,
      ...(this.opts.usePolling ? { usePolling: true, interval: 100 } : {}),
    });
    const onEvent = (path: string): void => {
      this.waitingForChange = false;
      this.quickCrashes = 0;
      this.schedule({ at: performance.now(), files: [path], reason: 'change' });
      this.recheckLater(path);
    };
    this.watcher.on('change', onEvent).on('add', onEvent).on('unlink', onEvent);
    this.watcher.on('error', (err: unknown) => {
      const code = (err as { code?: string }).code;
      if ((code === 'ENOSPC' || code === 'EMFILE') && !this.opts.usePolling && !this.closed) {
        this.emit('warning', {
          message: `file watching hit the system limit (${code}): falling back to polling every 100 ms`,
        });
        (this.opts as { usePolling?: boolean }).usePolling = true;
        const files = [...this.watched];
        void this.watcher?.close().then(() => {
          this.watched.clear();
          this.startWatcher();
          this.updateWatched(files);
        });
      } else {
        this.emit('warning', { message: `file watcher: ${String(err)}` });
      }
    });
  }

  /**
   * chokidar drops a second 'change' of the same file within 50 ms of the first (editors that
   * write twice, tools that touch then write). So each event is followed by one look at the file
   * 80 ms later: if its mtime is not the one recorded when the last build began, build again.
   * The first build is never delayed, and a save seen once costs one build, not two.
   */
  private recheckLater(path: string): void {
    this.recheck.add(path);
    if (this.recheckTimer) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      const paths = [...this.recheck];
      this.recheck.clear();
      const changed = paths.filter((p) => {
        const now = mtimeOf(p);
        return now !== undefined && now !== this.builtMtimes.get(p);
      });
      if (changed.length > 0)
        this.schedule({ at: performance.now(), files: changed, reason: 'change' });
    }, 80);
    this.recheckTimer.unref();
  }

  private updateWatched(inputs: readonly string[]): void {
    if (!this.watcher) return;
    const next = new Set(inputs);
    const add = [...next].filter((f) => !this.watched.has(f));
    const remove = [...this.watched].filter((f) => !next.has(f));
    if (add.length > 0) this.watcher.add(add);
    if (remove.length > 0) this.watcher.unwatch(remove);
    this.watched = next;
  }

  private schedule(change: { at: number; files: string[]; reason: Reason }): void {
    if (this.closed) return;
    if (this.pending) {
      this.pending.files.push(...change.files);
      if (change.reason === 'change') this.pending.reason = 'change';
    } else {
      this.pending = change;
    }
    // Events of one save usually arrive in the same tick or the next: one setImmediate gathers
    // them without a timer; anything later marks the running build dirty (see runBuilds).
    if (!this.building) setImmediate(() => void this.runBuilds());
  }

  private async runBuilds(): Promise<void> {
    if (this.building || !this.bundler) return;
    this.building = true;
    try {
      while (this.pending && !this.closed) {
        const change = this.pending;
        this.pending = undefined;
        this.emit('build-start', { reason: change.reason, files: [...new Set(change.files)] });
        // Recorded before esbuild reads the files: a write after this has a different mtime.
        for (const f of change.files) this.builtMtimes.set(f, mtimeOf(f));
        let out: BuildOutput;
        try {
          out = await this.bundler.build();
        } catch (e) {
          if (!(e instanceof BuildFailure)) throw e;
          this.emit('build-error', { messages: e.messages, locations: e.locations, buildMs: e.ms });
          continue;
        }
        this.updateWatched(out.inputs);
        const builtAt = performance.now();
        // Same bytes as what runs or is about to run: nothing to reload.
        if (out.hash === this.queuedHash && this.current?.alive && change.reason !== 'restart')
          continue;
        this.queuedHash = out.hash;
        this.queueActivation(out, change.reason, change.at, builtAt);
      }
    } finally {
      this.building = false;
    }
  }

  private queueActivation(
    out: BuildOutput,
    reason: Reason,
    changeAt: number | null,
    builtAt: number,
  ): void {
    this.activation = this.activation
      .then(() => this.activate(out, reason, changeAt, builtAt))
      .catch((e: unknown) => {
        this.emit('warning', {
          message: `reload failed: ${e instanceof Error ? e.stack : String(e)}`,
        });
      });
  }

  private async activate(
    out: BuildOutput,
    reason: Reason,
    changeAt: number | null,
    builtAt: number,
  ): Promise<void> {
    if (this.closed) return;
    clearTimeout(this.restartTimer);
    let standby: RendererProcess;
    try {
      if (!this.spare?.alive) this.spare = this.spawn();
      standby = this.spare;
      await standby.warm;
    } catch (e) {
      // No process could be started, or the standby died while warming (out of file
      // descriptors or processes, the region gone…): report it and try again with the back-off.
      this.spare = undefined;
      this.spawnFailures++;
      const retryMs = Math.min(100 * 2 ** (this.spawnFailures - 1), 5000);
      this.emit('warning', {
        message: `${e instanceof Error ? e.message : String(e)}; trying again in ${retryMs} ms`,
      });
      if (this.spawnFailures <= 8 && !this.closed) {
        this.restartTimer = setTimeout(
          () => this.queueActivation(out, reason, changeAt, builtAt),
          retryMs,
        );
      }
      return;
    }
    this.spawnFailures = 0;
    const previous = this.current;
    const epoch = (previous?.epoch ?? this.lastEpoch()) + 1;
    await this.parityFree(epoch, standby);
    if (this.closed) return;

    const file = join(this.dir, `bundle-${++this.bundleSeq}.mjs`);
    writeFileSync(file, out.code);
    standby.epoch = epoch;
    standby.build = out;
    this.parityHolder[epoch & 1] = standby;
    this.opts.setEpoch(epoch);
    const handoffAt = performance.now();
    standby.startedAt = handoffAt;
    const frameAt = this.watchFirstFrame();
    void standby.exited.then(() => frameAt.cancel());
    const outcome = await new Promise<{ ok: true } | { ok: false; message: string; code?: string }>(
      (resolve) => {
        const off = standby.on((m) => {
          if (m.type === 'ready') {
            off();
            resolve({ ok: true });
          } else if (m.type === 'failed') {
            off();
            resolve({ ok: false, message: m.message, ...(m.code ? { code: m.code } : {}) });
          }
        });
        void standby.exited.then((e) => {
          off();
          resolve({ ok: false, message: `exited while starting (${describeExit(e)})` });
        });
        standby.send({ type: 'load', bundle: file, epoch });
      },
    );
    const readyAt = performance.now();
    rmSync(file, { force: true });
    // The next standby starts once this renderer's first frame is out (or after 100 ms): spawning
    // blocks the owner's event loop for milliseconds and booting Node takes a core, both of which
    // would otherwise land exactly on the frame the user is waiting for.
    this.spare = undefined;
    const spawnSpare = (): void => {
      if (this.closed || this.spare?.alive) return;
      try {
        this.spare = this.spawn();
      } catch (e) {
        // The next activation tries again (see above).
        this.spare = undefined;
        this.emit('warning', { message: e instanceof Error ? e.message : String(e) });
      }
    };
    void Promise.race([frameAt.promise, new Promise((r) => setTimeout(r, 100))]).then(spawnSpare);

    if (!outcome.ok) {
      standby.stopping = true;
      // Give the floor back to the renderer that still runs: its presents count again.
      if (previous?.alive) this.opts.setEpoch(previous.epoch);
      frameAt.cancel();
      await standby.stop(this.opts.graceMs);
      if (outcome.code === ErrorCode.LayoutMismatch) {
        this.emit('layout-change', {
          message: `the state definition changed, so the owner's region no longer fits it (${outcome.message}); restart the owner to use the new layout`,
        });
        this.waitingForChange = true;
        return;
      }
      this.handleCrash(
        standby,
        standby.exit ?? { code: null, signal: null },
        'start',
        outcome.message,
        previous,
      );
      return;
    }

    this.lastGood = out;
    this.current = standby;
    if (previous) {
      previous.stopping = true;
      // Once the old renderer is gone the new one is the only producer on its channels.
      void previous.stop(this.opts.graceMs).then(() => standby.send({ type: 'exclusive' }));
    } else {
      standby.send({ type: 'exclusive' });
    }
    const generation = ++this.generation;
    // The first frame is awaited off the activation chain: a renderer that never presents must
    // not hold up the next reload.
    void frameAt.promise.then((frame) => {
      if (this.closed || !standby.alive) return;
      const handoffToFrameMs = frame === null ? null : frame - handoffAt;
      this.emit('reload', {
        generation,
        epoch,
        pid: standby.pid,
        reason,
        timings: {
          changeSeenAt: changeAt,
          changeToBuildMs: changeAt === null ? null : builtAt - changeAt,
          buildMs: out.ms,
          handoffToReadyMs: readyAt - handoffAt,
          handoffToFrameMs,
          totalMs: changeAt === null || frame === null ? null : frame - changeAt,
        },
      });
    });
  }

  private lastEpoch(): number {
    return Math.max(this.parityHolder[0]?.epoch ?? 0, this.parityHolder[1]?.epoch ?? 0);
  }

  /** Waits until no other live process holds the pixel buffers of `epoch`'s parity. */
  private async parityFree(epoch: number, next: RendererProcess): Promise<void> {
    const holder = this.parityHolder[epoch & 1];
    if (!holder || holder === next || !holder.alive) return;
    holder.stopping = true;
    await holder.stop(this.opts.graceMs);
  }

  /** Polls for the first frame after the hand-off (1 ms steps, for at most 2 s). */
  private watchFirstFrame(): { promise: Promise<number | null>; cancel(): void } {
    const probe = this.opts.frameCount;
    let cancelled = false;
    if (!probe) return { promise: Promise.resolve(null), cancel() {} };
    const base = probe();
    const deadline = performance.now() + 2000;
    const promise = new Promise<number | null>((resolve) => {
      const tick = (): void => {
        if (cancelled || this.closed) resolve(null);
        else if (probe() !== base) resolve(performance.now());
        else if (performance.now() > deadline) resolve(null);
        else setTimeout(tick, 1);
      };
      tick();
    });
    return {
      promise,
      cancel() {
        cancelled = true;
      },
    };
  }

  private onExit(p: RendererProcess, e: ChildExit): void {
    if (this.closed || p.stopping) return;
    if (p === this.spare) {
      this.spare = undefined;
      if (!p.startedAt)
        this.emit('warning', {
          message: `the standby process died (${describeExit(e)}): ${p.stderr.trim()}`,
        });
      return;
    }
    if (p !== this.current) return;
    this.handleCrash(p, e, 'running', `${describeExit(e)}${lastError(p.stderr)}`, undefined);
  }

  private handleCrash(
    p: RendererProcess,
    e: ChildExit,
    phase: 'start' | 'running',
    message: string,
    stillRunning: RendererProcess | undefined,
  ): void {
    const ranMs = performance.now() - p.startedAt;
    if (ranMs < this.opts.quickCrashMs) this.quickCrashes++;
    else this.quickCrashes = 1;
    // A new build that fails to start leaves the old renderer running: nothing to restart.
    const needRestart = !stillRunning?.alive && !this.closed;
    const giveUp = this.quickCrashes >= this.opts.maxQuickCrashes;
    const build = (p.build as BuildOutput | undefined) ?? this.lastGood;
    const willRestart = needRestart && !giveUp && build !== undefined;
    const restartInMs = willRestart ? Math.min(100 * 2 ** (this.quickCrashes - 1), 5000) : null;
    if (p === this.current) this.current = undefined;
    this.emit('crash', {
      pid: p.pid,
      epoch: p.epoch,
      code: e.code,
      signal: e.signal,
      phase,
      message,
      stderr: p.stderr,
      willRestart,
      restartInMs,
    });
    if (willRestart && build) {
      this.restartTimer = setTimeout(() => {
        if (!this.waitingForChange) this.queueActivation(build, 'restart', null, performance.now());
      }, restartInMs ?? 0);
    } else if (needRestart) {
      this.waitingForChange = true;
    }
  }
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Removes temp folders of owners that are no longer alive (`hotshm-<pid>-*`). */
function removeStaleTempDirs(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of entries) {
    const m = /^hotshm-(\d+)-[A-Za-z0-9]{6}$/.exec(name);
    if (!m || Number(m[1]) === process.pid || isProcessAlive(Number(m[1]))) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** The last line of stderr that names an error, as ": TypeError: …", or nothing. */
function lastError(stderr: string): string {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => /^\s*(\w*Error|Uncaught|FATAL)/.test(l));
  return line ? `: ${line.trim()}` : '';
}
