/**
 * The `hotshm` command (bin/hotshm.mjs loads this module):
 *
 *   hotshm dev <owner.ts> [args…]     hot reload; an edit of the owner's own code restarts it
 *   hotshm start <owner.ts> [args…]   hot reload off, the owner in this very process
 *
 * `dev` builds the owner, runs it as a child process and keeps the launcher beside it (see
 * launcher.ts). Ctrl+C, SIGTERM and SIGHUP go to the owner; the launcher exits with the owner's
 * exit status (dying of the same signal if the owner did). `start` builds once, stops esbuild,
 * and imports the owner here: no second process, no watcher.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { constants } from 'node:os';
import { extname, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, OwnerBuildError } from '../../errors.js';
import { loadLibc } from '../../native/libc.js';
import { SourceWatcher } from '../process/watcher.js';
import { type ExitStatus, Launcher, where } from './launcher.js';
import { ownerBuilder } from './owner-build.js';
import { ownerSpawner, removeStaleBundles, writeBundle } from './owner-process.js';
import { LAUNCH_KEY, type LaunchInfo, PROTOCOL } from './protocol.js';

const USAGE = `usage: hotshm dev <owner.ts> [args…]     run with hot reload; edits of the owner restart it
       hotshm start <owner.ts> [args…]   run without hot reload`;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Runs the command in `argv` (without `node` and the script). Resolves with the code to exit
 * with, or undefined when the process must be left to end by itself (`start`: the owner's code
 * decides).
 */
export async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, owner, ...args] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    log(USAGE);
    return 0;
  }
  let entry: string;
  try {
    entry = checkArgs(command, owner);
  } catch (e) {
    log(`hotshm: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  return command === 'dev' ? dev(entry, args) : start(entry, args);
}

function checkArgs(command: string | undefined, owner: string | undefined): string {
  if (command !== 'dev' && command !== 'start') {
    throw new InvalidArgumentError(
      `expected a command, dev or start, got ${command === undefined ? 'none' : JSON.stringify(command)}`,
    );
  }
  if (owner === undefined) {
    throw new InvalidArgumentError(`hotshm ${command}: expected the owner's module, got none`);
  }
  const entry = resolvePath(owner);
  if (!existsSync(entry) || !statSync(entry).isFile()) {
    throw new InvalidArgumentError(
      `hotshm ${command}: expected the owner's module at ${entry}, found no file`,
    );
  }
  return entry;
}

async function dev(entry: string, args: readonly string[]): Promise<number> {
  const builder = ownerBuilder(entry);
  for (const dir of [builder.outDir, builder.libraryDir]) if (dir) removeStaleBundles(dir);
  process.once('exit', () => builder.dispose());
  const here = fileURLToPath(import.meta.url);
  const launcher = new Launcher({
    entry,
    build: () => builder.build(),
    spawn: ownerSpawner({
      boot: resolvePath(here, '..', `launcher-boot${extname(here)}`),
      outDir: builder.outDir,
      args,
    }),
    watch: (onChange) => {
      const watcher = new SourceWatcher({
        onChange,
        onWarning: (message) => log(`[hotshm] warning: ${message}`),
      });
      void watcher.start();
      return watcher;
    },
    log,
  });
  // A signal sent to the launcher alone (kill, an IDE's stop button) goes on to the owners. A
  // terminal's Ctrl+C (or its hang-up) reaches its whole foreground process group, owners
  // included: passing it on would make it two, and a second one can land while the owner's exit
  // hooks run.
  const onSignal = (signal: NodeJS.Signals): void =>
    launcher.stop(signal, !(signal !== 'SIGTERM' && inForegroundOfTerminal()));
  for (const s of SIGNALS) process.on(s, onSignal);
  await launcher.start();
  const status = await launcher.done;
  for (const s of SIGNALS) process.off(s, onSignal);
  // Dying of the owner's signal tells a shell what running the owner itself would have.
  if (status.signal && status.code === null && process.platform !== 'win32') {
    process.kill(process.pid, status.signal);
  }
  return exitCodeOf(status);
}

async function start(entry: string, args: readonly string[]): Promise<number | undefined> {
  const builder = ownerBuilder(entry);
  for (const dir of [builder.outDir, builder.libraryDir]) if (dir) removeStaleBundles(dir);
  process.once('exit', () => builder.dispose());
  let file: string;
  try {
    file = writeBundle(builder.outDir, await builder.build(), 1);
  } catch (e) {
    if (!(e instanceof OwnerBuildError)) throw e;
    log(`[hotshm] the owner does not build (${where(e)}):\n${e.messages.join('\n')}`);
    return 1;
  }
  process.once('exit', () => rmSync(file, { force: true }));
  const info: LaunchInfo = { protocol: PROTOCOL, mode: 'start', ipc: false };
  (globalThis as Record<symbol, unknown>)[LAUNCH_KEY] = info;
  process.argv.splice(1, process.argv.length - 1, file, ...args);
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(file).href);
  // The owner's code decides when this process ends, as if it had been started on its own.
  return undefined;
}

/**
 * Whether this process is in the foreground process group of the terminal on its stdin (POSIX;
 * the owners share its group). False without a terminal, or where it cannot be told.
 */
export function inForegroundOfTerminal(): boolean {
  if (process.platform === 'win32' || !process.stdin.isTTY) return false;
  try {
    const libc = loadLibc();
    const tcgetpgrp = libc.func('int tcgetpgrp(int fd)');
    const getpgrp = libc.func('int getpgrp(void)');
    const foreground = tcgetpgrp(0) as number;
    return foreground > 0 && foreground === (getpgrp() as number);
  } catch {
    return false;
  }
}

/** The shell's view of how the owner ended: its code, or 128 + the signal's number. */
export function exitCodeOf(status: ExitStatus): number {
  if (status.code !== null) return status.code;
  return 128 + (status.signal ? (constants.signals[status.signal] ?? 15) : 0);
}
