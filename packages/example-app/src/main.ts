/**
 * The example's owner, run by `pnpm dev` (`hotshm dev src/main.ts`: hot reload, and an edit of this
 * file restarts the owner with its state and its window where it was) and `pnpm start`
 * (`hotshm start src/main.ts`: the renderer on a worker thread): the state, a window on it, and
 * nothing else. The library's window forwards input to `toRenderer`, titles itself from
 * `fromRenderer`, and says in its title and a red border when a build is broken or the renderer
 * crashed. `--no-hot` turns hot reload off whatever runs it.
 * HOTSHM_EXAMPLE_ENTRY points the renderer at another entry (the end-to-end tests edit a temporary
 * copy of example-impl, never the workspace's own sources).
 */
import { openWindow } from '@hotshm/hot-reload/window';
import { State } from 'hot-reloaded-state';

const entry = process.env.HOTSHM_EXAMPLE_ENTRY;
const log = (line: string): void => console.log(line);
const state = await State.owner(
  { width: 300, height: 300 },
  { log, ...(process.argv.includes('--no-hot') && { hot: false }), ...(entry && { entry }) },
);
const window = await openWindow(state, {
  title: 'Hot Reload Demo',
  input: 'toRenderer',
  titles: 'fromRenderer',
  // Resizing the window resizes the state (`state.resize`): the framebuffer migrates to the new size.
  resize: true,
  log,
});
const mode = state.hot ? 'hot reload on' : 'renderer on a worker thread (no hot reload)';
log(`hotshm: region ${state.region.name}, backend ${window.backend.name}, ${mode}`);

let code = 0;
const stop = (exitCode: number): void => {
  code = exitCode;
  void window.close();
};
process.once('SIGINT', () => stop(130));
process.once('SIGTERM', () => stop(143));
await window.closed;
await state.close();
process.exit(code);
