/**
 * The shapes shared by every wait/wake back end: a 32-bit word in shared memory with its own
 * "waiters present" counter beside it, and the interface each platform module implements.
 */

/**
 * A 32-bit word that processes wait on, plus the index of the counter of processes parked on it.
 * Both live in the same `Int32Array` over shared memory; `address` is the native address of the
 * word itself (what the kernel keys a futex on).
 */
export interface SharedWord {
  readonly i32: Int32Array;
  /** Index of the word in `i32`. */
  readonly index: number;
  /** Index in `i32` of the number of waiters parked on the word (0: a waker skips the syscall). */
  readonly waiters: number;
  /** Native address of the word (not of the counter). */
  readonly address: bigint;
}

/**
 * 'ok': the word changed while we waited; 'not-equal': it already differed from `expected` when
 * the wait began; 'timed-out': it still held `expected` when the time ran out.
 */
export type WaitResult = 'ok' | 'not-equal' | 'timed-out';

export type SyncBackendName = 'linux-futex' | 'darwin-ulock' | 'windows-semaphore' | 'polling';

/**
 * What a platform module provides. Every call may return early for any reason (a signal, a
 * spurious wake, a slice that ended): callers always re-check the word and the time left.
 */
export interface SyncBackend {
  readonly name: SyncBackendName;
  /** Sleeps while the word holds `expected`, for at most `timeoutMs` (Infinity: no limit). */
  park(word: SharedWord, expected: number, timeoutMs: number): void;
  /**
   * Like `park` without blocking this thread: calls `done` once the sleep ends (with the error if
   * the OS refused the wait; `timedOut` when the whole timeout passed with no wake). Returns a function that ends the sleep soon (`done` still runs once).
   */
  parkAsync(
    word: SharedWord,
    expected: number,
    timeoutMs: number,
    done: (error: Error | undefined, timedOut: boolean) => void,
  ): () => void;
  /**
   * Wakes up to `count` processes parked on the word. `previous`, when the caller knows it, is
   * the value the word held before the caller's change: a back end may use it to wake exactly
   * the sleepers that saw that value (Windows does; futex and ulock need not).
   */
  wake(word: SharedWord, count: number, previous?: number): void;
}
