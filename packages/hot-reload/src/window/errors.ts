/**
 * The one failure the back ends add. It is the example owner's, not the library's (the library
 * has no display), so it does not extend the library's HotshmError and its fixed code list.
 */
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

export class BackendUnavailableError extends Error {
  readonly code = 'HOTSHM_BACKEND_UNAVAILABLE';
  readonly backend: BackendName;
  readonly reason: BackendFailure;
  constructor(
    backend: BackendName,
    reason: BackendFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.backend = backend;
    this.reason = reason;
    this.name = 'BackendUnavailableError';
  }
}
