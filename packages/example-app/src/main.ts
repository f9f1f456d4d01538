/**
 * `pnpm dev` (hot reload) and `pnpm --filter example-app start:nohot` (renderer on a worker).
 * Exit code 75 from the app means "the state layout changed": the owner starts again with the new
 * definition, in a fresh process, because its own view of the region is now wrong.
 * HOTSHM_EXAMPLE_ENTRY points the reloadable at another entry file (the end-to-end tests edit a
 * temporary copy of example-impl, never the workspace's own sources).
 */
import { spawn } from 'node:child_process';
import { startApp } from './app.js';

const hot = !process.argv.includes('--no-hot');
const RESTART = 75;

const entry = process.env.HOTSHM_EXAMPLE_ENTRY;
const app = await startApp({ hot, ...(entry ? { entry } : {}) });
const onSignal = (signal: NodeJS.Signals): void => {
  void app.stop(128 + (signal === 'SIGINT' ? 2 : 15));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
const code = await app.done;
if (code === RESTART) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  child.on('exit', (c, s) => process.exit(c ?? (s ? 1 : 0)));
} else {
  process.exit(code);
}
