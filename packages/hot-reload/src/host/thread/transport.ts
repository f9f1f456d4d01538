/**
 * A renderer on a worker thread as the lifecycle sees it (../lifecycle.ts): the same messages as a
 * renderer process, over the worker's port. It has no process of its own: `terminate()` does
 * nothing (a retired renderer's channels close, its `main()` returns and the thread ends on its
 * own, never interrupted inside a native call) and `kill()` is `worker.terminate()`, the last
 * resort after the grace period.
 */
import { Worker } from 'node:worker_threads';
import { SpawnError } from '../../errors.js';
import type { RendererExit, RendererTransport } from '../lifecycle.js';
import type { ToRenderer } from '../protocol.js';

export interface ThreadTransportOptions {
  /** The worker entry module (runtime/thread-main.ts, built). */
  readonly entry: string;
  readonly regionName: string;
  readonly ownerPid: number;
}

/** What a renderer thread receives as `workerData`. */
export interface ThreadData {
  readonly hotshm: { readonly regionName: string; readonly ownerPid: number };
}

export class ThreadTransport implements RendererTransport {
  readonly pid = process.pid;
  readonly worker: Worker;
  #error = '';
  #exited = false;
  readonly #exitListeners: Array<(e: RendererExit) => void> = [];

  constructor(options: ThreadTransportOptions) {
    const workerData: ThreadData = {
      hotshm: { regionName: options.regionName, ownerPid: options.ownerPid },
    };
    try {
      this.worker = new Worker(options.entry, { workerData });
    } catch (e) {
      throw new SpawnError(
        `could not start the renderer's worker thread: ${(e as Error).message}`,
        { cause: e },
      );
    }
    // An error nobody caught in the thread: it ends with exit code 1 right after this.
    this.worker.on('error', (err) => {
      this.#error = err.stack ?? err.message;
    });
    this.worker.once('exit', (code) => {
      this.#exited = true;
      const e: RendererExit = { code, signal: null };
      for (const l of this.#exitListeners.splice(0)) l(e);
    });
  }

  send(message: ToRenderer): void {
    if (!this.#exited) this.worker.postMessage(message);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.worker.on('message', listener);
  }

  onExit(listener: (exit: RendererExit) => void): void {
    this.#exitListeners.push(listener);
  }

  terminate(): void {}

  kill(): void {
    if (!this.#exited) void this.worker.terminate();
  }

  get stderr(): string {
    return this.#error;
  }

  get running(): boolean {
    return !this.#exited;
  }
}
