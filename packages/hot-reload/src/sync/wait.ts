/**
 * Spin-then-park waiting on a shared word, and the wake that skips the syscall when nobody sleeps.
 *
 * The "waiters present" counter makes a wake free in the common case, and stays race-free thanks
 * to one ordering rule, with every access a sequentially consistent Atomics operation:
 *   - a waiter increments the counter BEFORE its last check of the word (and the kernel checks the
 *     word once more, atomically, before sleeping);
 *   - a waker changes the word BEFORE it reads the counter.
 * In the single total order of those operations, either the waker's read of the counter comes
 * after the waiter's increment (it sees a sleeper and makes the syscall), or it comes before, and
 * then the waiter's check comes after the waker's change (the waiter sees the new value and never
 * sleeps). There is no interleaving in which the waiter sleeps on a value that already changed
 * while the waker skips the syscall.
 */

import { InvalidArgumentError } from '../errors.js';
import { syncBackend } from './backend.js';
import type { SharedWord, WaitResult } from './types.js';

/**
 * How long a synchronous wait spins before parking. A round trip between two spinning processes
 * takes well under a microsecond; a futex wake costs ~20 µs more. Spinning a little longer than a
 * typical reply time keeps ping-pongs off the kernel path, and stops soon enough that an idle
 * waiter costs nothing.
 */
export const DEFAULT_SPIN_MICROS = 50;

/**
 * Reads the waiters word with a read-modify-write (adding 0) rather than a load. The rule above
 * needs the caller's store to the word to be visible before this read; a locked instruction
 * guarantees that on every CPU, where a plain load after a store may be satisfied early (x86's
 * store buffer) — seen here as a rare lost wake-up when the ring's publish was a store followed
 * by a load. It costs little: the word sits on a line the producer already owns.
 */
function readWaiters(i32: Int32Array, waiters: number): number {
  return Atomics.add(i32, waiters, 0);
}

/** Counts the caller as a waiter on the word: call it BEFORE the last look at the word. */
export function arriveWaiter(i32: Int32Array, waiters: number): void {
  Atomics.add(i32, waiters, 1);
}

/**
 * Uncounts the caller once its sleep is over. (No "a wake is already on its way" flag lets
 * wakers skip syscalls: a wake made just before a waiter falls asleep is lost for it, so any
 * such memo can leave a sleeper unwoken. Every waker that sees a count makes the syscall.)
 */
export function leaveWaiter(i32: Int32Array, waiters: number): void {
  Atomics.sub(i32, waiters, 1);
}

let lastWake = Number.NEGATIVE_INFINITY;

/**
 * When this thread last made a wake syscall (`performance.now()`), i.e. last woke someone who
 * was asleep. The async parker uses it: a peer just woken will answer only after its wake-up.
 */
export function lastWakeAt(): number {
  return lastWake;
}

export interface WaitSyncOptions {
  /** Microseconds to spin re-reading the word before parking; 0 parks at once. */
  readonly spinMicros?: number;
  /**
   * Looked at each time the wait wakes up: when it returns true the wait ends early with 'ok',
   * as if the word had moved. Lets another process interrupt a wait with a plain wake (no change
   * of the word), after it set a flag of its own that this reads.
   */
  readonly until?: () => boolean;
}

export function checkTimeout(timeoutMs: unknown, what: string): number {
  if (timeoutMs === undefined) return Number.POSITIVE_INFINITY;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new InvalidArgumentError(
      `${what}: expected a timeout in milliseconds ≥ 0 (or undefined for none), got ${String(timeoutMs)}`,
    );
  }
  return timeoutMs;
}

/**
 * Blocks this thread until the word no longer holds `expected`, or `timeoutMs` passes.
 * For a dedicated renderer process or a worker: the event loop does not run meanwhile.
 *
 * @example
 * if (waitSync(word, seen, 100) === 'timed-out') console.log('nothing in 100 ms');
 */
export function waitSync(
  word: SharedWord,
  expected: number,
  timeoutMs?: number,
  options?: WaitSyncOptions,
): WaitResult {
  const timeout = checkTimeout(timeoutMs, 'waitSync');
  const { i32, index, waiters } = word;
  expected |= 0;
  if (Atomics.load(i32, index) !== expected) return 'not-equal';
  const start = performance.now();
  const deadline = start + timeout;
  const spinEnd = start + Math.min(timeout, (options?.spinMicros ?? DEFAULT_SPIN_MICROS) / 1000);
  // Reading the clock costs more than reading the word: look at it once every 64 reads.
  for (let i = 1; ; i++) {
    if (Atomics.load(i32, index) !== expected) return 'ok';
    if ((i & 63) === 0 && performance.now() >= spinEnd) break;
  }
  const backend = syncBackend();
  for (;;) {
    const remaining = deadline - performance.now();
    if (remaining <= 0) return 'timed-out';
    arriveWaiter(i32, waiters);
    try {
      // After the increment (see the module comment).
      if (Atomics.load(i32, index) !== expected) return 'ok';
      backend.park(word, expected, remaining);
    } finally {
      leaveWaiter(i32, waiters);
    }
    // Woken, interrupted (EINTR), or the word moved before we slept (EAGAIN): look again.
    if (Atomics.load(i32, index) !== expected) return 'ok';
    if (options?.until?.()) return 'ok';
  }
}

/**
 * Wakes up to `count` waiters of the word (all by default). Call it AFTER changing the word.
 * Returns true if it had to make the wake syscall, false when nobody was parked (the common case,
 * which costs one atomic read).
 */
export function wake(word: SharedWord, count = Number.POSITIVE_INFINITY): boolean {
  return wakeFrom(word, count, undefined);
}

/** `wake`, telling the back end which value the word held before the change, when known. */
function wakeFrom(word: SharedWord, count: number, previous: number | undefined): boolean {
  // After the caller's change of the word (see the module comment).
  if (readWaiters(word.i32, word.waiters) === 0) return false;
  syncBackend().wake(word, count, previous);
  lastWake = performance.now();
  return true;
}

/**
 * Sets the word to `value` and wakes its waiters if any are parked.
 */
export function storeAndWake(word: SharedWord, value: number): boolean {
  const previous = Atomics.exchange(word.i32, word.index, value);
  return wakeFrom(word, Number.POSITIVE_INFINITY, previous);
}

/**
 * Rings a doorbell: a word that only ever counts up, shared by many producers, so that one parked
 * waiter can serve many queues (see `waitAsync`'s `doorbell` option). Call it after publishing.
 */
export function ringDoorbell(bell: SharedWord): boolean {
  // Nobody parked on the bell: skip the shared read-modify-write, which every send would pay.
  // Race-free by the module's rule: a waiter counts itself, THEN reads the bell and looks at its
  // queues; the caller published BEFORE this read. Either we see the count and ring, or the
  // waiter's look comes after our publish and finds the message without sleeping.
  if (readWaiters(bell.i32, bell.waiters) === 0) return false;
  const previous = Atomics.add(bell.i32, bell.index, 1);
  return wakeFrom(bell, Number.POSITIVE_INFINITY, previous);
}

/** Builds a SharedWord over byte `byteOffset` of a mapping (its waiter counter at `waitersByteOffset`). */
export function sharedWord(
  buffer: ArrayBuffer | SharedArrayBuffer,
  address: bigint,
  byteOffset: number,
  waitersByteOffset: number = byteOffset + 4,
): SharedWord {
  if (byteOffset % 4 !== 0 || waitersByteOffset % 4 !== 0) {
    throw new InvalidArgumentError(
      `sharedWord: expected 4-byte aligned offsets, got ${byteOffset} and ${waitersByteOffset}`,
    );
  }
  return {
    // Whole words only: a region's byte length need not be a multiple of 4.
    i32: new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4)),
    index: byteOffset / 4,
    waiters: waitersByteOffset / 4,
    address: address + BigInt(byteOffset),
  };
}
