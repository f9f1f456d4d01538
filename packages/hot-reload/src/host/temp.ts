/**
 * The one temporary-folder module of both hosts: `/tmp/hotshm-<owner pid>-XXXXXX` for the runner,
 * the library build and bundles. It is removed when the host closes and, through the process exit
 * registry, when the owner ends in any way JavaScript can see (exit, SIGINT/SIGTERM/SIGHUP, an
 * uncaught exception). What SIGKILL or a native crash leaves is removed by the next owner's start:
 * the folder's name carries the dead owner's pid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onProcessExit } from '../lifetime.js';
import { isProcessAlive, removeStaleByPid } from '../native/pids.js';

const NAME = /^hotshm-(\d+)-[A-Za-z0-9]{6}$/;

export interface TempDir {
  readonly path: string;
  /** Removes the folder now (idempotent). */
  remove(): void;
}

export function createTempDir(): TempDir {
  removeStaleTempDirs();
  const path = mkdtempSync(join(tmpdir(), `hotshm-${process.pid}-`));
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    dispose();
    rmSync(path, { recursive: true, force: true });
  };
  const dispose = onProcessExit(() => {
    removed = true;
    rmSync(path, { recursive: true, force: true });
  });
  return { path, remove };
}

/** Removes temporary folders of owners that are no longer alive; returns how many. */
export function removeStaleTempDirs(dir: string = tmpdir()): number {
  return removeStaleByPid(dir, NAME, (pid) => pid === process.pid || isProcessAlive(pid)).length;
}
