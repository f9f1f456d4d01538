/**
 * `hotshm dev`: one owner process at a time runs the app; an edit of the owner's own code builds
 * it again and starts a new owner, which takes the state over from the old one. This file decides
 * who runs, who hands over to whom, and when the launcher is done. Its parts (the build, the
 * processes, the watcher, the clock) are parameters, so unit tests drive every move with fakes.
 *
 * Owners have one of three roles:
 *   - current: runs the app; its exit ends the launcher, with its exit status.
 *   - next:    started from a newer build, not yet in charge. It becomes current when it has
 *              adopted the state (or learnt there is none to adopt, or defined no state within
 *              `handoverTimeoutMs`). If it exits before, nothing was lost: the current owner still
 *              runs, or, if it had already handed its state over, keeps holding it for the next try.
 *   - old:     asked to release its state; holds its regions until they are adopted, then exits
 *              (stopped after `graceMs` if it does not, or after `holdMs` if what it holds is never
 *              asked for).
 *
 * Which changes restart: a file of the owner's bundle that the renderer does not reload itself.
 * The owner reports its renderer's inputs after each build; a change to one of those (the state
 * definition, say) is the renderer's business. A build that fails keeps the running owner and
 * says where; one whose output is what runs already restarts nothing.
 */
import { relative } from 'node:path';
import { OwnerBuildError } from '../../errors.js';
import { changedSince, type Stamp, stamp } from '../process/builds.js';
import type { OwnerBuild } from './owner-build.js';
import {
  type FromOwner,
  PROTOCOL,
  type ReleasedState,
  type ToOwner,
  type WindowGeometry,
} from './protocol.js';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** An owner process as the launcher sees it. */
export interface OwnerLink {
  readonly pid: number;
  send(message: ToOwner): void;
  onMessage(listener: (message: FromOwner) => void): void;
  readonly exited: Promise<ExitStatus>;
  kill(signal: NodeJS.Signals): void;
}

export interface Watcher {
  update(files: Iterable<string>): void;
  close(): Promise<void>;
}

export interface Clock {
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LauncherOptions {
  /** The owner module (absolute). */
  readonly entry: string;
  build(): Promise<OwnerBuild>;
  /** Starts an owner process running `build`. */
  spawn(build: OwnerBuild): OwnerLink;
  /** Starts watching; `onChange` receives absolute paths. */
  watch(onChange: (path: string) => void): Watcher;
  readonly log: (line: string) => void;
  readonly clock?: Clock;
  /** Paths in messages are shown relative to this folder. Default: the working directory. */
  readonly cwd?: string;
  /** A new owner that defines no state within this long takes over without one. Default 10 s. */
  readonly handoverTimeoutMs?: number;
  /** An old owner whose regions were adopted and who is still there is stopped after this long. Default 2 s. */
  readonly graceMs?: number;
  /** An old owner holding a state nobody asked for is stopped this long after the new one took over. Default 5 s. */
  readonly holdMs?: number;
  /** A failed build is reported once the files have been quiet this long. Default 50 ms. */
  readonly errorQuietMs?: number;
}

type Role = 'current' | 'next' | 'old';

interface Owner {
  readonly link: OwnerLink;
  readonly build: OwnerBuild;
  role: Role;
  readonly startedAt: number;
  /** It asked for a state (`take`): from then on it is taking over and is not replaced. */
  asked: boolean;
  /** Asked to release its state, and has not answered yet. */
  releasing: boolean;
  /** When it is due to be stopped, if it is. */
  stopAt?: number;
  exit: ExitStatus | undefined;
  timers: unknown[];
}

interface Held {
  readonly from: Owner;
  readonly region: string;
  readonly window: WindowGeometry | null;
}

const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class Launcher {
  readonly #o: LauncherOptions;
  readonly #clock: Clock;
  readonly #timing: { handoverTimeoutMs: number; graceMs: number; holdMs: number; quietMs: number };
  #watcher: Watcher | undefined;
  #current: Owner | undefined;
  #next: Owner | undefined;
  readonly #old = new Set<Owner>();
  /** States released by an old owner and not adopted yet, by state name. */
  readonly #held = new Map<string, Held>();
  /** `take`s waiting for the current owner's `released`. */
  #waiting: { owner: Owner; state: string }[] = [];
  /** The renderer reloads these itself: a change to them is not the owner's. */
  #rendererFiles = new Set<string>();
  /** Files the owner's renderer read once and never reloads (a worker's build): the owner's. */
  #ownerExtra = new Set<string>();
  #ownerInputs: readonly string[] = [];
  #building = false;
  #pending: { files: Set<string>; force: string | undefined } | undefined;
  #errorTimer: unknown;
  /** A build that waits for a hand-over under way to finish. */
  #queued: { build: OwnerBuild; why: string } | undefined;
  #restartAt = 0;
  #restartFrom: Owner | undefined;
  #stopping: NodeJS.Signals | undefined;
  #last: ExitStatus | undefined;
  #resolveDone: (status: ExitStatus) => void = () => {};
  /** Resolves with the status the launcher exits with. */
  readonly done: Promise<ExitStatus>;
  #finished = false;

  constructor(options: LauncherOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#timing = {
      handoverTimeoutMs: options.handoverTimeoutMs ?? 10_000,
      graceMs: options.graceMs ?? 2000,
      holdMs: options.holdMs ?? 5000,
      quietMs: options.errorQuietMs ?? 50,
    };
    this.done = new Promise((r) => {
      this.#resolveDone = r;
    });
  }

  /** The owner in charge, if any. */
  get current(): number | undefined {
    return this.#current?.link.pid;
  }

  /** Builds the owner and starts it; a build error is reported and waits for a change. */
  async start(): Promise<void> {
    this.#watcher = this.#o.watch((path) => this.changed(path));
    this.#watcher.update([this.#o.entry]);
    this.#schedule([], undefined);
    await this.#drain();
  }

  /** A watched file changed (or appeared, or went away). */
  changed(path: string): void {
    if (this.#stopping) return;
    if (this.#rendererFiles.has(path) && !this.#ownerExtra.has(path)) return;
    // A renderer built once inside the owner is not in the owner's bundle: the bundle comes out
    // the same, and only a new owner runs the edit.
    this.#schedule([path], this.#ownerExtra.has(path) ? `${this.#shown(path)} changed` : undefined);
  }

  #shown(path: string): string {
    return relative(this.#o.cwd ?? process.cwd(), path) || path;
  }

  /**
   * Ends everything: `signal` goes to every owner (unless `forward` is false: they got it
   * themselves, as a terminal's Ctrl+C reaches its whole foreground process group); `done`
   * resolves once all have exited.
   */
  stop(signal: NodeJS.Signals, forward = true): void {
    const first = this.#stopping === undefined;
    this.#stopping = signal;
    if (first) {
      this.#clock.clearTimeout(this.#errorTimer);
      void this.#watcher?.close();
    }
    if (forward) for (const o of this.#owners()) if (!o.exit) o.link.kill(signal);
    this.#maybeFinish();
  }

  // --- builds ------------------------------------------------------------------------------

  #schedule(files: readonly string[], force: string | undefined): void {
    if (this.#pending) {
      for (const f of files) this.#pending.files.add(f);
      this.#pending.force ??= force;
    } else {
      this.#pending = { files: new Set(files), force };
    }
    this.#clock.clearTimeout(this.#errorTimer);
    if (!this.#building) setImmediate(() => void this.#drain());
  }

  async #drain(): Promise<void> {
    if (this.#building) return;
    this.#building = true;
    try {
      while (this.#pending && !this.#stopping) {
        const change = this.#pending;
        this.#pending = undefined;
        // Stamped before esbuild reads anything: a write after this changes a stamp.
        const stamps = new Map<string, Stamp>();
        for (const f of new Set([this.#o.entry, ...this.#ownerInputs, ...change.files])) {
          stamps.set(f, stamp(f));
        }
        let build: OwnerBuild;
        try {
          build = await this.#o.build();
        } catch (e) {
          if (!(e instanceof OwnerBuildError)) throw e;
          // Caught half-written, or saved again since: the newer save's build says what is true.
          if (!this.#pending && !changedSince(stamps)) this.#reportSoon(e);
          continue;
        }
        this.#ownerInputs = build.inputs;
        this.#watcher?.update([this.#o.entry, ...build.inputs, ...this.#ownerExtra]);
        if (this.#pending || changedSince(stamps)) {
          this.#pending ??= change;
          continue;
        }
        this.#built(build, change.files, change.force);
      }
    } catch (e) {
      this.#o.log(
        `[hotshm] the owner's build failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    } finally {
      this.#building = false;
    }
  }

  #reportSoon(error: OwnerBuildError): void {
    this.#clock.clearTimeout(this.#errorTimer);
    this.#errorTimer = this.#clock.setTimeout(() => {
      if (this.#pending || this.#building || this.#stopping) return;
      const running = this.#next ?? this.#current;
      const then = running
        ? `the running owner (pid ${running.link.pid}) keeps going`
        : 'waiting for a change';
      this.#o.log(
        `[hotshm] the owner does not build (${where(error, this.#o.cwd)}); ${then}:\n${error.messages.join('\n')}`,
      );
    }, this.#timing.quietMs);
  }

  #built(build: OwnerBuild, files: ReadonlySet<string>, force: string | undefined): void {
    const running = this.#next ?? this.#current;
    const why =
      force ?? `${[...files].map((f) => this.#shown(f)).join(', ') || 'the owner'} changed`;
    if (!running) {
      // A first start (said nothing about), or a new try after the owner that was to take over
      // failed (its state still held by the old one).
      this.#begin(build, files.size > 0 || this.#held.size > 0 ? why : undefined);
      return;
    }
    if (build.hash === running.build.hash && force === undefined) return;
    const next = this.#next;
    if (next) {
      if (!next.asked) {
        // Not taking over yet: nothing is lost by replacing it with the newer build.
        this.#retire(next, 'SIGTERM');
      } else {
        this.#queued = { build, why };
        return;
      }
    }
    this.#begin(build, why);
  }

  /** Starts a new owner on `build`; `why` (if any) is said in one line. */
  #begin(build: OwnerBuild, why: string | undefined): void {
    const from = this.#current;
    if (why) {
      const what = from
        ? `restarting the owner (pid ${from.link.pid})`
        : this.#held.size > 0
          ? 'restarting the owner'
          : 'starting the owner';
      this.#o.log(`[hotshm] ${why}: ${what}`);
    }
    let link: OwnerLink;
    try {
      link = this.#o.spawn(build);
    } catch (e) {
      this.#o.log(`[hotshm] could not start the owner: ${(e as Error).message}`);
      return;
    }
    const owner: Owner = {
      link,
      build,
      role: from || this.#held.size > 0 ? 'next' : 'current',
      startedAt: this.#clock.now(),
      asked: false,
      releasing: false,
      exit: undefined,
      timers: [],
    };
    this.#restartAt = owner.startedAt;
    this.#restartFrom = from;
    // Nothing is said about a first start: an owner that draws in the terminal owns the screen.
    if (owner.role === 'current') this.#current = owner;
    else {
      this.#next = owner;
      owner.timers.push(
        this.#clock.setTimeout(() => {
          if (this.#next !== owner || owner.asked) return;
          this.#o.log(
            `[hotshm] the new owner (pid ${link.pid}) defined no state within ${this.#timing.handoverTimeoutMs} ms: it takes over without one`,
          );
          this.#promote(owner, undefined);
        }, this.#timing.handoverTimeoutMs),
      );
    }
    link.onMessage((m) => this.#onMessage(owner, m));
    void link.exited.then((status) => this.#onExit(owner, status));
  }

  // --- messages ----------------------------------------------------------------------------

  #onMessage(o: Owner, m: FromOwner): void {
    if (o.exit) return;
    switch (m.type) {
      case 'inputs':
        if (o.role === 'old') return;
        this.#rendererInputs(m.files, m.reloads);
        return;
      case 'take':
        this.#take(o, m.state);
        return;
      case 'released':
        this.#released(o, m.states);
        return;
      case 'adopted':
        this.#adopted(o, m.state, m.from, m.summary);
        return;
      case 'restart':
        if (o !== this.#current || this.#stopping) return;
        this.#schedule([], `the owner asked for a restart (${m.reason})`);
        return;
      case 'window':
        // The new window is up where the old one is: the old one may go now, not before.
        if (o.role === 'old') return;
        for (const old of this.#old) {
          if (old.exit) continue;
          old.link.send({ hotshm: PROTOCOL, type: 'close-windows' });
          if (![...this.#held.values()].some((h) => h.from === old)) {
            this.#stopSoon(old, this.#timing.graceMs);
          }
        }
        return;
    }
  }

  #rendererInputs(files: readonly string[], reloads: boolean): void {
    if (reloads) {
      this.#rendererFiles = new Set(files);
      this.#ownerExtra = new Set();
    } else {
      this.#ownerExtra = new Set(files);
      this.#rendererFiles = new Set();
    }
    this.#watcher?.update([this.#o.entry, ...this.#ownerInputs, ...this.#ownerExtra]);
  }

  #take(o: Owner, state: string): void {
    o.asked = true;
    const held = this.#held.get(state);
    const current = this.#current;
    if (o.role === 'old') this.#give(o, state, undefined);
    else if (held) this.#give(o, state, held);
    else if (current && current !== o && !current.asked) {
      // It never asked for a state, so it holds none (and may not listen yet): it just goes.
      this.#current = undefined;
      current.role = 'old';
      this.#old.add(current);
      this.#give(o, state, undefined);
      this.#stopSoon(current, 0);
    } else if (current && current !== o) {
      // The current owner lets go of everything at once: it stops its renderers and windows and
      // answers with its regions. From here the new owner is the one that counts.
      this.#waiting.push({ owner: o, state });
      this.#current = undefined;
      current.role = 'old';
      current.releasing = true;
      this.#old.add(current);
      current.link.send({ hotshm: PROTOCOL, type: 'release' });
    } else if ([...this.#old].some((old) => old.releasing)) {
      this.#waiting.push({ owner: o, state });
    } else this.#give(o, state, undefined);
  }

  #released(o: Owner, states: readonly ReleasedState[]): void {
    o.releasing = false;
    for (const s of states) {
      this.#held.set(s.state, { from: o, region: s.region, window: s.window });
    }
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) this.#give(w.owner, w.state, this.#held.get(w.state));
    if (states.length === 0) this.#stopSoon(o, this.#timing.graceMs);
  }

  #give(o: Owner, state: string, held: Held | undefined): void {
    o.link.send({
      hotshm: PROTOCOL,
      type: 'give',
      state,
      region: held?.region ?? null,
      window: held?.window ?? null,
    });
    if (!held && o === this.#next) this.#promote(o, undefined);
  }

  #adopted(o: Owner, state: string, from: string, summary: string): void {
    const held = this.#held.get(state);
    if (held && held.region === from) {
      this.#held.delete(state);
      held.from.link.send({ hotshm: PROTOCOL, type: 'adopted', region: from });
      // Its windows wait for the new owner's (which comes once its renderer runs): it has until
      // then, or `holdMs`, to be gone; without a window, `graceMs`.
      if (![...this.#held.values()].some((h) => h.from === held.from)) {
        this.#stopSoon(held.from, held.window ? this.#timing.holdMs : this.#timing.graceMs);
      }
    }
    if (o === this.#next) this.#promote(o, `state ${state} ${summary}`);
  }

  /** `o` is in charge from now on. */
  #promote(o: Owner, carried: string | undefined): void {
    const previous = this.#current;
    this.#next = undefined;
    this.#current = o;
    o.role = 'current';
    const from = this.#restartFrom;
    const ms = this.#clock.now() - this.#restartAt;
    this.#o.log(
      `[hotshm] owner restarted in ${ms.toFixed(0)} ms (pid ${from ? `${from.link.pid} → ` : ''}${o.link.pid})${carried ? `; ${carried}` : ''}`,
    );
    // A state-less owner took over by timeout: the one it replaces never released anything.
    if (previous && previous !== o) {
      previous.role = 'old';
      this.#old.add(previous);
      this.#stopSoon(previous, 0);
    }
    // Whatever old owners still hold after this long was not asked for.
    for (const old of this.#old) this.#stopSoon(old, this.#timing.holdMs);
    const queued = this.#queued;
    this.#queued = undefined;
    if (queued && queued.build.hash !== o.build.hash) this.#begin(queued.build, queued.why);
  }

  // --- exits -------------------------------------------------------------------------------

  #onExit(o: Owner, status: ExitStatus): void {
    o.exit = status;
    for (const t of o.timers) this.#clock.clearTimeout(t);
    this.#old.delete(o);
    for (const [state, h] of this.#held) if (h.from === o) this.#held.delete(state);
    this.#waiting = this.#waiting.filter((w) => w.owner !== o);
    if (o === this.#current) {
      this.#current = undefined;
      this.#last = status;
      if (!this.#stopping) {
        // The app ended (its window closed, an error): so does the launcher, with its status.
        this.#stopping = status.signal ?? 'SIGTERM';
        this.#clock.clearTimeout(this.#errorTimer);
        void this.#watcher?.close();
        for (const other of this.#owners()) if (!other.exit) other.link.kill('SIGTERM');
      }
    } else if (o === this.#next) {
      this.#next = undefined;
      if (!this.#stopping) {
        const holder = [...this.#held.values()][0]?.from;
        const then = this.#current
          ? `the running owner (pid ${this.#current.link.pid}) keeps going`
          : holder
            ? `its state stays with pid ${holder.link.pid} until the next start; save to try again`
            : 'save to try again';
        this.#o.log(
          `[hotshm] the new owner (pid ${o.link.pid}) exited (${describe(status)}) before it took over; ${then}`,
        );
        // Answer what still waits for the old owner's release with nothing: no one is asking.
        const queued = this.#queued;
        this.#queued = undefined;
        if (queued) this.#begin(queued.build, queued.why);
      }
    } else if (o.releasing && !this.#stopping) {
      // It exited before answering `release`: whoever waited starts afresh.
      o.releasing = false;
      const waiting = this.#waiting;
      this.#waiting = [];
      for (const w of waiting) this.#give(w.owner, w.state, this.#held.get(w.state));
    }
    this.#maybeFinish();
  }

  /** SIGTERM `o` in `ms` (unless an earlier stop is due already), SIGKILL 3 s after that. */
  #stopSoon(o: Owner, ms: number): void {
    const at = this.#clock.now() + Math.max(0, ms);
    if (o.exit || (o.stopAt !== undefined && o.stopAt <= at)) return;
    o.stopAt = at;
    const term = (): void => {
      if (o.exit || o.stopAt !== at) return;
      o.link.kill('SIGTERM');
      o.timers.push(this.#clock.setTimeout(() => o.exit || o.link.kill('SIGKILL'), 3000));
    };
    if (ms <= 0) term();
    else o.timers.push(this.#clock.setTimeout(term, ms));
  }

  #retire(o: Owner, signal: NodeJS.Signals): void {
    if (this.#next === o) this.#next = undefined;
    o.role = 'old';
    this.#old.add(o);
    o.link.kill(signal);
  }

  #owners(): Owner[] {
    return [this.#current, this.#next, ...this.#old].filter((o): o is Owner => o !== undefined);
  }

  #maybeFinish(): void {
    if (this.#finished || !this.#stopping) return;
    if (this.#owners().some((o) => !o.exit)) return;
    this.#finished = true;
    this.#resolveDone(this.#last ?? { code: null, signal: this.#stopping });
  }
}

/** Where a build error points, relative to `cwd`: `src/app.ts:3:7`. */
export function where(error: OwnerBuildError, cwd = process.cwd()): string {
  const at = error.locations[0] ?? '(no location)';
  return at.startsWith('/') || /^[a-z]:[\\/]/i.test(at) ? relative(cwd, at) || at : at;
}

export function describe(status: ExitStatus): string {
  return status.signal ? `signal ${status.signal}` : `code ${status.code}`;
}
