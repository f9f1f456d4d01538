/**
 * No-hot mode: the reloadable's entry runs on a worker thread of the owner, over the same region
 * and the same API, with no watcher and no child process. The entry is bundled once with the same
 * esbuild setup as hot mode, so a TypeScript entry needs no loader in the worker either.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WorkerHandoff } from '../state/runtime.js';
import { BuildFailure, createBundler } from './bundler.js';
import type { SupervisorEvents } from './supervisor.js';

export interface WorkerHostOptions {
  readonly entry: string;
  readonly regionName: string;
  readonly argsJson: string;
  readonly setEpoch: (epoch: number) => void;
  readonly frameCount?: () => number;
  readonly maxQuickCrashes?: number;
  readonly quickCrashMs?: number;
}

export class WorkerHost extends EventEmitter<SupervisorEvents> {
  private readonly opts: WorkerHostOptions;
  private readonly dir: string;
  private worker: Worker | undefined;
  private epoch = 0;
  private file = '';
  private crashes = 0;
  private startedAt = 0;
  private closed = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerHostOptions) {
    super();
    this.opts = options;
    this.dir = mkdtempSync(join(tmpdir(), `hotshm-${process.pid}-`));
  }

  get rendererPid(): number | undefined {
    return this.worker ? process.pid : undefined;
  }

  get standbyPid(): number | undefined {
    return undefined;
  }

  reload(): void {
    // No hot reload here: restarting the worker re-runs the code it was built with.
    void this.restart();
  }

  async idle(): Promise<void> {}

  async start(): Promise<void> {
    this.emit('build-start', { reason: 'start', files: [this.opts.entry] });
    const bundler = await createBundler(this.opts.entry);
    try {
      const out = await bundler.build();
      const bundle = join(this.dir, 'bundle.mjs');
      writeFileSync(bundle, out.code);
      this.file = join(this.dir, 'worker.mjs');
      writeFileSync(
        this.file,
        [
          `const mod = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
          `if (typeof mod.main !== 'function') throw new TypeError('the reloadable entry must export a function main(), got ' + typeof mod.main);`,
          'await mod.main();',
        ].join('\n'),
      );
      await this.launch('start', out.ms);
    } catch (e) {
      if (e instanceof BuildFailure) {
        this.emit('build-error', { messages: e.messages, locations: e.locations, buildMs: e.ms });
        throw new Error(`the reloadable does not build:\n${e.messages.join('\n')}`);
      }
      throw e;
    } finally {
      await bundler.dispose();
    }
  }

  private async launch(reason: 'start' | 'restart', buildMs: number): Promise<void> {
    const epoch = ++this.epoch;
    this.opts.setEpoch(epoch);
    const data: WorkerHandoff = {
      hotshm: {
        regionName: this.opts.regionName,
        argsJson: this.opts.argsJson,
        epoch,
        ownerPid: process.pid,
      },
    };
    const t0 = performance.now();
    this.startedAt = t0;
    const probe = this.opts.frameCount;
    const base = probe?.();
    const worker = new Worker(this.file, { workerData: data, stderr: false, stdout: false });
    this.worker = worker;
    let stderr = '';
    worker.on('error', (err) => {
      stderr = err.stack ?? String(err);
      console.error(stderr);
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker || this.closed) return;
      this.worker = undefined;
      const quick = performance.now() - this.startedAt < (this.opts.quickCrashMs ?? 3000);
      this.crashes = quick ? this.crashes + 1 : 1;
      const willRestart = this.crashes < (this.opts.maxQuickCrashes ?? 3);
      const restartInMs = willRestart ? 100 * 2 ** (this.crashes - 1) : null;
      this.emit('crash', {
        pid: process.pid,
        epoch,
        code,
        signal: null,
        phase: quick ? 'start' : 'running',
        message: stderr.split('\n')[0] || `the worker exited with code ${code}`,
        stderr,
        willRestart,
        restartInMs,
      });
      if (willRestart)
        this.restartTimer = setTimeout(() => void this.launch('restart', 0), restartInMs ?? 0);
    });
    await new Promise<void>((resolve) => {
      worker.once('online', () => resolve());
      worker.once('exit', () => resolve());
    });
    const ready = performance.now();
    let frameAt: number | null = null;
    if (probe) {
      const deadline = performance.now() + 2000;
      while (probe() === base && performance.now() < deadline && this.worker === worker) {
        await new Promise((r) => setTimeout(r, 1));
      }
      if (probe() !== base) frameAt = performance.now();
    }
    if (this.worker !== worker) return;
    this.emit('reload', {
      generation: epoch,
      epoch,
      pid: process.pid,
      reason,
      timings: {
        changeSeenAt: null,
        changeToBuildMs: null,
        buildMs,
        handoffToReadyMs: ready - t0,
        handoffToFrameMs: frameAt === null ? null : frameAt - t0,
        totalMs: null,
      },
    });
  }

  private async restart(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
    if (!this.closed) await this.launch('restart', 0);
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.restartTimer);
    const w = this.worker;
    this.worker = undefined;
    // The worker maps the same region: it must be gone before the owner unmaps it.
    await w?.terminate();
    rmSync(this.dir, { recursive: true, force: true });
    this.emit('exit', { reason });
  }
}
