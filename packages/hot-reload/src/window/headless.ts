/**
 * The headless back end: shows nothing and reads no input. It keeps a reference to the last frame
 * (never a copy), so tests and CI can look at what would have been shown; `resize` and `input`
 * play the user's part for tests of the frame loop.
 */
import type { InputEvent } from './input.js';
import type {
  Backend,
  Frame,
  OpenBackendOptions,
  Overlay,
  PollResult,
  WindowGeometry,
} from './types.js';

export class HeadlessBackend implements Backend {
  readonly name = 'headless' as const;
  readonly vsync: boolean = false;
  readonly refreshHz: number | undefined = undefined;
  /** How many times `flip()` (or `present()`) showed something new. */
  presents = 0;
  /** How many frames `upload` was given (null uploads are not counted). */
  uploads = 0;
  title: string;
  readonly #result: { events: InputEvent[]; quit: boolean; resized: boolean; redraw: boolean } = {
    events: [],
    quit: false,
    resized: false,
    redraw: false,
  };
  #queued: InputEvent[] = [];
  #geometry: WindowGeometry;
  #frame: Frame | null = null;
  #overlay: Overlay | undefined;
  #border: number | undefined;
  #dirty = false;
  #resized = false;
  #lost = false;
  #closed = false;

  constructor(options: Pick<OpenBackendOptions, 'title'> & Partial<OpenBackendOptions>) {
    this.title = options.title;
    const width = options.width ?? 0;
    const height = options.height ?? 0;
    this.#geometry = {
      x: options.x ?? 0,
      y: options.y ?? 0,
      width,
      height,
      pixelWidth: width,
      pixelHeight: height,
    };
  }

  poll(): PollResult {
    const result = this.#result;
    result.events.length = 0;
    for (const e of this.#queued) result.events.push(e);
    this.#queued.length = 0;
    // Each flag is reported by one poll, as SDL reports an event once.
    result.resized = this.#resized;
    result.redraw = this.#lost;
    this.#resized = false;
    this.#lost = false;
    return result;
  }

  present(frame: Frame | null, overlay?: Overlay): void {
    this.upload(frame, overlay);
    this.flip();
  }

  upload(frame: Frame | null, overlay?: Overlay): void {
    if (frame !== null) {
      this.#frame = frame;
      this.uploads++;
      this.#dirty = true;
    }
    this.#overlay = overlay;
    if (overlay?.border !== this.#border) {
      this.#border = overlay?.border;
      this.#dirty = true;
    }
  }

  flip(): boolean {
    if (this.#closed || !this.#dirty) return false;
    this.#dirty = false;
    this.presents++;
    return true;
  }

  setTitle(title: string): void {
    this.title = title;
  }

  geometry(): WindowGeometry {
    // As SDL's: a closed window is nowhere.
    return this.#closed ? { ...this.#geometry, x: 0, y: 0 } : this.#geometry;
  }

  /** As if the user resized the window to width × height (pixels = `scale` × that). */
  resize(width: number, height: number, scale = 1): void {
    this.#geometry = {
      ...this.#geometry,
      width,
      height,
      pixelWidth: width * scale,
      pixelHeight: height * scale,
    };
    this.#resized = true;
  }

  /** As if the user did this: the next poll reports it. */
  input(event: InputEvent): void {
    this.#queued.push(event);
  }

  /** As if the user closed the window. */
  quit(): void {
    this.#result.quit = true;
  }

  /** As if the device was lost: the next poll asks for the frame again. */
  lose(): void {
    this.#lost = true;
  }

  /** The frame last given to `present`/`upload` (the same object, so its pixels are live). */
  lastFrame(): Frame | null {
    return this.#frame;
  }

  lastOverlay(): Overlay | undefined {
    return this.#overlay;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}
