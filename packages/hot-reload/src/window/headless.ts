/**
 * The headless back end: shows nothing and reads no input. It keeps a reference to the last frame
 * (never a copy), so tests and CI can look at what would have been shown.
 */
import type { Backend, Frame, InputEvent, Overlay, PollResult } from './types.js';

export class HeadlessBackend implements Backend {
  readonly name = 'headless' as const;
  /** How many times `flip()` (or `present()`) was called. */
  presents = 0;
  title: string;
  readonly #result: { events: InputEvent[]; quit: boolean } = { events: [], quit: false };
  #frame: Frame | null = null;
  #overlay: Overlay | undefined;
  #closed = false;

  constructor(options: { readonly title: string }) {
    this.title = options.title;
  }

  poll(): PollResult {
    return this.#result;
  }

  present(frame: Frame | null, overlay?: Overlay): void {
    this.upload(frame, overlay);
    this.flip();
  }

  upload(frame: Frame | null, overlay?: Overlay): void {
    if (frame !== null) this.#frame = frame;
    this.#overlay = overlay;
  }

  flip(): void {
    if (!this.#closed) this.presents++;
  }

  setTitle(title: string): void {
    this.title = title;
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
