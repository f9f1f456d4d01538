/**
 * What an ended process left behind, found by the pid in its name: the one rule behind every
 * stale cleanup (regions in /dev/shm and their records, temporary folders, log files, the
 * processes of a dead owner's renderers). Something is stale when it names at least one pid and
 * no process has any of them (kill(pid, 0) says ESRCH). A live pid keeps it, even if the pid was
 * reused by an unrelated process: leaking one file is better than pulling it from under a running
 * owner. This process's own pid is alive, so nothing of its own is ever stale. Caveat: a pid from
 * another pid namespace sharing the folder (containers) looks dead here.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * The items whose processes are all gone: `pidsOf` says which pids an item names (none: it is
 * not one of ours, and never stale).
 *
 * @example
 * staleByPid(['/hotshm-31337-0a1b2c3d'], ownerPidOf); // ['/hotshm-31337-0a1b2c3d'] once 31337 ended
 */
export function staleByPid<T>(
  items: Iterable<T>,
  pidsOf: (item: T) => number | undefined | ReadonlyArray<number | undefined>,
  isAlive: (pid: number) => boolean = isProcessAlive,
): T[] {
  const out: T[] = [];
  for (const item of items) {
    const named = pidsOf(item);
    const pids = (Array.isArray(named) ? named : [named]).filter(
      (p): p is number => p !== undefined,
    );
    if (pids.length > 0 && !pids.some((p) => isAlive(p))) out.push(item);
  }
  return out;
}

/**
 * Removes the entries of `dir` (files or folders) whose name matches `pattern`, whose first
 * group is a pid, and whose process is gone; returns the names it removed. An entry another
 * process removes at the same moment, or that is not ours to remove, is skipped.
 *
 * @example
 * removeStaleByPid(tmpdir(), /^hotshm-(\d+)-[A-Za-z0-9]{6}$/); // the temporary folders of dead owners
 */
export function removeStaleByPid(
  dir: string,
  pattern: RegExp,
  isAlive: (pid: number) => boolean = isProcessAlive,
): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  // exec on a /g or /y pattern would start where the last match ended.
  const once = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const pidOf = (name: string): number | undefined => {
    const group = once.exec(name)?.[1];
    const pid = group === undefined ? Number.NaN : Number(group);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  };
  const removed: string[] = [];
  for (const name of staleByPid(names, pidOf, isAlive)) {
    try {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    } catch {
      // another owner removing it at the same time, or not ours to remove
    }
  }
  return removed;
}
