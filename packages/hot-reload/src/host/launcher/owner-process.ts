/**
 * Owner processes as `hotshm dev` starts them: `node --enable-source-maps <boot> <bundle> [args…]`
 * with the launcher's stdio (the owner may draw in the terminal and read its keys, so it stays in
 * the terminal's foreground process group) and an IPC channel for the protocol. Each build is
 * written to its own file, `owner-<launcher pid>-<n>.mjs`, removed when its owner exits; files
 * of launchers that died without removing theirs are removed at the next start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpawnError } from '../../errors.js';
import { isProcessAlive } from '../../memory/stale.js';
import type { ExitStatus, OwnerLink } from './launcher.js';
import type { OwnerBuild } from './owner-build.js';
import { type FromOwner, isFromOwner, LAUNCH_ENV, launchEnvValue } from './protocol.js';

export interface OwnerSpawnerOptions {
  /** The boot module (boot.ts, built). */
  readonly boot: string;
  /** Where bundles are written (the owner package's cache folder). */
  readonly outDir: string;
  /** Arguments for the owner, after its own path. */
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

const MADE = /^(?:owner|lib)-(\d+)-\d+(?:\.mjs)?$/;

/** Removes bundles and library builds of launchers that are gone. */
export function removeStaleBundles(outDir: string): void {
  let names: string[];
  try {
    names = readdirSync(outDir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(MADE.exec(name)?.[1]);
    if (!pid || pid === process.pid || isProcessAlive(pid)) continue;
    rmSync(join(outDir, name), { recursive: true, force: true });
  }
}

/** Writes `build` to its file: what both `hotshm dev`'s owners and `hotshm start` import. */
export function writeBundle(outDir: string, build: OwnerBuild, seq: number): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `owner-${process.pid}-${seq}.mjs`);
  writeFileSync(file, build.code);
  return file;
}

export function ownerSpawner(options: OwnerSpawnerOptions): (build: OwnerBuild) => OwnerLink {
  let seq = 0;
  return (build) => {
    const file = writeBundle(options.outDir, build, ++seq);
    let child: ChildProcess;
    try {
      child = spawn(
        process.execPath,
        ['--enable-source-maps', options.boot, file, ...options.args],
        {
          stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
          serialization: 'json',
          env: {
            ...(options.env ?? process.env),
            [LAUNCH_ENV]: launchEnvValue('dev', process.pid),
          },
        },
      );
    } catch (e) {
      rmSync(file, { force: true });
      throw new SpawnError(`could not start the owner: ${(e as Error).message}`, { cause: e });
    }
    let spawnError: Error | undefined;
    // An IPC write to an owner that just died (EPIPE) lands here too; its exit is reported apart.
    child.on('error', (e) => {
      spawnError ??= e;
    });
    if (child.pid === undefined) {
      rmSync(file, { force: true });
      throw new SpawnError(
        `could not start the owner: ${spawnError?.message ?? 'the OS gave it no pid'}`,
        { cause: spawnError },
      );
    }
    const pid = child.pid;
    const exited = new Promise<ExitStatus>((resolve) => {
      child.once('exit', (code, signal) => {
        rmSync(file, { force: true });
        resolve({ code, signal });
      });
    });
    return {
      pid,
      send(message) {
        if (child.connected) child.send(message);
      },
      onMessage(listener: (m: FromOwner) => void) {
        child.on('message', (m: unknown) => {
          if (isFromOwner(m)) listener(m);
        });
      },
      exited,
      kill(signal) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      },
    };
  };
}
