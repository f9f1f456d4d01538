/**
 * Picks the wait/wake module once, at first use: Linux futex, macOS ulock, and the polling module
 * everywhere else (Windows included: WaitOnAddress only works between threads of one process, and
 * named events would need one kernel object per word; polling is correct with no setup at all).
 * HOTSHM_SYNC_BACKEND=polling forces the fallback (tests, or a platform module that misbehaves).
 */

import { InvalidArgumentError } from '../errors.js';
import { createDarwinBackend } from './darwin.js';
import { createLinuxBackend } from './linux.js';
import { createPollingBackend } from './polling.js';
import type { SyncBackend, SyncBackendName } from './types.js';

export const SYNC_BACKEND_ENV = 'HOTSHM_SYNC_BACKEND';

function pick(): SyncBackend {
  const forced = process.env[SYNC_BACKEND_ENV];
  if (forced !== undefined && forced !== '') {
    const names: readonly SyncBackendName[] = ['linux-futex', 'darwin-ulock', 'polling'];
    if (!names.includes(forced as SyncBackendName)) {
      throw new InvalidArgumentError(
        `${SYNC_BACKEND_ENV}: expected one of ${names.join(', ')}, got ${JSON.stringify(forced)}`,
      );
    }
    if (forced === 'polling') return createPollingBackend();
    if (forced === 'darwin-ulock') return createDarwinBackend();
    return createLinuxBackend();
  }
  if (process.platform === 'linux') return createLinuxBackend();
  if (process.platform === 'darwin') return createDarwinBackend();
  return createPollingBackend();
}

let current: SyncBackend | undefined;

/** The module this process uses, built on first call. */
export function syncBackend(): SyncBackend {
  current ??= pick();
  return current;
}

/** Which module this process waits with: 'linux-futex', 'darwin-ulock' or 'polling'. */
export function syncBackendName(): SyncBackendName {
  return syncBackend().name;
}
