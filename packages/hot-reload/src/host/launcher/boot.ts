/**
 * The first module of an owner process that `hotshm dev` starts:
 * `node boot.mjs <owner bundle> [args…]`. Before any of the owner's code runs it makes sure the
 * owner cannot outlive the launcher, leaves the launch mode where the owner's copy of this library
 * finds it (launcherSession), gives the owner the argv it would have had on its own
 * (`process.argv[1]` is its bundle, so packages resolve from the owner's package), and imports it.
 */
import { pathToFileURL } from 'node:url';
import { dieWithLauncher } from './die-with-launcher.js';
import { LAUNCH_ENV, LAUNCH_KEY, type LaunchInfo, PROTOCOL, parseLaunchEnv } from './protocol.js';

const launch = parseLaunchEnv(process.env[LAUNCH_ENV]);
// Renderers and any process the owner starts inherit its environment: none of them was launched.
delete process.env[LAUNCH_ENV];
const [bundle, ...args] = process.argv.slice(2);
if (!launch || bundle === undefined || typeof process.send !== 'function') {
  process.stderr.write(
    `hotshm: this module starts owners for \`hotshm dev\`; expected ${LAUNCH_ENV}, an IPC channel and a bundle, got ${process.env[LAUNCH_ENV] ?? 'no launcher'}\n`,
  );
  process.exit(2);
}
await dieWithLauncher(launch.launcherPid);
const info: LaunchInfo = { protocol: PROTOCOL, mode: launch.mode, ipc: true };
(globalThis as Record<symbol, unknown>)[LAUNCH_KEY] = info;
process.argv.splice(1, process.argv.length - 1, bundle, ...args);
await import(pathToFileURL(bundle).href);
