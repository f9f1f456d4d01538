/**
 * The fallback that is correct everywhere: no kernel wait at all, just short sleeps between
 * re-checks (the caller has already spun). Used on any platform without a native module, or when
 * HOTSHM_SYNC_BACKEND=polling asks for it. Costs up to about a millisecond of latency per wake
 * (about 15.6 ms on Windows, whose default timer rounds short sleeps up to its tick) and a few
 * hundred tiny wake-ups per second while parked.
 */

import type { SharedWord, SyncBackend } from './types.js';

/** How long one sleep lasts: long enough to cost well under 1% of a core, short enough to feel instant. */
export const POLL_INTERVAL_MS = 1;

// Atomics.wait works on the main thread in Node and sleeps without burning CPU; on a private
// buffer nobody ever notifies, so it is a precise sub-millisecond-capable sleep.
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export function createPollingBackend(intervalMs = POLL_INTERVAL_MS): SyncBackend {
  return {
    name: 'polling',
    park(word: SharedWord, expected: number, timeoutMs: number): void {
      if (Atomics.load(word.i32, word.index) !== expected) return;
      sleepSync(Math.min(timeoutMs, intervalMs));
    },
    parkAsync(
      _word: SharedWord,
      _expected: number,
      timeoutMs: number,
      done: (error: Error | undefined, timedOut: boolean) => void,
    ) {
      // A poll is not a sleep that a wake could have ended: never report it as timed out.
      setTimeout(() => done(undefined, false), Math.min(timeoutMs, intervalMs));
      return () => {
        // Nothing to do: the timer ends within one interval anyway, and calls `done`.
      };
    },
    wake(): void {
      // Sleepers re-check on their own within one interval.
    },
  };
}
