/**
 * Picks the wait/wake module once, at first use: Linux futex, macOS ulock, Windows named
 * semaphores (WaitOnAddress only works between threads of one process), and the polling module
 * everywhere else. HOTSHM_SYNC_BACKEND=polling forces the fallback (tests, or a platform module
 * that misbehaves).
 */

import { InvalidArgumentError } from '../errors.js';
import { createDarwinBackend } from './darwin.js';
import { createLinuxBackend } from './linux.js';
import { createPollingBackend } from './polling.js';
import type { SyncBackend, SyncBackendName } from './types.js';
import { createWindowsBackend } from './windows.js';

export const SYNC_BACKEND_ENV = 'HOTSHM_SYNC_BACKEND';

function pick(): SyncBackend {
  const forced = process.env[SYNC_BACKEND_ENV];
  if (forced !== undefined && forced !== '') {
    const names: readonly SyncBackendName[] = [
      'linux-futex',
      'darwin-ulock',
      'windows-semaphore',
      'polling',
    ];
    if (!names.includes(forced as SyncBackendName)) {
      throw new InvalidArgumentError(
        `${SYNC_BACKEND_ENV}: expected one of ${names.join(', ')}, got ${JSON.stringify(forced)}`,
      );
    }
    if (forced === 'polling') return createPollingBackend();
    if (forced === 'darwin-ulock') return createDarwinBackend();
    if (forced === 'windows-semaphore') return createWindowsBackend();
    return createLinuxBackend();
  }
  if (process.platform === 'linux') return createLinuxBackend();
  if (process.platform === 'darwin') return createDarwinBackend();
  if (process.platform === 'win32') return createWindowsBackend();
  return createPollingBackend();
}

let current: SyncBackend | undefined;

/** The module this process uses, built on first call. */
export function syncBackend(): SyncBackend {
  current ??= pick();
  return current;
}

/** Which module this process waits with: 'linux-futex', 'darwin-ulock', 'windows-semaphore' or 'polling'. */
export function syncBackendName(): SyncBackendName {
  return syncBackend().name;
}
