/**
 * The window: `openWindow` on an owner's state, the input event schema an app puts in its
 * channel, and the display back ends behind it (SDL2 window, truecolor terminal, headless).
 */

export {
  BackendFailure,
  BackendUnavailableError,
  FrameStage,
  WindowFrameError,
} from './errors.js';
export { HeadlessBackend } from './headless.js';
export { InputEvent, InputKind, Key, Modifier, MouseButton } from './input.js';
export { backendFromEnv, openBackend, sdlInstallHint } from './open.js';
export type { Pacing } from './pacer.js';
// Types only: the SDL and terminal modules are loaded lazily by openBackend (the terminal back
// end's class is not public: its options name Node.js streams, which no declaration may).
export type { SdlBackend } from './sdl.js';
export type { TerminalLayout } from './terminal.js';
export type {
  Backend,
  BackendName,
  Frame,
  OpenBackendOptions,
  OpenedBackend,
  Overlay,
  PollResult,
  WindowGeometry,
} from './types.js';
export type {
  ArgsOf,
  FieldOf,
  FrameSource,
  InputSink,
  TitleSource,
  Window,
  WindowCloseReason,
  WindowOptions,
  WindowSize,
  WindowStats,
} from './window.js';
export { openWindow } from './window.js';
