/**
 * No-hot mode: the renderer runs on a worker thread of the owner, over the same region and the
 * same API, with no watcher and no child process. The entry is built once with the same bundler as
 * hot mode (so a TypeScript entry needs no loader in the worker either), and esbuild is stopped as
 * soon as that build is done. Failures are the same classes: a build error rejects `start()` with
 * `BuildError`; a renderer that fails before it has its state rejects it with `RendererStartError`.
 *
 * The hand-over, the crash policy and the migration are the shared ones (../host.ts): what this
 * file adds is the one build and a worker per renderer. Stopping never interrupts a thread inside
 * a native call: the owner retires the renderer's epoch, its channels close, its `main()` returns
 * and the thread ends on its own; `terminate()` only after `graceMs` (see thread/transport.ts).
 */
import { BuildError, SpawnError } from '../../errors.js';
import { buildLibrary } from '../build/library.js';
import { createProgramBuilder } from '../build/program.js';
import type { HostStats, ThreadHost } from '../events.js';
import { type Build, HostBase, type HostBaseOptions, type Job } from '../host.js';
import { Renderer } from '../lifecycle.js';
import { reapOrphans } from '../orphans.js';
import { createTempDir, type TempDir } from '../temp.js';
import { ThreadTransport } from './transport.js';

export type WorkerHostOptions = HostBaseOptions;

export class WorkerHost extends HostBase implements ThreadHost {
  readonly mode = 'worker' as const;
  #temp: TempDir | undefined;
  #entry = '';
  #build: Build | undefined;
  #inflight = 0;
  /** A renderer went live once: from then on crashes restart (a failed first start rejects). */
  #wentLive = false;

  get stats(): HostStats {
    const { coldStarts: _cold, ...rest } = this.counts;
    return rest;
  }

  protected get busy(): boolean {
    return this.#inflight > 0;
  }

  protected programDir(): string {
    if (!this.#temp) throw new SpawnError('the worker host has not started');
    return this.#temp.path;
  }

  reload(): void {
    // No hot reload here: a restart runs the code it was built with.
    if (this.#build) void this.#run({ ...this.#job(this.#build), reason: 'restart' });
  }

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
    this.#entry = library.worker;
    this.emit('build-start', { reason: 'start', files: [this.target.entry] });
    const builder = createProgramBuilder(this.target.entry, { aliases: library.aliases });
    try {
      const program = await builder.build();
      if (!program.exports.includes('main')) {
        throw new BuildError(this.target.entry, [
          {
            text: `the entry exports no main(): expected \`export async function main() { … }\`, got exports [${program.exports.join(', ')}]`,
            location: this.target.entry,
          },
        ]);
      }
      this.counts.builds++;
      this.emit('build-done', { buildMs: program.ms, unchanged: false });
      this.emit('inputs', { files: [this.target.entry, ...program.inputs], reloads: false });
      this.#build = {
        contents: JSON.stringify(program),
        ext: '.json',
        hash: program.hash,
        externals: program.externals,
        ms: program.ms,
      };
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
      // Nothing else is ever built here: the last user of esbuild's service stops it, so no
      // compiler process stays beside the owner.
      await builder.dispose();
    }
    const failure = await this.#run(this.#job(this.#build));
    if (failure) throw failure;
    this.startInspecting();
  }

  /** Runs the build with new arguments (a resize); resolves when the renderer is live. */
  async resize(args: string): Promise<boolean> {
    if (!this.#build || this.closed) return false;
    const failure = await this.#run({ ...this.#job(this.#build), reason: 'resize', args });
    return failure === undefined;
  }

  async close(reason = 'closed'): Promise<void> {
    if (this.closed) return;
    // The worker maps the same region: it must be gone before the owner unmaps it.
    await this.stopAll([], reason);
    this.#temp?.remove();
    this.emit('exit', { reason });
  }

  #job(build: Build): Job {
    return {
      build,
      reason: 'start',
      changeAt: null,
      builtAt: performance.now(),
      superseded: 0,
      cold: false,
    };
  }

  /** Starts a worker and hands it `job`; resolves with why it failed to start, if it did. */
  async #run(job: Job): Promise<Error | undefined> {
    this.#inflight++;
    try {
      const renderer = this.#spawn();
      await renderer.reached('standby');
      if (!renderer.isStandby) {
        return new SpawnError(
          `the renderer's worker thread ended before it was ready${renderer.transport.stderr ? `: ${renderer.transport.stderr}` : ''}`,
        );
      }
      let failure: Error | undefined;
      const onCrash = (e: { phase: string; error: Error }): void => {
        if (e.phase === 'start') failure = e.error;
      };
      this.on('crash', onCrash);
      const live = await this.handOver(renderer, job);
      this.off('crash', onCrash);
      if (live) this.#wentLive = true;
      return live ? undefined : (failure ?? new SpawnError('the renderer did not start'));
    } finally {
      this.#inflight--;
      this.settled();
    }
  }

  #spawn(): Renderer {
    const transport = new ThreadTransport({
      entry: this.#entry,
      regionName: this.target.regionName,
      ownerPid: process.pid,
    });
    const renderer = new Renderer(transport, this.clock);
    void renderer.exited.then((e) => this.rendererExited(renderer, e));
    return renderer;
  }

  protected retry(job: Job): void {
    void this.#run(job);
  }

  protected restartLater(build: Build): void {
    void this.#run({ ...this.#job(build), reason: 'restart' });
  }

  protected override mayRestart(): boolean {
    return this.#wentLive;
  }

  protected restartsStopped(): void {}
}
