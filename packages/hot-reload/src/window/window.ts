/**
 * `openWindow(state, options)`: a window on an owner's state. Each tick of its frame loop polls
 * input and forwards it into the app's input channel, takes titles from the app's title channel,
 * asks the state to resize when the user resized the window, and hands the back end the front
 * buffer's address (no copy in JavaScript) — only when a new frame arrived, so a static picture
 * costs the owner next to nothing. While a build is broken or the renderer crashed (the state
 * host's events), the title says so and a red border is drawn over the picture.
 *
 * Nothing in a tick ends the loop or the process: each step's failure is reported once (through
 * `onError`, by default one log line) and the loop goes on. The window closes when the user closes
 * it (the close button, Escape) or the app calls `close()`.
 */
import { InvalidArgumentError } from '../errors.js';
import type { FrontFrame, PixelFormat } from '../frames/index.js';
import type { HostEvents, RendererHost } from '../host/events.js';
import { windowHandover } from '../host/launcher/index.js';
import { type CapturedOutput, captureOutput } from './capture.js';
import { FrameStage, WindowFrameError } from './errors.js';
import { type InputEvent, InputKind, Key } from './input.js';
import { openBackend } from './open.js';
import { Pacer, type Pacing, STALLED_MS } from './pacer.js';
import { nextProblem, PROBLEM_EVENTS, type ProblemEvent } from './problem.js';
import type { Backend, BackendName, Frame, Overlay, WindowGeometry } from './types.js';

/** What the window shows: a framebuffer field of the state (`FrameBuffer` is one). */
export interface FrameSource {
  readonly width: number;
  readonly height: number;
  /** The pixels' format (a `FrameBuffer` says); `argb8888` when absent. */
  readonly format?: PixelFormat;
  acquireFront(): FrontFrame | null;
  releaseFront(): void;
}

/** Where input goes: a channel of `InputEvent`. */
export interface InputSink {
  trySend(event: InputEvent): boolean;
}

/** Where titles come from: a channel of strings (a `fixedString`). */
export interface TitleSource {
  drain(): readonly string[];
}

export interface WindowSize {
  readonly width: number;
  readonly height: number;
}

/** The names of the fields of `S` whose value is a `T`. */
export type FieldOf<S, T> = { [K in keyof S]-?: S[K] extends T ? K : never }[keyof S] & string;

/** The arguments `state.resize` takes (or, before it exists, those the state was made with). */
export type ArgsOf<S> = S extends { resize(args: infer A): Promise<unknown> }
  ? A
  : S extends { readonly args: infer A }
    ? A
    : never;

export interface WindowOptions<S> {
  /** The title, until the app's title channel sends one. Default 'hotshm'. */
  readonly title?: string;
  /** The framebuffer field to show. Default 'framebuffer'. */
  readonly framebuffer?: FieldOf<S, FrameSource>;
  /** The channel input events go to; none: input is not forwarded. */
  readonly input?: FieldOf<S, InputSink>;
  /** The channel the title comes from; each message replaces the title. */
  readonly titles?: FieldOf<S, TitleSource>;
  /**
   * Makes the window resizable: once the user stops resizing (`resizeDebounceMs`), the state is
   * resized to the drawable's size in pixels through `state.resize(args)`. A function maps the
   * size to the state's arguments; `true` means `{ ...state.args, width, height }`.
   */
  readonly resize?: boolean | ((size: WindowSize) => ArgsOf<S>);
  /** Default 150 ms. */
  readonly resizeDebounceMs?: number;
  /** A back end to try first (HOTSHM_BACKEND still wins), or one already open (tests). */
  readonly backend?: BackendName | Backend;
  /** Where the window opens (screen coordinates); centred when absent. */
  readonly position?: { readonly x: number; readonly y: number };
  /** Its size in screen coordinates; default the framebuffer's size. */
  readonly size?: WindowSize;
  /** Pace frames by the display's vertical blank where SDL can. Default true. */
  readonly vsync?: boolean;
  /** A drawable at the screen's pixel density. Default true. */
  readonly highDpi?: boolean;
  /** ARGB of the border drawn while something is wrong. Default 0xffe01b24. */
  readonly errorBorder?: number;
  /** The title shown, from the app's title and what is wrong (if anything). */
  readonly formatTitle?: (title: string, problem: string | undefined) => string;
  /** Sees each event before it is forwarded; return false to keep it from the channel. */
  readonly onInput?: (event: InputEvent) => boolean | undefined;
  /** A frame step failed (reported once per kind of failure). Default: one line to `log`. */
  readonly onError?: (error: WindowFrameError) => void;
  /** Where the window's notes go. Default stderr. */
  readonly log?: (line: string) => void;
  /**
   * With the terminal back end, stdout and stderr go to this file while the window shows
   * (default `<tmpdir>/hotshm-<pid>.log`); false keeps them on the terminal.
   */
  readonly terminalLog?: string | false;
}

export type WindowCloseReason = 'user' | 'app';

export interface WindowStats {
  /** Ticks of the frame loop. */
  readonly frames: number;
  /** Frames handed to the back end (new frames only). */
  readonly uploads: number;
  /** The owner's own work per tick (poll to upload, without the present), latest last. */
  readonly workMs: readonly number[];
  /** Frame steps that failed (each kind reported once). */
  readonly failures: number;
  /** `state.resize` calls that resolved. */
  readonly resizes: number;
  /** Input events the channel had no room for. */
  readonly droppedInput: number;
  /** What paces the frames: the display's vertical blank, or timers. */
  readonly pacing: Pacing;
  /** The tick period at the full rate (the display's refresh period). */
  readonly periodMs: number;
  /** Nothing happened for a while: the loop ticks at its idle rate. */
  readonly idle: boolean;
}

export interface Window {
  readonly backend: Backend;
  /** Why the preferred back end was not used, if it was not (also logged). */
  readonly note: string | undefined;
  /** The terminal back end's log file, while the window shows. */
  readonly logFile: string | undefined;
  /** Resolves once the window closed: 'user' (close button, Escape) or 'app' (`close()`). */
  readonly closed: Promise<WindowCloseReason>;
  /** Closes the window (idempotent). The state stays: close it after. */
  close(): Promise<void>;
  /** Replaces the title (as a message on the title channel does). */
  setTitle(title: string): void;
  stats(): WindowStats;
  /** Where the window is and how big: what `position` and `size` reopen it at. */
  geometry(): WindowGeometry;
}

const DEFAULT_TITLE = 'hotshm';
const ERROR_BORDER = 0xffe01b24;
const RESIZE_DEBOUNCE_MS = 150;
const WORK_SAMPLES = 10_000;
const NO_OVERLAY: Overlay = {};

/**
 * Opens a window on an owner's state and runs its frame loop until the window closes.
 *
 * @example
 * const state = await State.owner({ width: 300, height: 300 });
 * const window = await openWindow(state, { title: 'Demo', input: 'input', titles: 'titles' });
 * await window.closed;
 * await state.close();
 */
export async function openWindow<S extends object>(
  state: S,
  options: WindowOptions<S> = {},
): Promise<Window> {
  const fields = state as Record<string, unknown>;
  const fbName = options.framebuffer ?? 'framebuffer';
  const fb = fields[fbName];
  if (!isFrameSource(fb)) {
    throw new InvalidArgumentError(
      `openWindow: expected state.${fbName} to be a framebuffer, got ${describe(fb)}`,
    );
  }
  const input = options.input === undefined ? undefined : fields[options.input];
  if (options.input !== undefined && !hasMethod(input, 'trySend')) {
    throw new InvalidArgumentError(
      `openWindow: options.input: expected the name of a channel of InputEvent, got state.${options.input} = ${describe(input)}`,
    );
  }
  const titles = options.titles === undefined ? undefined : fields[options.titles];
  if (options.titles !== undefined && !hasMethod(titles, 'drain')) {
    throw new InvalidArgumentError(
      `openWindow: options.titles: expected the name of a channel of strings, got state.${options.titles} = ${describe(titles)}`,
    );
  }
  const toArgs = resizeMapping(state, options.resize);
  // An owner restarted by `hotshm dev` reopens the window where its predecessor's was.
  const handover = windowHandover((state as { region?: { name?: string } }).region?.name ?? '');
  const restore = handover?.restore;
  const size = options.size ?? restore ?? { width: fb.width, height: fb.height };
  const position = options.position ?? restore;
  const title = options.title ?? DEFAULT_TITLE;

  let backend: Backend;
  let note: string | undefined;
  if (typeof options.backend === 'object') {
    backend = options.backend;
  } else {
    const opened = await openBackend({
      width: size.width,
      height: size.height,
      title,
      ...(options.backend ? { prefer: options.backend } : {}),
      ...(position ? { x: position.x, y: position.y } : {}),
      resizable: toArgs !== undefined,
      vsync: options.vsync ?? true,
      highDpi: options.highDpi ?? true,
    });
    backend = opened.backend;
    note = opened.note;
  }
  // From here the back end is open: nothing may throw before the loop owns it.
  const window = new FrameLoop(state, backend, note, {
    title,
    framebuffer: fbName,
    sink: input as InputSink | undefined,
    titleSource: titles as TitleSource | undefined,
    toArgs,
    resizeDebounceMs: options.resizeDebounceMs ?? RESIZE_DEBOUNCE_MS,
    errorBorder: options.errorBorder ?? ERROR_BORDER,
    formatTitle: options.formatTitle,
    onInput: options.onInput,
    onError: options.onError,
    log: options.log ?? ((line) => void process.stderr.write(`${line}\n`)),
    terminalLog: options.terminalLog,
  }).window;
  // A restart takes the window down, after noting where it is.
  const unregister = handover?.register({
    geometry: () => window.geometry(),
    close: () => window.close(),
  });
  if (unregister) void window.closed.then(unregister);
  return window;
}

/** What the frame loop reads, defaults applied. */
interface LoopOptions {
  readonly title: string;
  readonly framebuffer: string;
  readonly sink: InputSink | undefined;
  readonly titleSource: TitleSource | undefined;
  readonly toArgs: ((size: WindowSize) => unknown) | undefined;
  readonly resizeDebounceMs: number;
  readonly errorBorder: number;
  readonly formatTitle: ((title: string, problem: string | undefined) => string) | undefined;
  readonly onInput: ((event: InputEvent) => boolean | undefined) | undefined;
  readonly onError: ((error: WindowFrameError) => void) | undefined;
  readonly log: (line: string) => void;
  readonly terminalLog: string | false | undefined;
}

/** One listener per host event the window follows; its payload is typed by nextProblem. */
type HostListeners = Partial<Record<ProblemEvent, (payload: never) => void>>;

class FrameLoop {
  readonly window: Window;
  readonly #state: Record<string, unknown>;
  readonly #backend: Backend;
  readonly #options: LoopOptions;
  readonly #log: (line: string) => void;
  readonly #pacer: Pacer;
  readonly #border: Overlay;
  readonly #host: Pick<RendererHost, 'on' | 'off'> | undefined;
  readonly #listeners: HostListeners;
  #capture: CapturedOutput | undefined;
  #geometry: WindowGeometry | undefined;
  readonly #reported = new Set<string>();
  readonly #workMs: number[] = [];
  readonly #closed: Promise<WindowCloseReason>;
  #resolveClosed: (reason: WindowCloseReason) => void = () => {};

  #title: string;
  #problem: string | undefined;
  #shownTitle = '';
  // The frame last handed to the back end: a front with the same address and number is the same.
  #lastAddress = -1n;
  #lastFrame = -1;
  #lastWidth = 0;
  #lastHeight = 0;
  #pendingSize: WindowSize | undefined;
  #pendingSince = 0;
  #resizing = false;
  #queueFull = false;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #vsyncStopped = false;
  #stalls = 0;

  #frames = 0;
  #uploads = 0;
  #failures = 0;
  #resizes = 0;
  #dropped = 0;

  constructor(state: object, backend: Backend, note: string | undefined, options: LoopOptions) {
    this.#state = state as Record<string, unknown>;
    this.#backend = backend;
    this.#options = options;
    // The app's log must not throw into the frame loop either.
    this.#log = (line) => {
      try {
        options.log(line);
      } catch {
        // nowhere left to say it
      }
    };
    this.#title = options.title;
    this.#border = { border: options.errorBorder };
    this.#pacer = new Pacer(performance.now(), {
      refreshHz: backend.refreshHz,
      vsync: backend.vsync,
    });
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    // The terminal is the picture now: what the process prints goes to a file until the close
    // (the note too: on the terminal it would scroll the picture).
    if (backend.name === 'terminal' && options.terminalLog !== false) {
      try {
        this.#capture = captureOutput(options.terminalLog);
      } catch (error) {
        this.#log(`hotshm: output stays on the terminal: ${(error as Error).message}`);
      }
    }
    if (note) this.#log(`hotshm: ${note}`);

    const host = (state as { host?: unknown }).host;
    this.#host =
      hasMethod(host, 'on') && hasMethod(host, 'off') ? (host as RendererHost) : undefined;
    this.#listeners = this.#hostListeners();
    for (const [event, listener] of Object.entries(this.#listeners)) {
      this.#host?.on(event as keyof HostEvents, listener as never);
    }

    if (options.toArgs !== undefined) {
      // A high-DPI drawable (or a window opened at another size) wants another framebuffer at once.
      this.#pendingSize = pixelSize(backend.geometry());
      this.#pendingSince = Number.NEGATIVE_INFINITY;
    }
    this.window = {
      backend,
      note,
      logFile: this.#capture?.path,
      closed: this.#closed,
      close: () => this.#close('app'),
      setTitle: (t) => {
        this.#title = String(t);
        this.#showTitle();
      },
      stats: () => this.#stats(),
      // After the close, where the window was when it closed (to reopen it there).
      geometry: () => this.#geometry ?? backend.geometry(),
    };
    this.#showTitle();
    this.#tick();
  }

  readonly #tickBound = (): void => this.#tick();

  #tick(): void {
    this.#timer = undefined;
    if (this.#closing) return;
    const backend = this.#backend;
    const t0 = performance.now();
    let present: { start: number; end: number } | undefined;
    let quit = false;
    let active = false;
    try {
      let redraw = false;
      try {
        const polled = backend.poll();
        quit = polled.quit;
        redraw = polled.redraw;
        active = polled.events.length > 0 || polled.resized || redraw;
        if (polled.resized && this.#options.toArgs !== undefined) {
          this.#pendingSize = pixelSize(backend.geometry());
          this.#pendingSince = t0;
        }
        for (const event of polled.events) this.#forward(event);
      } catch (error) {
        this.#report(FrameStage.Poll, error);
      }
      this.#takeTitles();
      this.#maybeResize(t0);
      if (this.#upload(redraw)) active = true;
      if (this.#pendingSize !== undefined || this.#resizing) active = true;
      this.#workMs.push(performance.now() - t0);
      if (this.#workMs.length > WORK_SAMPLES) this.#workMs.splice(0, WORK_SAMPLES / 2);
      try {
        const start = performance.now();
        if (backend.flip()) present = { start, end: performance.now() };
      } catch (error) {
        this.#report(FrameStage.Present, error);
      }
      if (present !== undefined && backend.vsync && !this.#vsyncStopped) {
        // Twice in a row: one long present can be the machine, not the display.
        const waited = present.end - present.start;
        this.#stalls = waited > STALLED_MS ? this.#stalls + 1 : 0;
        if (this.#stalls >= 2) this.#stopVsync(waited);
      }
      this.#frames++;
    } catch (error) {
      this.#report(FrameStage.Loop, error);
    } finally {
      // Whatever failed above, the loop goes on: only a close stops it.
      if (quit) void this.#close('user');
      else if (!this.#closing) {
        const delay = this.#pacer.next(performance.now(), present, active);
        this.#timer = setTimeout(this.#tickBound, delay);
      }
    }
  }

  #forward(event: InputEvent): void {
    // Escape closes the window (the back end reported quit): it is the window's, not the app's.
    if (event.kind === InputKind.KeyDown && event.key === Key.Escape) return;
    event.x |= 0;
    event.y |= 0;
    event.key |= 0;
    event.dx = Math.max(-32768, Math.min(32767, event.dx | 0));
    event.dy = Math.max(-32768, Math.min(32767, event.dy | 0));
    const onInput = this.#options.onInput;
    if (onInput !== undefined) {
      try {
        if (onInput(event) === false) return;
      } catch (error) {
        this.#report(FrameStage.InputHandler, error);
      }
    }
    const sink = this.#options.sink;
    if (sink === undefined) return;
    try {
      if (sink.trySend(event)) {
        this.#queueFull = false;
        return;
      }
    } catch (error) {
      this.#report(FrameStage.Input, error);
      return;
    }
    this.#dropped++;
    // Motion is a stream where only the latest matters; a full queue that drops a click is said,
    // once until the queue takes messages again.
    if (event.kind !== InputKind.MouseMove && !this.#queueFull) {
      this.#queueFull = true;
      this.#log(
        `hotshm: input queue full (renderer not reading?): dropped a ${kindName(event.kind)} event; further drops are counted in stats()`,
      );
    }
  }

  #takeTitles(): void {
    const source = this.#options.titleSource;
    if (source === undefined) return;
    try {
      const messages = source.drain();
      const last = messages[messages.length - 1];
      if (last !== undefined && last !== this.#title) {
        this.#title = last;
        this.#showTitle();
      }
    } catch (error) {
      this.#report(FrameStage.Titles, error);
    }
  }

  #maybeResize(now: number): void {
    const size = this.#pendingSize;
    const toArgs = this.#options.toArgs;
    if (size === undefined || toArgs === undefined || this.#resizing) return;
    if (now - this.#pendingSince < this.#options.resizeDebounceMs) return;
    this.#pendingSize = undefined;
    const fb = this.#framebuffer();
    if (fb !== undefined && fb.width === size.width && fb.height === size.height) return;
    const resize = (this.#state as { resize?: (args: unknown) => Promise<unknown> }).resize;
    let pending: Promise<unknown>;
    try {
      pending = Promise.resolve(resize!.call(this.#state, toArgs(size)));
    } catch (error) {
      this.#report(FrameStage.Resize, error);
      return;
    }
    this.#resizing = true;
    pending.then(
      () => {
        this.#resizes++;
        this.#resizing = false;
      },
      (error: unknown) => {
        this.#resizing = false;
        this.#report(FrameStage.Resize, error);
      },
    );
  }

  #framebuffer(): FrameSource | undefined {
    const fb = this.#state[this.#options.framebuffer];
    return isFrameSource(fb) ? fb : undefined;
  }

  #stopVsync(waitedMs: number): void {
    this.#vsyncStopped = true;
    try {
      this.#backend.stopVsync?.();
    } catch (error) {
      this.#report(FrameStage.Present, error);
    }
    this.#pacer.stopVsync();
    this.#log(
      `hotshm: a present waited ${waitedMs.toFixed(0)} ms for the display; vsync is off for this window, frames are paced by timers`,
    );
  }

  /** Something outside the loop happened (a reload, a crash): tick now, at the full rate. */
  #wake(): void {
    if (this.#closing || this.#timer === undefined || !this.#pacer.idle) return;
    clearTimeout(this.#timer);
    this.#pacer.wake(performance.now());
    this.#timer = setTimeout(this.#tickBound, 0);
  }

  /**
   * Hands the back end the front buffer if it is a frame the back end does not have yet; true if
   * it did.
   */
  #upload(redraw: boolean): boolean {
    const backend = this.#backend;
    const overlay = this.#problem === undefined ? NO_OVERLAY : this.#border;
    // Read each tick: after a resize the state's field is another framebuffer (or rebound).
    const fb = this.#framebuffer();
    let front: FrontFrame | null = null;
    try {
      front = fb?.acquireFront() ?? null;
      let frame: Frame | null = null;
      if (
        fb !== undefined &&
        front !== null &&
        (redraw ||
          front.address !== this.#lastAddress ||
          front.frame !== this.#lastFrame ||
          fb.width !== this.#lastWidth ||
          fb.height !== this.#lastHeight)
      ) {
        frame = {
          address: front.address,
          pixels: front.pixels,
          width: fb.width,
          height: fb.height,
          pitch: front.pitch,
          format: fb.format ?? 'argb8888',
        };
      }
      backend.upload(frame, overlay);
      if (frame !== null && front !== null) {
        // Only once the back end has it: a failed upload is tried again on the next tick.
        this.#lastAddress = front.address;
        this.#lastFrame = front.frame;
        this.#lastWidth = frame.width;
        this.#lastHeight = frame.height;
        this.#uploads++;
        return true;
      }
    } catch (error) {
      this.#report(FrameStage.Upload, error);
    } finally {
      if (front !== null) {
        try {
          fb?.releaseFront();
        } catch (error) {
          this.#report(FrameStage.Upload, error);
        }
      }
    }
    return false;
  }

  #showTitle(): void {
    if (this.#closing) return;
    const problem = this.#problem;
    let text: string;
    try {
      text =
        this.#options.formatTitle?.(this.#title, problem) ?? defaultTitle(this.#title, problem);
      if (typeof text !== 'string') throw new TypeError(`formatTitle returned ${describe(text)}`);
    } catch (error) {
      this.#report(FrameStage.Title, error);
      text = defaultTitle(this.#title, problem);
    }
    if (text === this.#shownTitle) return;
    try {
      this.#backend.setTitle(text);
      this.#shownTitle = text;
    } catch (error) {
      this.#report(FrameStage.Title, error);
    }
  }

  #setProblem(problem: string | undefined): void {
    this.#problem = problem;
    this.#showTitle();
  }

  /** The host's events, as the title and border show them (problem.ts). */
  #hostListeners(): HostListeners {
    const listeners: HostListeners = {};
    for (const event of PROBLEM_EVENTS) {
      listeners[event] = (payload: never): void => {
        try {
          this.#setProblem(nextProblem(this.#problem, event, payload));
        } catch (error) {
          this.#report(FrameStage.HostEvent, error);
        }
        // A new renderer's first frame is in, or the border must show: no idle wait for it.
        this.#wake();
      };
    }
    return listeners;
  }

  /** Reports a failed step once per kind (stage and message); counts every one. */
  #report(stage: FrameStage, error: unknown): void {
    this.#failures++;
    const failure =
      error instanceof WindowFrameError
        ? error
        : new WindowFrameError(stage, error instanceof Error ? error.message : String(error), {
            cause: error,
          });
    const key = `${failure.stage}\0${failure.message}`;
    if (this.#reported.has(key)) return;
    this.#reported.add(key);
    try {
      if (this.#options.onError) this.#options.onError(failure);
      else this.#log(`hotshm: ${failure.message} (the window goes on)`);
    } catch {
      // A reporter that throws must not take the frame loop with it.
    }
  }

  #stats(): WindowStats {
    return {
      frames: this.#frames,
      uploads: this.#uploads,
      workMs: [...this.#workMs],
      failures: this.#failures,
      resizes: this.#resizes,
      droppedInput: this.#dropped,
      pacing: this.#pacer.pacing,
      periodMs: this.#pacer.periodMs,
      idle: this.#pacer.idle,
    };
  }

  async #close(reason: WindowCloseReason): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#timer);
    // Never a throw from here: a user's close runs from the frame loop, where it would be an
    // unhandled rejection. Each step is tried; `closed` resolves whatever failed.
    for (const [event, listener] of Object.entries(this.#listeners)) {
      try {
        this.#host?.off(event as keyof HostEvents, listener as never);
      } catch (error) {
        this.#report(FrameStage.HostEvent, error);
      }
    }
    try {
      this.#geometry = this.#backend.geometry();
      this.#backend.close();
    } catch (error) {
      this.#report(FrameStage.Present, error);
    }
    try {
      // A clean end leaves no log behind.
      this.#capture?.restore({ remove: true });
    } catch (error) {
      this.#log(`hotshm: could not close the log ${this.#capture?.path}: ${String(error)}`);
    }
    this.#resolveClosed(reason);
  }
}

function defaultTitle(title: string, problem: string | undefined): string {
  // ASCII separator: SDL sets _NET_WM_NAME (what window managers and xdotool read) through Xlib's
  // locale conversion, and nobody calls setlocale() in Node, so a character outside Latin-1 (an em
  // dash) left _NET_WM_NAME at the previous title while only the legacy WM_NAME changed.
  return problem ? `${title} - ${problem}` : title;
}

function pixelSize(g: WindowGeometry): WindowSize {
  return { width: g.pixelWidth, height: g.pixelHeight };
}

function resizeMapping<S>(
  state: S,
  option: WindowOptions<S>['resize'],
): ((size: WindowSize) => unknown) | undefined {
  if (option === undefined || option === false) return undefined;
  if (!hasMethod(state, 'resize')) {
    throw new InvalidArgumentError(
      'openWindow: options.resize: expected a state with resize(args) (an owner state), got a state without one',
    );
  }
  if (typeof option === 'function') return option;
  if (option !== true) {
    throw new InvalidArgumentError(
      `openWindow: options.resize: expected true or a function from the size to the state's arguments, got ${describe(option)}`,
    );
  }
  const args = (state as { args?: unknown }).args;
  if (
    typeof args !== 'object' ||
    args === null ||
    typeof (args as { width?: unknown }).width !== 'number' ||
    typeof (args as { height?: unknown }).height !== 'number'
  ) {
    throw new InvalidArgumentError(
      `openWindow: options.resize: true needs state.args with a numeric width and height, got ${describe(args)}; give a function from the size to the arguments`,
    );
  }
  return ({ width, height }) => ({ ...(state as { args: object }).args, width, height });
}

function isFrameSource(v: unknown): v is FrameSource {
  return (
    hasMethod(v, 'acquireFront') &&
    hasMethod(v, 'releaseFront') &&
    typeof (v as { width?: unknown }).width === 'number' &&
    typeof (v as { height?: unknown }).height === 'number'
  );
}

function hasMethod(v: unknown, name: string): boolean {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Record<string, unknown>)[name] === 'function'
  );
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object with ${Object.keys(v).join(', ') || 'no fields'}`;
  if (typeof v === 'function') return 'a function';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function kindName(kind: number): string {
  for (const [name, value] of Object.entries(InputKind)) if (value === kind) return name;
  return `kind ${kind}`;
}
