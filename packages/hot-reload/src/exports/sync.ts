/**
 * `@hotshm/hot-reload/sync`: wait and wake on a 32-bit word in shared memory, across processes
 * (Linux futex, macOS ulock, a polling fallback). `waitSync` blocks a thread (spin, then park);
 * `waitAsync` never blocks the event loop.
 */
export type {
  SharedWord,
  SyncBackendName,
  WaitAsyncOptions,
  WaitResult,
  WaitSyncOptions,
} from '../sync/index.js';
export {
  sharedWord,
  syncBackendName,
  waitAsync,
  waitSync,
  wake,
} from '../sync/index.js';
