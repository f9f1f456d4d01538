/**
 * The launcher behind `hotshm dev` / `hotshm start` (cli.ts, launcher.ts, owner-build.ts,
 * owner-process.ts, boot.ts) and the owner's side of it (session.ts), which the library's
 * `State.owner()` and the window module use.
 */
export type { LaunchMode, WindowGeometry } from './protocol.js';
export type {
  LauncherSession,
  StateLink,
  WindowHandle,
  WindowHandover,
} from './session.js';
export { launcherSession, windowHandover } from './session.js';
