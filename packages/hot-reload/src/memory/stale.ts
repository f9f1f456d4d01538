/**
 * Regions left behind by owners that died without cleaning up (SIGKILL, a crash in native code,
 * power loss of the terminal). Every region name carries its owner's pid, so at the next start
 * we can find the ones whose owner is gone and remove them.
 *
 * Only names of the form `/hotshm-<pid>-<8 hex>` owned by this user are considered, and a region
 * is stale only if no process has its pid (kill(pid, 0) says ESRCH). A live pid keeps its region
 * even if the pid was reused by an unrelated process: leaking one region is better than pulling
 * it from under a running owner. Caveat: a pid from another pid namespace sharing this /dev/shm
 * (containers) looks dead here.
 *
 * macOS and Windows cannot list named shared memory: there both functions return [] (on Windows
 * the kernel frees a mapping with its last handle anyway, so nothing can be left behind).
 */

import { currentBackend } from './platform.js';

const REGION_NAME = /^\/hotshm-([1-9][0-9]*)-[0-9a-f]{8}$/;

/** The owner pid encoded in a region name, or undefined if the name is not one of ours. */
export function ownerPidOf(name: string): number | undefined {
  const match = REGION_NAME.exec(name);
  if (match === null) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) ? pid : undefined;
}

/** True if a process with this pid exists (whoever owns it). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Pure core of the scan: the names whose owner pid is not alive. */
export function staleNames(names: readonly string[], isAlive: (pid: number) => boolean): string[] {
  return names.filter((name) => {
    const pid = ownerPidOf(name);
    return pid !== undefined && !isAlive(pid);
  });
}

/**
 * Names of this user's regions whose owner process no longer exists.
 *
 * @example
 * listStaleRegions(); // ['/hotshm-31337-0a1b2c3d']
 */
export function listStaleRegions(): string[] {
  const names = currentBackend().listNames();
  return names === undefined ? [] : staleNames(names, isProcessAlive);
}

/**
 * Removes the regions `listStaleRegions` finds and returns the names it removed. Safe to call
 * at every start; mappings other processes still hold stay valid.
 */
export function removeStaleRegions(): string[] {
  const backend = currentBackend();
  return listStaleRegions().filter((name) => backend.unlink(name));
}
