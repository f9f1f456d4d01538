/**
 * The failures the window adds. A back end that cannot open here is a programmer-visible error
 * at `openWindow`/`openBackend`; a frame step that fails while the window runs (an upload, a
 * present, a handler of the app's) is never thrown out of the frame loop: it is reported once as
 * a `WindowFrameError` and the loop goes on.
 */
import { ErrorCode, HotshmError } from '../errors.js';
import type { BackendName } from './types.js';

export const BackendFailure = {
  /** The SDL2 shared library is not installed (or HOTSHM_SDL_LIBRARY names nothing loadable). */
  NoLibrary: 'no-library',
  /** Nothing to show a window on: no DISPLAY / WAYLAND_DISPLAY, or SDL fell back to offscreen. */
  NoDisplay: 'no-display',
  /** The terminal back end needs stdout to be a terminal. */
  NotATerminal: 'not-a-terminal',
  /** SDL loaded but SDL_Init, SDL_CreateWindow or SDL_CreateRenderer failed. */
  Failed: 'failed',
} as const;
export type BackendFailure = (typeof BackendFailure)[keyof typeof BackendFailure];

/** A display back end cannot be used here; `reason` says why, `backend` which one. */
export class BackendUnavailableError extends HotshmError {
  readonly backend: BackendName;
  readonly reason: BackendFailure;
  constructor(
    backend: BackendName,
    reason: BackendFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.BackendUnavailable, message, options);
    this.backend = backend;
    this.reason = reason;
  }
}

/** The step of a window frame that failed. */
export const FrameStage = {
  /** Reading input from the back end. */
  Poll: 'poll',
  /** Handing the framebuffer to the back end (SDL_UpdateTexture, drawing the overlay). */
  Upload: 'upload',
  /** Showing what was uploaded (SDL_RenderPresent, the terminal write). */
  Present: 'present',
  /** Forwarding input into the app's channel. */
  Input: 'input',
  /** The app's `onInput` handler. */
  InputHandler: 'input-handler',
  /** Reading titles from the app's channel. */
  Titles: 'titles',
  /** Setting the title, or the app's `formatTitle`. */
  Title: 'title',
  /** `state.resize(args)` or the app's size → args mapping. */
  Resize: 'resize',
  /** Recreating the renderer and texture after a lost device. */
  Reset: 'reset',
  /** A listener of the state's host events. */
  HostEvent: 'host-event',
  /** Anything else in a tick (a last guard: each step above has its own). */
  Loop: 'loop',
} as const;
export type FrameStage = (typeof FrameStage)[keyof typeof FrameStage];

/** One step of the frame loop failed; the loop went on. `cause` is what was thrown. */
export class WindowFrameError extends HotshmError {
  readonly stage: FrameStage;
  constructor(stage: FrameStage, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.WindowFrame, `window ${stage}: ${message}`, options);
    this.stage = stage;
  }
}
