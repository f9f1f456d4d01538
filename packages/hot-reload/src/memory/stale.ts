/**
 * Regions left behind by owners that died without cleaning up (SIGKILL, a crash in native code,
 * power loss of the terminal). Every region name carries its owner's pid, so at the next start
 * we can find the ones whose owner is gone and remove them.
 *
 * Two sources of names, both of this user only: the OS's own list where there is one (Linux:
 * /dev/shm), and the records owners keep of the regions they create (records.ts; the only source
 * on macOS, which cannot list named shared memory). Only names of the form
 * `/hotshm-<pid>-<8 hex>` are considered, and a region is stale only if no process has its pid —
 * for a record, neither the name's pid nor the pid of the process that created it (the rule of
 * every stale cleanup, and its caveats: ../native/pids.ts).
 *
 * Windows needs none of this: the kernel frees a mapping with its last handle, so nothing can be
 * left behind, and both functions return [] there.
 */

import { isProcessAlive, staleByPid } from '../native/pids.js';
import type { RegionBackend } from './backend.js';
import { currentBackend } from './platform.js';
import {
  RECORDED_NAME,
  type RegionDiagnostic,
  type RegionRecord,
  recordsDiagnostic,
} from './records.js';

/** The owner pid encoded in a region name, or undefined if the name is not one of ours. */
export function ownerPidOf(name: string): number | undefined {
  const match = RECORDED_NAME.exec(name);
  if (match === null) return undefined;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) ? pid : undefined;
}

export { isProcessAlive };

/** Pure core of the scan: the names whose owner pid is not alive. */
export function staleNames(names: readonly string[], isAlive: (pid: number) => boolean): string[] {
  return staleByPid(names, ownerPidOf, isAlive);
}

/** Pure core of the record scan: the recorded names whose name pid and creator pid are both dead. */
export function staleRecords(
  records: readonly RegionRecord[],
  isAlive: (pid: number) => boolean,
): string[] {
  // Not one of our names: never stale, whatever pid the file holds.
  const pidsOf = ({ name, pid }: RegionRecord) => {
    const owner = ownerPidOf(name);
    return owner === undefined ? [] : [owner, pid];
  };
  return staleByPid(records, pidsOf, isAlive).map(({ name }) => name);
}

/** What a stale scan found, and what it could not look at (a records directory it cannot use). */
export interface StaleRegions {
  readonly stale: string[];
  readonly diagnostics: RegionDiagnostic[];
}

/** What a stale cleanup removed, and what it could not do. */
export interface StaleRegionCleanup {
  readonly removed: string[];
  readonly diagnostics: RegionDiagnostic[];
}

/**
 * The stale regions `backend` can find: from its listing and from its records. A record whose
 * region is already gone is listed too (removing it then just drops the record).
 */
export function staleRegionsOf(
  backend: RegionBackend,
  isAlive: (pid: number) => boolean = isProcessAlive,
): StaleRegions {
  const found = new Set<string>();
  const diagnostics: RegionDiagnostic[] = [];
  const listed = backend.listNames();
  if (listed !== undefined) for (const name of staleNames(listed, isAlive)) found.add(name);
  let records: RegionRecord[] = [];
  try {
    records = backend.records?.list() ?? [];
  } catch (error) {
    diagnostics.push(
      recordsDiagnostic(
        'could not read the region records, so regions of killed owners stay',
        error,
      ),
    );
  }
  for (const name of staleRecords(records, isAlive)) found.add(name);
  return { stale: [...found], diagnostics };
}

/**
 * Unlinks the regions `staleRegionsOf(backend)` finds (which also drops their records) and
 * returns the names that were there to remove. One failure does not stop the others.
 */
export function removeStaleRegionsOf(
  backend: RegionBackend,
  isAlive: (pid: number) => boolean = isProcessAlive,
): StaleRegionCleanup {
  const removed: string[] = [];
  let firstError: unknown;
  const { stale, diagnostics } = staleRegionsOf(backend, isAlive);
  for (const name of stale) {
    try {
      if (backend.unlink(name)) removed.push(name);
    } catch (error) {
      firstError ??= error;
    }
  }
  if (firstError !== undefined) throw firstError;
  return { removed, diagnostics };
}

/**
 * Names of this user's regions whose owner process no longer exists. A records directory it
 * cannot read hides the regions only it knew of (`removeStaleRegions` says so).
 *
 * @example
 * listStaleRegions(); // ['/hotshm-31337-0a1b2c3d']
 */
export function listStaleRegions(): string[] {
  return staleRegionsOf(currentBackend()).stale;
}

/**
 * Removes the regions `listStaleRegions` finds: returns the names it removed, and what it could
 * not do without failing (the region records it could not read), for an owner to report as host
 * `warning` events. Safe to call at every start; mappings other processes still hold stay valid.
 *
 * @example
 * const { removed, diagnostics } = removeStaleRegions();
 */
export function removeStaleRegions(): StaleRegionCleanup {
  return removeStaleRegionsOf(currentBackend());
}
