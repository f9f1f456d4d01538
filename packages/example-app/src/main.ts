/**
 * The example's owner, as `pnpm dev` (`hotshm dev src/main.ts`: hot reload, and an edit of the
 * owner's own code restarts it with its state) and `pnpm start` (`hotshm start src/main.ts`: the
 * renderer on a worker thread) run it. `--no-hot` turns hot reload off whatever runs it.
 * HOTSHM_EXAMPLE_ENTRY points the reloadable at another entry file (the end-to-end tests edit a
 * temporary copy of example-impl, never the workspace's own sources).
 */
import { startApp } from './app.js';

const entry = process.env.HOTSHM_EXAMPLE_ENTRY;
const app = await startApp({
  ...(process.argv.includes('--no-hot') ? { hot: false } : {}),
  ...(entry ? { entry } : {}),
});
const onSignal = (signal: NodeJS.Signals): void => {
  void app.stop(128 + (signal === 'SIGINT' ? 2 : 15));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
process.exit(await app.done);
