/**
 * The example's owner, run by `pnpm dev` (hot reload) and `pnpm --filter example-app start:nohot`
 * (the renderer on a worker thread): the state, a window on it, and nothing else. The library's
 * window forwards input to `toRenderer`, titles itself from `fromRenderer`, and says in its title
 * and a red border when a build is broken or the renderer crashed.
 * HOTSHM_EXAMPLE_ENTRY points the renderer at another entry (the end-to-end tests edit a temporary
 * copy of example-impl, never the workspace's own sources). Exit code 75 means "the state layout
 * changed": the owner starts again in a fresh process, whose view of the region is the new one.
 */
import { spawn } from 'node:child_process';
import { openWindow } from '@hotshm/hot-reload/window';
import { State } from 'hot-reloaded-state';

const hot = !process.argv.includes('--no-hot');
const entry = process.env.HOTSHM_EXAMPLE_ENTRY;
const log = (line: string): void => console.log(line);
const state = await State.owner({ width: 300, height: 300 }, { hot, log, ...(entry && { entry }) });
const window = await openWindow(state, {
  title: 'Hot Reload Demo',
  input: 'toRenderer',
  titles: 'fromRenderer',
  log,
});
const mode = hot ? 'hot reload on' : 'renderer on a worker thread (no hot reload)';
log(`hotshm: region ${state.region.name}, backend ${window.backend.name}, ${mode}`);

let code = 0;
const stop = (exitCode: number): void => {
  code = exitCode;
  void window.close();
};
process.once('SIGINT', () => stop(130));
process.once('SIGTERM', () => stop(143));
state.host.on('layout-change', () => {
  log('hotshm: the state layout changed; restarting the owner so both sides agree');
  stop(75);
});
await window.closed;
await state.close();
if (code === 75) {
  const argv = [...process.execArgv, ...process.argv.slice(1)];
  spawn(process.execPath, argv, { stdio: 'inherit' }).on('exit', (c, s) =>
    process.exit(c ?? (s ? 1 : 0)),
  );
} else {
  process.exit(code);
}
