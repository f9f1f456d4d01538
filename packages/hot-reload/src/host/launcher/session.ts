/**
 * The owner's side of the launcher: what `State.owner()` and the window module do differently
 * when `hotshm dev` or `hotshm start` started this process. Outside a launcher `launcherSession()`
 * is undefined and nothing here runs.
 *
 * - The mode: `hotshm start` runs without hot reload, `hotshm dev` with it (an explicit `hot`
 *   option in the owner's code wins; that is owner.ts's call).
 * - The renderer's inputs go to the launcher after each build, so it restarts the owner only for
 *   files that are the owner's alone (the state definition is the renderer's to reload).
 * - A restart, seen from the old owner: on `release` it stops its renderers, notes where its
 *   windows are, and answers with its regions, which stay mapped; the windows keep showing their
 *   last frame until the new owner's window is up (`close-windows`), so the screen never goes
 *   blank. Its `state.close()` waits until the new owner has adopted the region (so the region
 *   outlives the hand-over whatever the app does once its window closed); then the region is
 *   unlinked.
 * - Seen from the new owner: `State.owner()` creates its fresh region, asks for the old one,
 *   adopts it (the state layer carries every value, migrating if the layout changed), says so, and
 *   only then starts its renderer; its window opens where the old one was (`windowHandover`) and
 *   says so, and the old one closes.
 *
 * The session lives under a global key: the window module and the owner's entry may come from
 * two copies of this library in one process (a bundled owner), and must see one session.
 */
import type { Region } from '../../memory/index.js';
import type { RendererHost } from '../events.js';
import {
  type FromOwner,
  isToOwner,
  LAUNCH_KEY,
  type LaunchInfo,
  type LaunchMode,
  PROTOCOL,
  type ReleasedState,
  type ToOwner,
  type WindowGeometry,
} from './protocol.js';

/** The owner's side of one state, as much of it as the launcher needs. */
export interface Adoptable {
  readonly region: Region;
  /**
   * Carries everything from another owner's region into this one (the state layer's; a library
   * without it starts fresh). Returns a report whose `summary` is one line.
   */
  adopt?(regionName: string): unknown;
}

export interface JoinOptions {
  /** The state definition's name: what a restarted owner asks for. */
  readonly state: string;
  readonly owned: Adoptable;
  /** Its renderer host, not started yet: its renderer must start on the adopted values. */
  readonly host: Pick<RendererHost, 'on' | 'close'>;
}

export interface StateLink {
  /**
   * Resolves when the region may be unlinked and closed: at once, or, once this owner has handed
   * it over, when the new owner has adopted it (or the launcher is gone).
   */
  released(): Promise<void>;
}

/** A window on a state, as a restart needs it. */
export interface WindowHandle {
  geometry(): WindowGeometry | undefined;
  close(): unknown;
}

export interface WindowHandover {
  /** Where the previous owner's window on this state was (undefined on a first start). */
  readonly restore: WindowGeometry | undefined;
  /** Lets a restart take this window down after noting where it is. Returns a disposer. */
  register(window: WindowHandle): () => void;
}

export interface LauncherSession {
  readonly mode: LaunchMode;
  /** The hot-reload default: on under `hotshm dev`, off under `hotshm start`. */
  readonly hot: boolean;
  /** Takes the previous owner's region for this state, if there is one, and links the two. */
  join(options: JoinOptions): Promise<StateLink>;
  windowHandover(regionName: string): WindowHandover;
}

const SESSION_KEY: unique symbol = Symbol.for('hotshm.launcher.session') as never;

/** This process's session with the launcher that started it, if one did. */
export function launcherSession(): LauncherSession | undefined {
  const g = globalThis as Record<symbol, unknown>;
  const existing = g[SESSION_KEY] as LauncherSession | undefined;
  if (existing) return existing;
  const info = g[LAUNCH_KEY] as LaunchInfo | undefined;
  if (!info || info.protocol !== PROTOCOL) return undefined;
  const channel = info.ipc && typeof process.send === 'function' ? processChannel() : undefined;
  const session = new Session(info.mode, channel);
  g[SESSION_KEY] = session;
  return session;
}

/** For the window module: the restart hooks of the state whose region is `regionName`. */
export function windowHandover(regionName: string): WindowHandover | undefined {
  return launcherSession()?.windowHandover(regionName);
}

/** How the session talks to the launcher (the process's IPC channel; a fake in tests). */
export interface SessionChannel {
  send(message: FromOwner): void;
  onMessage(listener: (message: ToOwner) => void): void;
  /** The launcher is gone. */
  onDisconnect(listener: () => void): void;
  /** Whether the channel keeps this process alive (while an answer or an adoption is due). */
  hold(on: boolean): void;
}

function processChannel(): SessionChannel {
  const channel = process.channel;
  // Listening refs the channel; an owner whose work is done must still be free to exit.
  const settle = (on: boolean): void => {
    if (on) channel?.ref();
    else channel?.unref();
  };
  return {
    send: (m) => {
      if (process.connected) process.send?.(m);
    },
    onMessage: (listener) => {
      process.on('message', (m: unknown) => {
        if (isToOwner(m)) listener(m);
      });
      settle(false);
    },
    onDisconnect: (listener) => {
      process.once('disconnect', listener);
      settle(false);
    },
    hold: settle,
  };
}

interface Linked {
  readonly state: string;
  /** Read when needed: a migration moves the state to a new region. */
  readonly owned: Adoptable;
  readonly host: Pick<RendererHost, 'close'>;
  /** Where the predecessor's window on this state was. */
  restore?: WindowGeometry;
  readonly windows: Set<WindowHandle>;
  /** Set once it was handed over; resolved when the new owner has adopted it. */
  handedOver?: { promise: Promise<void>; resolve: () => void };
}

export class Session implements LauncherSession {
  readonly mode: LaunchMode;
  readonly #channel: SessionChannel | undefined;
  readonly #links = new Set<Linked>();
  /** Links handed over, whose windows stay until the new owner's window is up. */
  readonly #handedOver = new Set<Linked>();
  readonly #gives = new Map<string, (m: Extract<ToOwner, { type: 'give' }>) => void>();
  /** Reasons this process must stay alive for the launcher (an answer, an adoption). */
  #holds = 0;
  #released = false;
  /** The hold the release took, until every region it handed over has been adopted. */
  #releaseHeld = false;
  #gone = false;

  constructor(mode: LaunchMode, channel: SessionChannel | undefined) {
    this.mode = mode;
    this.#channel = channel;
    channel?.onMessage((m) => this.#onMessage(m));
    channel?.onDisconnect(() => this.#onDisconnect());
  }

  get hot(): boolean {
    return this.mode === 'dev';
  }

  async join(options: JoinOptions): Promise<StateLink> {
    const { state, owned, host } = options;
    const link: Linked = { state, owned, host, windows: new Set() };
    const channel = this.#channel;
    if (!channel || this.#gone) return { released: () => Promise.resolve() };
    this.#links.add(link);
    host.on('inputs', (e) => channel.send({ hotshm: PROTOCOL, type: 'inputs', ...e }));
    host.on('layout-change', (e) =>
      channel.send({ hotshm: PROTOCOL, type: 'restart', reason: e.message }),
    );
    const give = await this.#ask(state);
    if (give.region !== null) await this.#adopt(link, owned, give.region, give.window);
    return {
      released: () => {
        // A region handed over stays linked until it is adopted (then #onAdopted unlinks it).
        if (link.handedOver) return link.handedOver.promise;
        this.#links.delete(link);
        return Promise.resolve();
      },
    };
  }

  windowHandover(regionName: string): WindowHandover {
    // Bound to the state now: a later migration gives it another region name.
    const link = [...this.#links].find((l) => l.owned.region.name === regionName);
    return {
      restore: link?.restore,
      register: (window) => {
        link?.windows.add(window);
        if (link) this.#channel?.send({ hotshm: PROTOCOL, type: 'window', state: link.state });
        return () => void link?.windows.delete(window);
      },
    };
  }

  /** Asks the launcher for the predecessor's region of `state`; null when there is none. */
  #ask(state: string): Promise<Extract<ToOwner, { type: 'give' }>> {
    const none = { hotshm: PROTOCOL, type: 'give', state, region: null, window: null } as const;
    if (this.#gone || this.#released) return Promise.resolve(none);
    return new Promise((resolve) => {
      // Until the answer comes nothing else may keep the process alive: the renderer and the
      // window start after it.
      this.#hold(1);
      this.#gives.set(state, (m) => {
        this.#gives.delete(state);
        this.#hold(-1);
        resolve(m);
      });
      this.#channel?.send({ hotshm: PROTOCOL, type: 'take', state });
    });
  }

  async #adopt(
    link: Linked,
    owned: Adoptable,
    from: string,
    window: WindowGeometry | null,
  ): Promise<void> {
    let ok = false;
    let summary: string;
    if (typeof owned.adopt !== 'function') {
      summary = `not carried: this build of @hotshm/hot-reload cannot adopt a region (${from} is dropped)`;
    } else {
      try {
        const report = (await owned.adopt(from)) as { summary?: unknown } | undefined;
        ok = true;
        summary = typeof report?.summary === 'string' ? report.summary : `carried from ${from}`;
      } catch (e) {
        summary = `not carried: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (window) link.restore = window;
    // The launcher says it, in its one line about the restart.
    this.#channel?.send({
      hotshm: PROTOCOL,
      type: 'adopted',
      state: link.state,
      from,
      ok,
      summary,
    });
  }

  #onMessage(m: ToOwner): void {
    if (m.type === 'give') this.#gives.get(m.state)?.(m);
    else if (m.type === 'release') void this.#release();
    else if (m.type === 'close-windows') void this.#closeWindows();
    else this.#onAdopted(m.region);
  }

  /** Closes the windows of the states this owner handed over (the app's code goes on from there). */
  async #closeWindows(): Promise<void> {
    for (const link of [...this.#links, ...this.#handedOver]) {
      const windows = [...link.windows];
      link.windows.clear();
      for (const w of windows) await Promise.resolve(attempt(() => w.close())).catch(() => {});
    }
  }

  /** Stops renderers, keeps the regions and the windows' last frames, and says which they are. */
  async #release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    // Alive until every region has been adopted (or the launcher says nothing more).
    this.#hold(1);
    this.#releaseHeld = true;
    const links = [...this.#links];
    const states: ReleasedState[] = [];
    for (const link of links) {
      link.handedOver = withResolvers();
      await link.host.close('handed over to a new owner').catch(() => {});
      let window: WindowGeometry | null = null;
      for (const w of link.windows) window ??= attempt(() => w.geometry()) ?? null;
      this.#handedOver.add(link);
      states.push({ state: link.state, region: link.owned.region.name, window });
    }
    this.#channel?.send({ hotshm: PROTOCOL, type: 'released', states });
    if (links.length === 0) this.#letGo();
  }

  /** Nothing handed over is waiting any more: the process may end when its work does. */
  #letGo(): void {
    if (!this.#releaseHeld) return;
    this.#releaseHeld = false;
    this.#hold(-1);
  }

  #onAdopted(regionName: string): void {
    for (const link of this.#links) {
      if (link.owned.region.name !== regionName || !link.handedOver) continue;
      // The name goes now; the mapping stays until the app closes the state, since its code may
      // still read the fields (a frame loop that has not noticed yet).
      attempt(() => link.owned.region.unlink());
      link.handedOver.resolve();
      this.#links.delete(link);
    }
    if (![...this.#links].some((l) => l.handedOver)) this.#letGo();
  }

  #onDisconnect(): void {
    this.#gone = true;
    for (const [state, give] of [...this.#gives]) {
      give({ hotshm: PROTOCOL, type: 'give', state, region: null, window: null });
    }
    for (const link of this.#links) link.handedOver?.resolve();
  }

  #hold(delta: number): void {
    const before = this.#holds;
    this.#holds = Math.max(0, this.#holds + delta);
    if ((before === 0) !== (this.#holds === 0)) this.#channel?.hold(this.#holds > 0);
  }
}

function attempt<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
