/**
 * sync: wait and wake on a 32-bit word across processes. Linux futex, macOS ulock (untested),
 * Windows named semaphores and a polling fallback behind one interface chosen once at load;
 * spin-then-park synchronous waits, and awaitable waits that park at most one pool thread.
 */

export { SYNC_BACKEND_ENV, syncBackend, syncBackendName } from './backend.js';
export type { ParkerStats, WaitAsyncOptions } from './parker.js';
export {
  MIXED_SLICE_MS,
  PARK_SLICE_MS,
  parkerStats,
  REPLY_WINDOW_MICROS,
  waitAsync,
} from './parker.js';
export { createPollingBackend, POLL_INTERVAL_MS } from './polling.js';
export type { SharedWord, SyncBackend, SyncBackendName, WaitResult } from './types.js';
export type { WaitSyncOptions } from './wait.js';
export {
  checkTimeout,
  DEFAULT_SPIN_MICROS,
  ringDoorbell,
  sharedWord,
  storeAndWake,
  waitSync,
  wake,
} from './wait.js';
