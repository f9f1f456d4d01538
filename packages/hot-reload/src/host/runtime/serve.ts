/**
 * The renderer's side of the lifecycle (../lifecycle.ts), the same in a renderer process
 * (process-main.ts) and a worker thread (thread-main.ts); only the port differs (a raw pipe, a
 * MessagePort).
 *
 *   warm ──▶ load: map the region it names (a migration may have moved it), leave the hand-off for
 *            State.reloadable(), evaluate the program
 *        ──▶ its state's layout differs from the region's? say `layout`, wait for `region`
 *        ──▶ main(): State.reloadable() checks the region and begins this renderer's epoch
 *        ──▶ `ready` (once the code that got its state yields), `frame` after its first present
 *
 * A failure before `ready` is reported as `failed` with its stage and the process (or thread)
 * ends; after it, the host sees the exit and reports a crash.
 */
import { ChannelClosedError, HotshmError, InvalidArgumentError } from '../../errors.js';
import { openRegion, type Region } from '../../memory/index.js';
import { installHandoff, type RuntimeHandoff } from '../../state/runtime.js';
import { preloadExternals } from '../build/evaluate.js';
import type { FailStage, FromRenderer, ToRenderer } from '../protocol.js';
import { isToRenderer } from '../protocol.js';
import { layoutChange } from './layout.js';
import { runProgram } from './program.js';

export interface OwnerPort {
  send(message: FromRenderer): void;
  onMessage(listener: (message: unknown) => void): void;
}

export interface ServeOptions {
  readonly port: OwnerPort;
  readonly ownerPid: number;
  /** The region mapped while booting (a standby's), reused when `load` names the same one. */
  readonly region?: Region;
  /** Ends the renderer (process.exit for a process; the thread's own exit for a worker). */
  readonly exit: (code: number) => void;
}

/** A renderer that never calls State.reloadable() is ready this long after its main() started. */
const READY_FALLBACK_MS = 1000;

export function serve(options: ServeOptions): void {
  const { port } = options;
  let loaded = false;
  let pendingRegion: ((m: Extract<ToRenderer, { type: 'region' | 'abort' }>) => void) | undefined;
  // Closed until the host says the renderer this one replaced is gone (see ProducerGate).
  const gateListeners: Array<() => void> = [];
  const gate = {
    open: false,
    whenOpen(listener: () => void): void {
      if (gate.open) listener();
      else gateListeners.push(listener);
    },
  };

  port.onMessage((m) => {
    if (!isToRenderer(m)) return;
    switch (m.type) {
      case 'load':
        if (loaded) return;
        loaded = true;
        void load(m);
        return;
      case 'region':
      case 'abort':
        pendingRegion?.(m);
        pendingRegion = undefined;
        return;
      case 'exclusive':
        gate.open = true;
        for (const l of gateListeners.splice(0)) l();
        return;
      case 'preload':
        // Import errors surface when the program itself imports the package.
        void preloadExternals(m.urls);
        return;
    }
  });

  const load = async (job: Extract<ToRenderer, { type: 'load' }>): Promise<void> => {
    const start = performance.now();
    const receivedAt = performance.timeOrigin + start;
    let evalMs = 0;
    let ready = false;
    let stage: FailStage = 'import';
    const readyOnce = (): void => {
      if (ready) return;
      ready = true;
      clearTimeout(fallback);
      const now = performance.now();
      port.send({ type: 'ready', receivedAt, evalMs, stateMs: now - start - evalMs });
    };
    const fallback = setTimeout(readyOnce, READY_FALLBACK_MS);
    try {
      const region = regionFor(job.region, options.region);
      const handoff: RuntimeHandoff = {
        regionName: region.name,
        argsJson: job.args,
        epoch: job.epoch,
        ownerPid: options.ownerPid,
        region,
        producerGate: gate,
        // Sent once the code that called State.reloadable() yields: a renderer that draws right
        // after getting its state presents its first frame before this message goes out.
        onReloadable: (state) => {
          queueMicrotask(readyOnce);
          reportFirstFrame(state, () => port.send({ type: 'frame', at: performance.now() }));
        },
      };
      installHandoff(handoff);
      const entry = await runProgram(job.program);
      evalMs = performance.now() - start;
      // The program's state definition may not fit the region any more (a field added, a size
      // changed): the owner migrates the region and answers with the new one, or refuses.
      stage = 'state';
      const change = layoutChange(region, job.args);
      if (change !== undefined) {
        const answer = new Promise<Extract<ToRenderer, { type: 'region' | 'abort' }>>((r) => {
          pendingRegion = r;
        });
        port.send({ type: 'layout', descriptor: change, ms: performance.now() - start });
        const reply = await answer;
        if (reply.type === 'abort') {
          clearTimeout(fallback);
          options.exit(0);
          return;
        }
        const migrated = openRegion(reply.region);
        if (region !== options.region) region.close();
        installHandoff({ ...handoff, regionName: migrated.name, region: migrated });
      }
      stage = 'main';
      if (typeof entry.main !== 'function') {
        throw new InvalidArgumentError(
          `the reloadable entry must export a function main(), got ${entry.main === undefined ? 'no main export' : typeof entry.main}`,
        );
      }
      await (entry.main as () => unknown)();
      readyOnce();
    } catch (e) {
      clearTimeout(fallback);
      // Its channels were closed under it: the host retired it, which is the end it asked for.
      if (e instanceof ChannelClosedError) {
        options.exit(0);
        return;
      }
      const failure = startFailure(stage, e);
      console.error(failure.stack);
      // Before ready it failed to start; after, it crashed: the host reports either with this.
      port.send(
        ready ? { type: 'crashed', message: failure.message, stack: failure.stack } : failure,
      );
      options.exit(1);
    }
  };
}

/** The region `name`: the one mapped while booting if it is that one, else mapped now. */
function regionFor(name: string, booted: Region | undefined): Region {
  if (booted && !booted.closed && booted.name === name) return booted;
  return openRegion(name);
}

/**
 * Calls `report` once, after the first successful present of any framebuffer of `state`: the
 * host learns of the first frame from a message, never by looking at the frame counter.
 */
function reportFirstFrame(state: object, report: () => void): void {
  let reported = false;
  for (const field of Object.values(state)) {
    const fb = field as { present?: unknown; back?: unknown };
    if (typeof fb !== 'object' || fb === null) continue;
    if (typeof fb.present !== 'function' || typeof fb.back !== 'function') continue;
    const present = fb.present as () => boolean;
    Object.defineProperty(fb, 'present', {
      configurable: true,
      writable: true,
      value: function presentAndReport(this: unknown): boolean {
        const shown = present.call(this);
        if (shown && !reported) {
          reported = true;
          report();
        }
        // Back to the framebuffer's own method: later presents pay nothing for this.
        if (reported) Reflect.deleteProperty(fb, 'present');
        return shown;
      },
    });
  }
}

/** The report of a start that failed at `stage` with `error`. */
export function startFailure(
  stage: FailStage,
  error: unknown,
): Extract<FromRenderer, { type: 'failed' }> {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    type: 'failed',
    stage,
    message: err.message,
    stack: err.stack ?? err.message,
    ...(err instanceof HotshmError ? { code: err.code } : {}),
  };
}
