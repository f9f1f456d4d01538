/** The example owner's display back ends: SDL2 window, truecolor terminal, headless. */
export { BackendFailure, BackendUnavailableError } from './errors.js';
export { HeadlessBackend } from './headless.js';
export { backendFromEnv, openBackend, sdlInstallHint } from './open.js';
// Types only: the SDL and terminal modules are loaded lazily by openBackend.
export type { SdlBackend } from './sdl.js';
export type { TerminalBackend, TerminalLayout } from './terminal.js';
export type {
  Backend,
  BackendName,
  Frame,
  InputEvent,
  OpenBackendOptions,
  OpenedBackend,
  Overlay,
  PollResult,
} from './types.js';
export { InputKind, Key, Modifier, MouseButton } from './types.js';
