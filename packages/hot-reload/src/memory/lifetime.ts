/**
 * The owner's cleanup hook for a region: remove its name when the owner process ends, so nothing
 * is left in /dev/shm. Named shared memory outlives its processes on POSIX; only unlink removes
 * it. Which endings can be seen is described in ../lifetime.ts; what SIGKILL or a native crash
 * leaves is removed by the next owner's `removeStaleRegions`, which finds it by the dead pid in
 * its name: in /dev/shm on Linux, through the owner's region records on macOS.
 */

import { onProcessExit } from '../lifetime.js';
import type { Region } from './region.js';

/**
 * Unlinks `region` when this process ends. Returns a disposer that cancels it.
 *
 * @example
 * const region = createRegion(newRegionName(), size);
 * const cancel = unlinkOnExit(region);
 */
export function unlinkOnExit(region: Region): () => void {
  return onProcessExit(() => region.unlink());
}
