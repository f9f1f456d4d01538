/**
 * One renderer's life, the same in both hosts (a process with hot reload, a worker thread
 * without). Every move is fired by an event — a message from the renderer, an exit, a decision of
 * the host — never by a timer that looks again:
 *
 *   booting ──warm──▶ standby ──load──▶ loading ──ready──▶ live ──retire──▶ retired ──exit──▶ stopped
 *      │                 │              │    ▲                │                  │
 *      │                 │        layout│    │region          │                  │
 *      │                 │              ▼    │ (migration)    │                  │
 *      └────── exit ─────┴────── exit / failed / timeout ─────┴──── exit ────────┴──▶ stopped
 *
 * - booting → standby: the renderer says `warm` (runtime, library and region loaded).
 * - standby → loading: the host hands it a program (`load`): it evaluates it and runs `main()`.
 *   A renderer whose state definition no longer fits the region says `layout` and waits; the host
 *   migrates the region and answers `region` (or `abort`).
 * - loading → live: `ready`, the renderer has its state; it began its own epoch, so from that moment
 *   its frames are the ones shown. Then `frame` once it has presented one.
 * - live → retired: the host retired its epoch in the region (its channels closed; a newer
 *   renderer took over, or the host is closing); it is being stopped.
 * - → stopped: it exited, for whatever reason. `stopReason` says whether the host ended it.
 *
 * Listeners waiting for a phase (`reached`) run once when it is reached, at once if it was.
 * The transport (process/transport.ts, thread/transport.ts) moves the messages; the clock is a
 * parameter so that unit tests drive all of this with fakes.
 */
import { RendererStartError } from '../errors.js';
import { type FromRenderer, isFromRenderer, type ToRenderer } from './protocol.js';

export interface Clock {
  /** Milliseconds, monotonic (performance.now() for real). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface RendererExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export function describeExit(e: RendererExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

/** What moves messages to and from one renderer, and ends it. */
export interface RendererTransport {
  /** The renderer's process id (the owner's own for a worker thread). */
  readonly pid: number;
  send(message: ToRenderer): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once, when the renderer has ended. */
  onExit(listener: (exit: RendererExit) => void): void;
  /** Asks it to end: SIGTERM to its process group; a worker thread ends on its own once retired. */
  terminate(): void;
  /** Ends it now: SIGKILL to its process group; `terminate()` of a worker. */
  kill(): void;
  /** The tail of its stderr, for crash reports ('' where there is none). */
  readonly stderr: string;
  /**
   * False from the moment it has exited, which can be a little before the exit is reported (a
   * process's exit waits for the end of its stderr).
   */
  readonly running: boolean;
}

export const PHASES = ['booting', 'standby', 'loading', 'live', 'retired', 'stopped'] as const;
export type Phase = (typeof PHASES)[number];

/** What the host hands a renderer to run. */
export interface LoadJob {
  readonly program: string;
  readonly epoch: number;
  readonly region: string;
  readonly args: string;
  readonly externals?: readonly string[];
}

/** The answer to a renderer whose layout differs from its region's. */
export type LayoutAnswer = { readonly region: string } | { readonly abort: string };

export interface LoadOptions {
  /** How long it may take to get its state (a migration it waits for does not count). */
  readonly timeoutMs: number;
  /** Its state's layout differs from the region's: migrate, or refuse. */
  readonly onLayout: (descriptor: unknown) => Promise<LayoutAnswer>;
}

export interface LoadTimings {
  /** When `load` arrived, on the renderer's clock (performance.timeOrigin-based). */
  readonly receivedAt: number;
  readonly evalMs: number;
  readonly stateMs: number;
  /** Clock time (the host's) when `ready` arrived. */
  readonly readyAt: number;
}

export type LoadOutcome =
  | { readonly ok: true; readonly timings: LoadTimings }
  | {
      readonly ok: false;
      /**
       * failed: it said so; exited: it ended; timeout: it took too long (still running: the host
       * ends it); refused: a migration it needed was refused; cancelled: the host gave up on it.
       */
      readonly why: 'failed' | 'exited' | 'timeout' | 'refused' | 'cancelled';
      readonly error: RendererStartError;
      /** The HotshmError code of what it threw, when it was one. */
      readonly code?: string;
    };

export class Renderer {
  readonly transport: RendererTransport;
  readonly #clock: Clock;
  #phase: Phase = 'booting';
  readonly #waiting = new Map<Phase, Array<() => void>>();
  /** Its epoch once it was handed a program (0: a standby). */
  epoch = 0;
  job: LoadJob | undefined;
  /** Clock time of the `load`. */
  loadedAt = 0;
  exit: RendererExit | undefined;
  /** Why the host ended it, when it did: its exit is then not a crash. */
  stopReason: string | undefined;
  /** Whatever the host wants to keep with it (the build it runs). */
  tag: unknown;
  readonly exited: Promise<RendererExit>;
  /** Clock time of its first presented frame, or null if it stopped before one. */
  readonly firstFrame: Promise<number | null>;
  #frameSeen: ((at: number | null) => void) | undefined;
  #settleLoad: ((o: LoadOutcome) => void) | undefined;
  #onLayout: LoadOptions['onLayout'] | undefined;
  #loadTimer: unknown;
  #timeoutMs = 0;
  /** Messages that were not well-formed (counted, never acted on). */
  malformed = 0;
  #crash: { readonly message: string; readonly stack: string } | undefined;

  constructor(transport: RendererTransport, clock: Clock = systemClock) {
    this.transport = transport;
    this.#clock = clock;
    this.firstFrame = new Promise((resolve) => {
      this.#frameSeen = resolve;
    });
    this.exited = new Promise((resolve) => {
      transport.onExit((e) => {
        this.exit = e;
        this.#frameSeen?.(null);
        this.#failLoad('exited', `it exited while starting (${describeExit(e)})`);
        this.#enter('stopped');
        resolve(e);
      });
    });
    transport.onMessage((m) => this.#receive(m));
  }

  get pid(): number {
    return this.transport.pid;
  }

  get phase(): Phase {
    return this.#phase;
  }

  /** Whether it runs: not stopped, and its process or thread has not exited. */
  get alive(): boolean {
    return this.#phase !== 'stopped' && this.transport.running;
  }

  /** What it wrote to stderr (its tail), or the stack of what ended a thread. */
  get stderr(): string {
    return this.transport.stderr || (this.#crash?.stack ?? '');
  }

  /** The error that ended it, as one line: ": TypeError: …", or nothing. */
  get lastError(): string {
    return this.#crash ? `: ${this.#crash.message}` : lastError(this.transport.stderr);
  }

  /** Whether it is warm and has not been handed a program. */
  get isStandby(): boolean {
    return this.#phase === 'standby';
  }

  /** Resolves once `phase` or a later one is reached (at once if it was). */
  reached(phase: Phase): Promise<void> {
    if (PHASES.indexOf(this.#phase) >= PHASES.indexOf(phase)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiting.get(phase) ?? [];
      list.push(resolve);
      this.#waiting.set(phase, list);
    });
  }

  /**
   * Hands it a program. Resolves once it has its state, or with why it did not: never rejects.
   * A timeout leaves it running: the host ends it (and says so).
   */
  load(job: LoadJob, options: LoadOptions): Promise<LoadOutcome> {
    if (this.#phase !== 'standby') {
      throw new RendererStartError(
        'import',
        `a renderer can be handed a program only while it is a warm standby, not while it is ${this.#phase}`,
      );
    }
    this.job = job;
    this.epoch = job.epoch;
    this.loadedAt = this.#clock.now();
    this.#onLayout = options.onLayout;
    this.#timeoutMs = options.timeoutMs;
    const outcome = new Promise<LoadOutcome>((resolve) => {
      this.#settleLoad = resolve;
    });
    this.#enter('loading');
    this.#armTimeout();
    this.transport.send({ type: 'load', ...job });
    return outcome;
  }

  /** Gives up on a load in progress (a newer save replaces a slow start): ends it. */
  cancel(reason: string): void {
    if (this.#phase !== 'loading') return;
    this.#failLoad('cancelled', reason);
    void this.kill(reason);
  }

  /** The host retired its epoch: it takes no more input and is on its way out. */
  retire(): void {
    if (this.#phase === 'stopped' || this.#phase === 'retired') return;
    this.#failLoad('cancelled', 'it was retired before it had its state');
    this.#enter('retired');
  }

  /** The renderer it replaced is gone: its sends go straight to the rings from now on. */
  exclusive(): void {
    if (this.alive) this.transport.send({ type: 'exclusive' });
  }

  /** Packages to import ahead, while it waits for a program. */
  preload(urls: readonly string[]): void {
    if (this.alive && urls.length > 0) this.transport.send({ type: 'preload', urls });
  }

  /** Asks it to end, then ends it after `graceMs`; resolves when it is gone. */
  async stop(graceMs: number, reason: string): Promise<RendererExit> {
    // One that already ended on its own was not stopped: its exit is what it did.
    if (this.exit) return this.exit;
    this.stopReason ??= reason;
    this.retire();
    this.transport.terminate();
    const timer = this.#clock.setTimeout(() => this.transport.kill(), graceMs);
    const e = await this.exited;
    this.#clock.clearTimeout(timer);
    return e;
  }

  /** Ends it now; resolves when it is gone. */
  async kill(reason: string): Promise<RendererExit> {
    if (this.exit) return this.exit;
    this.stopReason ??= reason;
    this.transport.kill();
    return this.exited;
  }

  #receive(raw: unknown): void {
    if (!isFromRenderer(raw)) {
      this.malformed++;
      return;
    }
    const m: FromRenderer = raw;
    switch (m.type) {
      case 'warm':
        if (this.#phase === 'booting') this.#enter('standby');
        return;
      case 'layout':
        this.#layout(m.descriptor);
        return;
      case 'ready':
        this.#ready(m.receivedAt, m.evalMs, m.stateMs);
        return;
      case 'frame':
        this.#frameSeen?.(this.#clock.now());
        this.#frameSeen = undefined;
        return;
      case 'failed':
        this.#failLoad(
          'failed',
          m.message,
          m.stage === 'import' || m.stage === 'main' || m.stage === 'state' ? m.stage : 'main',
          m.code,
        );
        return;
      case 'crashed':
        // A thread's uncaught error after it was ready: its exit follows.
        this.#crash = { message: m.message, stack: m.stack };
        return;
    }
  }

  #layout(descriptor: unknown): void {
    if (this.#phase !== 'loading' || !this.#onLayout) return;
    // A migration can take a while (the old renderer is stopped first): its time is not the
    // renderer's, so the start timeout starts again once it is answered.
    this.#clock.clearTimeout(this.#loadTimer);
    void this.#onLayout(descriptor).then(
      (answer) => {
        if (this.#phase !== 'loading') return;
        if ('region' in answer) {
          this.transport.send({ type: 'region', region: answer.region });
          this.#armTimeout();
        } else {
          this.transport.send({ type: 'abort', reason: answer.abort });
          this.#failLoad('refused', answer.abort, 'state');
        }
      },
      (error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.transport.send({ type: 'abort', reason: message });
        this.#failLoad('refused', message, 'state');
      },
    );
  }

  #ready(receivedAt: number, evalMs: number, stateMs: number): void {
    if (this.#phase !== 'loading') return;
    this.#clock.clearTimeout(this.#loadTimer);
    const settle = this.#settleLoad;
    this.#settleLoad = undefined;
    this.#enter('live');
    settle?.({ ok: true, timings: { receivedAt, evalMs, stateMs, readyAt: this.#clock.now() } });
  }

  #armTimeout(): void {
    this.#clock.clearTimeout(this.#loadTimer);
    this.#loadTimer = this.#clock.setTimeout(() => {
      this.#failLoad(
        'timeout',
        `it did not get its state within ${this.#timeoutMs} ms (is its top level or main() stuck in a loop before State.reloadable()?)`,
        'timeout',
      );
    }, this.#timeoutMs);
  }

  #failLoad(
    why: Exclude<LoadOutcome, { ok: true }>['why'],
    message: string,
    stage: RendererStartError['stage'] = why === 'exited' ? 'exit' : 'main',
    code?: string,
  ): void {
    const settle = this.#settleLoad;
    if (!settle) return;
    this.#settleLoad = undefined;
    this.#clock.clearTimeout(this.#loadTimer);
    const detail = why === 'exited' ? lastError(this.transport.stderr) : '';
    const error = new RendererStartError(stage, `${message}${detail}`);
    settle({ ok: false, why, error, ...(code ? { code } : {}) });
  }

  #enter(phase: Phase): void {
    if (PHASES.indexOf(phase) <= PHASES.indexOf(this.#phase)) return;
    this.#phase = phase;
    // Only a loading renderer asks for a migration. The host's callback closes over its
    // hand-over, the renderer it replaced among it: kept, every renderer would hold the one
    // before it, and the owner every renderer it ever ran (26 KB a reload, program text included).
    if (phase !== 'loading') this.#onLayout = undefined;
    // Every waiter for this phase or an earlier one (a standby that died never became live).
    for (const p of PHASES.slice(0, PHASES.indexOf(phase) + 1)) {
      const list = this.#waiting.get(p);
      if (!list) continue;
      this.#waiting.delete(p);
      for (const resolve of list) resolve();
    }
  }
}

/** The last line of stderr that names an error, as ": TypeError: …", or nothing. */
export function lastError(stderr: string): string {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => /^\s*(\w*Error|Uncaught|FATAL)/.test(l));
  return line ? `: ${line.trim()}` : '';
}
