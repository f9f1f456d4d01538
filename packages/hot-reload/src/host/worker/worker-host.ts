/**
 * No-hot mode: the reloadable's entry runs on a worker thread of the owner, over the same region
 * and the same API, with no watcher and no child process. The entry is built once with the same
 * bundler as hot mode, so a TypeScript entry needs no loader in the worker either, and failures
 * are the same classes: a build error rejects `start()` with `BuildError`; a renderer that fails
 * before it has its state rejects it with `RendererStartError`.
 *
 * Stopping never interrupts the thread inside a native call: the owner retires the renderer's
 * epoch, which closes its channels (their `for await` loops end and parked receives wake up), its
 * `main()` returns and the thread ends on its own. Only a renderer that ignores that for
 * `graceMs` (a `setInterval` that never looks at a channel) is terminated, as a last resort.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BuildError, RendererCrashError, RendererStartError, SpawnError } from '../../errors.js';
import { createBundler } from '../build/bundler.js';
import { buildLibrary } from '../build/library.js';
import { TypedEmitter } from '../emitter.js';
import type { HostEvents, HostStats, HostTarget, RendererHost } from '../events.js';
import { reapOrphans } from '../orphans.js';
import { type RestartOptions, RestartPolicy } from '../restart.js';
import { createTempDir, type TempDir } from '../temp.js';
import type { FromWorker, WorkerData } from './worker-entry.js';

export interface WorkerHostOptions extends RestartOptions {
  readonly target: HostTarget;
  /** How long a stopped renderer may take to return from main() before it is terminated. Default 1000 ms. */
  readonly graceMs?: number;
  /** How long a new renderer may take to get its state. Default 5000 ms. */
  readonly startTimeoutMs?: number;
}

interface Running {
  readonly worker: Worker;
  readonly epoch: number;
  readonly startedAt: number;
  stopping: boolean;
  ready: boolean;
  failure: FromWorker | undefined;
  readonly exited: Promise<number>;
}

export class WorkerHost extends TypedEmitter<HostEvents> implements RendererHost {
  readonly mode = 'worker' as const;
  readonly #target: HostTarget;
  readonly #graceMs: number;
  readonly #startTimeoutMs: number;
  readonly #policy: RestartPolicy;
  #temp: TempDir | undefined;
  #bundle = '';
  #workerEntry = '';
  #buildMs = 0;
  #running: Running | undefined;
  #epoch = 0;
  #closed = false;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;
  #inspectTimer: ReturnType<typeof setInterval> | undefined;
  readonly #stats = { builds: 0, reloads: 0, coldStarts: 0, superseded: 0, crashes: 0 };

  constructor(options: WorkerHostOptions) {
    super();
    this.#target = options.target;
    this.#graceMs = options.graceMs ?? 1000;
    this.#startTimeoutMs = options.startTimeoutMs ?? 5000;
    this.#policy = new RestartPolicy(options);
  }

  get rendererPid(): number | undefined {
    return this.#running && !this.#running.stopping ? process.pid : undefined;
  }

  get standbyPid(): number | undefined {
    return undefined;
  }

  get stats(): HostStats {
    return { ...this.#stats };
  }

  reload(): void {
    // No hot reload here: restarting the worker re-runs the code it was built with.
    void this.#restart();
  }

  async idle(): Promise<void> {}

  /** Builds the entry and starts the renderer; rejects with the error that kept it from starting. */
  async start(): Promise<void> {
    this.#temp = createTempDir();
    const reaped = reapOrphans();
    if (reaped.length > 0) {
      this.emit('warning', {
        message: `stopped ${reaped.length} process${reaped.length > 1 ? 'es' : ''} that renderers of owners that died had started (pid ${reaped.join(', ')})`,
      });
    }
    const library = await buildLibrary(this.#temp.path);
    this.#workerEntry = library.worker;
    this.emit('build-start', { reason: 'start', files: [this.#target.entry] });
    const bundler = await createBundler(this.#target.entry, {
      aliases: library.aliases,
      outDir: this.#temp.path,
    });
    try {
      const out = await bundler.build();
      if (!out.exports.includes('main')) {
        throw new BuildError(this.#target.entry, [
          {
            text: `the entry exports no main(): expected \`export async function main() { … }\`, got exports [${out.exports.join(', ')}]`,
            location: this.#target.entry,
          },
        ]);
      }
      this.#stats.builds++;
      this.#buildMs = out.ms;
      this.emit('build-done', { buildMs: out.ms, unchanged: false });
      this.emit('inputs', { files: [this.#target.entry, ...out.inputs], reloads: false });
      this.#bundle = join(this.#temp.path, 'bundle.mjs');
      writeFileSync(this.#bundle, out.code);
    } catch (e) {
      if (e instanceof BuildError) {
        this.emit('build-error', {
          error: e,
          messages: e.messages,
          locations: e.locations,
          buildMs: e.buildMs,
        });
      }
      throw e;
    } finally {
      await bundler.dispose();
    }
    const failure = await this.#launch('start');
    if (failure) throw failure;
    this.#inspectTimer = setInterval(() => this.#inspect(false), 1000);
    this.#inspectTimer.unref();
  }

  /** Starts a worker; resolves when it has its state (undefined) or with why it failed. */
  async #launch(reason: 'start' | 'restart'): Promise<RendererStartError | undefined> {
    const epoch = ++this.#epoch;
    const data: WorkerData = {
      hotshm: {
        regionName: this.#target.regionName,
        argsJson: this.#target.argsJson,
        epoch,
        ownerPid: process.pid,
      },
      bundle: this.#bundle,
    };
    const t0 = performance.now();
    const base = this.#target.frameCount();
    let worker: Worker;
    try {
      worker = new Worker(this.#workerEntry, { workerData: data });
    } catch (e) {
      throw new SpawnError(
        `could not start the renderer's worker thread: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
    let lastError: Error | undefined;
    worker.on('error', (err) => {
      lastError = err;
    });
    const running: Running = {
      worker,
      epoch,
      startedAt: t0,
      stopping: false,
      ready: false,
      failure: undefined,
      exited: new Promise((resolve) => worker.once('exit', resolve)),
    };
    this.#running = running;
    worker.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      if (m.type === 'ready') running.ready = true;
      else running.failure = m;
    });
    void running.exited.then((code) => this.#onExit(running, code, lastError));

    // Ready, failed, ended or timed out.
    const outcome = await new Promise<RendererStartError | undefined>((resolve) => {
      const timer = setTimeout(
        () =>
          resolve(
            new RendererStartError(
              'timeout',
              `it did not get its state within ${this.#startTimeoutMs} ms (is its top level or main() stuck in a loop before State.reloadable()?)`,
            ),
          ),
        this.#startTimeoutMs,
      );
      const onMessage = (m: unknown): void => {
        if (!isFromWorker(m) || m.type === 'crashed') return;
        clearTimeout(timer);
        worker.off('message', onMessage);
        resolve(m.type === 'ready' ? undefined : new RendererStartError(m.stage, m.message));
      };
      worker.on('message', onMessage);
      void running.exited.then((code) => {
        clearTimeout(timer);
        // A message posted just before the thread ended is delivered first.
        setImmediate(() =>
          resolve(
            running.ready
              ? undefined
              : running.failure?.type === 'failed'
                ? new RendererStartError(running.failure.stage, running.failure.message)
                : new RendererStartError(
                    'exit',
                    `the worker ended (exit code ${code}) before it was ready${lastError ? `: ${lastError.message}` : ''}`,
                  ),
          ),
        );
      });
    });
    if (outcome) {
      running.stopping = true;
      await this.#stopWorker(running);
      if (this.#running === running) this.#running = undefined;
      if (outcome.stage === 'timeout') this.#stats.crashes++;
      return outcome;
    }
    const readyAt = performance.now();
    // This renderer's frames are the ones shown from now on (it began its epoch itself when it
    // got its state; a renderer that never asked for it has nothing to show).
    this.#target.beginEpoch(epoch);
    this.#stats.reloads++;
    let frameAt: number | null = null;
    if (base !== undefined) {
      const deadline = performance.now() + 2000;
      while (
        this.#target.frameCount() === base &&
        performance.now() < deadline &&
        this.#running === running
      ) {
        await new Promise((r) => setTimeout(r, 1));
      }
      if (this.#target.frameCount() !== base) frameAt = performance.now();
    }
    if (this.#running === running && !this.#closed) {
      this.emit('reload', {
        generation: epoch,
        epoch,
        pid: process.pid,
        reason,
        coldStart: false,
        superseded: 0,
        timings: {
          changeSeenAt: null,
          changeToBuildMs: null,
          buildMs: reason === 'start' ? this.#buildMs : 0,
          heldMs: 0,
          deliverMs: null,
          importMs: null,
          stateMs: null,
          handoffToReadyMs: readyAt - t0,
          handoffToFrameMs: frameAt === null ? null : frameAt - t0,
          totalMs: null,
        },
      });
    }
    return undefined;
  }

  #onExit(running: Running, code: number, error: Error | undefined): void {
    if (this.#running === running) this.#running = undefined;
    if (this.#closed || running.stopping || !running.ready) return;
    this.#stats.crashes++;
    const ranMs = performance.now() - running.startedAt;
    const decision = this.#policy.crashed(ranMs);
    const crashed = running.failure?.type === 'crashed' ? running.failure : undefined;
    const why =
      crashed?.message ??
      error?.message ??
      (code === 0 ? 'its main() returned and the thread ended' : `exit code ${code}`);
    this.#inspect(true);
    this.emit('crash', {
      pid: process.pid,
      epoch: running.epoch,
      code,
      signal: null,
      phase: 'running',
      error: new RendererCrashError(`the renderer's worker thread ended: ${why}`, code, null),
      message: `the renderer's worker thread ended: ${why}`,
      stderr: crashed?.stack ?? error?.stack ?? '',
      willRestart: decision.willRestart,
      restartInMs: decision.restartInMs,
    });
    if (decision.willRestart) {
      this.#restartTimer = setTimeout(() => {
        void this.#launch('restart').then((failure) => {
          if (failure) this.#startFailedOnRestart(failure);
        });
      }, decision.restartInMs ?? 0);
    }
  }

  #startFailedOnRestart(failure: RendererStartError): void {
    if (this.#closed) return;
    const decision = this.#policy.crashed(0);
    this.emit('crash', {
      pid: process.pid,
      epoch: this.#epoch,
      code: null,
      signal: null,
      phase: 'start',
      error: failure,
      message: failure.message,
      stderr: '',
      willRestart: decision.willRestart,
      restartInMs: decision.restartInMs,
    });
    if (decision.willRestart) {
      this.#restartTimer = setTimeout(() => {
        void this.#launch('restart').then((f) => {
          if (f) this.#startFailedOnRestart(f);
        });
      }, decision.restartInMs ?? 0);
    }
  }

  /**
   * Retires the renderer and waits for its thread to end on its own; terminates it only after
   * `graceMs` (see the module comment).
   */
  async #stopWorker(running: Running): Promise<void> {
    running.stopping = true;
    this.#target.retire(running.epoch);
    let grace: ReturnType<typeof setTimeout> | undefined;
    const ended = await Promise.race([
      running.exited.then(() => true),
      new Promise<boolean>((r) => {
        grace = setTimeout(() => r(false), this.#graceMs);
      }),
    ]);
    // A pending grace timer would keep the owner's event loop alive for graceMs after close().
    clearTimeout(grace);
    if (!ended) {
      this.emit('warning', {
        message: `the renderer's worker did not return from main() within ${this.#graceMs} ms of being stopped; terminating it`,
      });
      await running.worker.terminate();
    }
  }

  async #restart(): Promise<void> {
    const r = this.#running;
    this.#running = undefined;
    if (r) await this.#stopWorker(r);
    if (!this.#closed) {
      const failure = await this.#launch('restart');
      if (failure) this.#startFailedOnRestart(failure);
    }
  }

  #inspect(deep: boolean): void {
    if (this.#closed) return;
    const repairs = [...this.#target.inspect(deep), ...this.#target.takeRepairs()];
    if (repairs.length > 0) this.emit('repair', { repairs });
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#inspectTimer);
    const r = this.#running;
    this.#running = undefined;
    // The worker maps the same region: it must be gone before the owner unmaps it.
    if (r) await this.#stopWorker(r);
    if (this.#bundle) rmSync(this.#bundle, { force: true });
    this.#temp?.remove();
    this.emit('exit', { reason });
  }
}

/**
 * Only the entry's own messages count: Node posts others on the same port (under `node --watch`
 * a worker reports every module it loads to the watcher, as `{ "watch:import": [...] }`).
 */
function isFromWorker(m: unknown): m is FromWorker {
  if (typeof m !== 'object' || m === null) return false;
  const { type } = m as { type?: unknown };
  if (type === 'ready') return typeof (m as { importMs?: unknown }).importMs === 'number';
  if (type === 'failed' || type === 'crashed') {
    return typeof (m as { message?: unknown }).message === 'string';
  }
  return false;
}
