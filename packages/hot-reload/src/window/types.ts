/**
 * What the owner needs from a display: show a pixel buffer, give input back. Three back ends sit
 * behind this one interface (an SDL2 window, a truecolor terminal, nothing at all), chosen once
 * by `openBackend()`; none of them knows anything about shared memory or reloading.
 */

export const InputKind = {
  MouseMove: 1,
  MouseDown: 2,
  MouseUp: 3,
  KeyDown: 4,
  KeyUp: 5,
  Wheel: 6,
} as const;
export type InputKind = (typeof InputKind)[keyof typeof InputKind];

/** Mouse buttons, numbered as SDL numbers them; bit `1 << (button - 1)` in `buttons`. */
export const MouseButton = { Left: 1, Middle: 2, Right: 3 } as const;

/**
 * Modifier bits, the same for every back end (SDL's own KMOD_* bits tell left from right, which a
 * terminal cannot, so both are folded into these four).
 */
export const Modifier = { Shift: 1, Ctrl: 2, Alt: 4, Meta: 8 } as const;

/** SDL keycodes for the keys a terminal can also report; letters and digits are their ASCII codes. */
export const Key = {
  Backspace: 8,
  Tab: 9,
  Return: 13,
  Escape: 27,
  Space: 32,
  Delete: 127,
  Right: 0x4000_004f,
  Left: 0x4000_0050,
  Down: 0x4000_0051,
  Up: 0x4000_0052,
} as const;

export interface InputEvent {
  kind: InputKind;
  /** Framebuffer coordinates of the pointer (also for key events: the last known position). */
  x: number;
  y: number;
  /** The button that changed (MouseDown/MouseUp): 1 left, 2 middle, 3 right; 0 otherwise. */
  button: number;
  /** Buttons held after this event, bit `1 << (button - 1)`. */
  buttons: number;
  /** SDL keycode (KeyDown/KeyUp): Escape = 27, letters lower-case ASCII; 0 otherwise. */
  key: number;
  /** `Modifier` bits held. */
  modifiers: number;
  /** Wheel steps (Wheel): positive dy is away from the user, positive dx to the right; 0 otherwise. */
  dx: number;
  dy: number;
}

/**
 * A frame to show. `address` is the C address of `pixels[0]` (a koffi pointer): the SDL back end
 * hands it straight to SDL_UpdateTexture, so `pixels` must be a view over that same memory
 * (`koffi.view`), never a copy. Pixels are ARGB8888 in the machine's byte order.
 */
export interface Frame {
  readonly address: bigint;
  readonly pixels: Uint32Array;
  readonly width: number;
  readonly height: number;
  /** Bytes per row (≥ 4 × width). */
  readonly pitch: number;
}

/** Drawn over the image by the back end; `pixels` are never modified. */
export interface Overlay {
  /** ARGB colour of a thin frame over the image's edge (the owner's "something went wrong" sign). */
  readonly border?: number;
}

export type BackendName = 'sdl' | 'terminal' | 'headless';

export interface PollResult {
  /** Events since the last poll, oldest first. */
  readonly events: InputEvent[];
  /** True once the window's close button or Escape was seen (stays true). */
  readonly quit: boolean;
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
   * `flip()` so the owner's own cost can be measured apart from the display server's.
   */
  upload(frame: Frame | null, overlay?: Overlay): void;
  /** Shows what `upload` prepared (SDL_RenderPresent; the terminal write). */
  flip(): void;
  setTitle(title: string): void;
  /** SDL: SDL_GetWindowID. */
  readonly windowId?: number;
  /** SDL on X11: the X window id (from SDL_GetWindowWMInfo), for tests and tools like xdotool. */
  readonly x11Window?: number;
  /** Idempotent; restores whatever the back end changed (terminal modes, SDL). */
  close(): void;
}

export interface OpenBackendOptions {
  readonly width: number;
  readonly height: number;
  readonly title: string;
  /** Try this one first (HOTSHM_BACKEND still wins). */
  readonly prefer?: BackendName;
}

export interface OpenedBackend {
  readonly backend: Backend;
  /** One line saying why the preferred back end was not used, with what to install if that helps. */
  readonly note?: string;
}
