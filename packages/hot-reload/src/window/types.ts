/**
 * What a window needs from a display: show a pixel buffer, give input back. Three back ends sit
 * behind this one interface (an SDL2 window, a truecolor terminal, nothing at all), chosen once
 * by `openBackend()`; none of them knows anything about shared memory or reloading.
 */
import type { PixelFormat } from '../frames/index.js';
import type { InputEvent } from './input.js';

/**
 * A frame to show. `address` is the C address of `pixels[0]` (a koffi pointer): the SDL back end
 * hands it straight to SDL_UpdateTexture, so `pixels` must be a view over that same memory
 * (`koffi.view`), never a copy. Pixels are 32-bit words in `format` (ARGB8888 unless it says
 * otherwise), in the machine's byte order: a back end shows them as they are, converting nothing.
 */
export interface Frame {
  readonly address: bigint;
  readonly pixels: Uint32Array;
  readonly width: number;
  readonly height: number;
  /** Bytes per row (≥ 4 × width). */
  readonly pitch: number;
  /** How each word is laid out (the framebuffer's format); default `argb8888`. */
  readonly format?: PixelFormat;
}

/** Drawn over the image by the back end; `pixels` are never modified. */
export interface Overlay {
  /** ARGB colour of a thin frame over the image's edge (the owner's "something went wrong" sign). */
  readonly border?: number;
}

export type BackendName = 'sdl' | 'terminal' | 'headless';

/** Where a window is and how big, as `openWindow`'s `position` and `size` take them back. */
export interface WindowGeometry {
  /** The window's top-left corner on the screen, in screen coordinates (0 where there is none). */
  readonly x: number;
  readonly y: number;
  /** Size in screen coordinates (SDL's window size, in which the mouse moves). */
  readonly width: number;
  readonly height: number;
  /** Size of what is drawn, in pixels: larger than width × height on a high-DPI screen. */
  readonly pixelWidth: number;
  readonly pixelHeight: number;
}

export interface PollResult {
  /** Events since the last poll, oldest first, in framebuffer coordinates. */
  readonly events: InputEvent[];
  /** True once the window's close button or Escape was seen (stays true). */
  readonly quit: boolean;
  /** The window's size changed since the last poll: `geometry()` has the new one. */
  readonly resized: boolean;
  /** The back end lost what it showed (a lost device): upload the current frame again. */
  readonly redraw: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /**
   * Input since the last call; never blocks. The returned object and its `events` array are
   * reused by the next call (the frame loop allocates nothing): copy what you keep. The event
   * objects themselves are fresh and may be kept.
   */
  poll(): PollResult;
  /** `upload(frame, overlay)` then `flip()`. */
  present(frame: Frame | null, overlay?: Overlay): void;
  /**
   * Prepares the next picture: the frame (null: keep the last one) and the overlay. Split from
   * `flip()` so the owner's own cost can be measured apart from the display server's. Draws
   * nothing when neither the frame nor the overlay changed and nothing was lost.
   */
  upload(frame: Frame | null, overlay?: Overlay): void;
  /**
   * Shows what `upload` prepared (SDL_RenderPresent; the terminal write). False when nothing
   * new was prepared, so nothing was shown (a static picture costs no present).
   */
  flip(): boolean;
  setTitle(title: string): void;
  /** Where the window is; once closed, its last size at position 0, 0. */
  geometry(): WindowGeometry;
  /** True when `flip()` waits for the display's vertical blank (SDL with PRESENTVSYNC). */
  readonly vsync: boolean;
  /** Stops waiting for the vertical blank (a present that blocked far too long). */
  stopVsync?(): void;
  /** The display's refresh rate in Hz, when the back end knows it. */
  readonly refreshHz: number | undefined;
  /** SDL: SDL_GetWindowID. */
  readonly windowId?: number;
  /** SDL on X11: the X window id (from SDL_GetWindowWMInfo), for tests and tools like xdotool. */
  readonly x11Window?: number;
  /** Idempotent; restores whatever the back end changed (terminal modes, SDL). */
  close(): void;
}

export interface OpenBackendOptions {
  /** Size of the window in screen coordinates (the terminal: of the frame it lays out). */
  readonly width: number;
  readonly height: number;
  readonly title: string;
  /** Try this one first (HOTSHM_BACKEND still wins). */
  readonly prefer?: BackendName;
  /** Where the window's top-left corner goes; centred when absent. */
  readonly x?: number;
  readonly y?: number;
  /** The user may resize the window. Default false. */
  readonly resizable?: boolean;
  /** Wait for the vertical blank in `flip()` where the display can. Default false. */
  readonly vsync?: boolean;
  /** A drawable at the screen's pixel density (SDL_WINDOW_ALLOW_HIGHDPI). Default true. */
  readonly highDpi?: boolean;
}

export interface OpenedBackend {
  readonly backend: Backend;
  /** One line saying why the preferred back end was not used, with what to install if that helps. */
  readonly note?: string;
}
