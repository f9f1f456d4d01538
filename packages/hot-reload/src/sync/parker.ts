/**
 * Awaitable waits that leave the event loop free. A koffi `.async` call holds one of libuv's four
 * pool threads for as long as it sleeps, so this process never parks more than ONE of them, however
 * many waits are pending: a process-wide parker sleeps on behalf of all of them and, each time it
 * returns, re-checks every pending wait and sleeps again if some are still unmet.
 *
 * Which word the one sleep is on:
 *   - every pending wait names the same doorbell (a region-wide word that every producer of the
 *     region bumps after publishing): sleep on the doorbell, so one sleep serves every channel;
 *   - every pending wait is on the same word: sleep on that word;
 *   - otherwise (waits on unrelated words): sleep in short slices and poll them all.
 *
 * Right after this thread has woken a sleeper (a send that made the wake syscall), a wait does
 * not park at once: for REPLY_WINDOW_MICROS after that wake it polls on the event loop instead
 * (one look per setImmediate turn). The peer just woken answers only after its own wake-up — the
 * kernel wakes its pool thread, which wakes its event loop: two thread switches, 40–300 µs on this
 * 2-core machine — and if we were parked by then, its answer would cost us the same two switches
 * again. Both sides then sleep on every round trip, each wake-up outlasts the other side's spin,
 * and the pair stays in that mode: measured with async ping-pongs between two processes, runs of
 * more than 300 consecutive round trips at 60–600 µs each, from one late reply. Polling through
 * the peer's wake-up catches its answer awake, the next message finds the peer still spinning,
 * and the pair is back on the spin path after one slow round trip. A blocking spin would do the
 * same for the round trip but hold the event loop, and was worse besides: the woken threads often
 * queue on the spinning core. The cost is at most one window of polling per wake syscall.
 *
 * Polling only pays while this thread has a core to itself. With every core busy (measured with
 * a load average of 10 on the 2 cores: other test suites running), polling takes a core from the
 * very peer it waits for, its wake-ups stretch to milliseconds, and pure polling did worse than
 * parking at once. So a turn that comes more than POLL_TURN_MAX_MICROS after the previous one
 * (this thread was preempted, or the loop had other work) ends the polling and parks. Nothing
 * that spins holds up on such a machine, recvSync's spin included; what would is a wake-up in one
 * thread switch instead of two, which the futex-on-a-pool-thread design cannot give.
 *
 * Sleeps are finite slices, so a lost wake could only ever cost one slice, and when the last
 * pending wait goes away (met, timed out or aborted) the parker wakes its own sleep at once: no
 * pool thread stays parked and process exit is never held up. While a wait is pending the parked
 * call keeps the process alive, as a pending socket read would.
 *
 * Atomics.waitAsync is not used: it cannot wait on memory that is not a SharedArrayBuffer, and on
 * Node 20 it loses wake-ups without a timeout.
 */

import { syncBackend } from './backend.js';
import type { SharedWord, WaitResult } from './types.js';
import { arriveWaiter, checkTimeout, lastWakeAt, leaveWaiter } from './wait.js';

/** Longest single sleep while one word (or one doorbell) serves every pending wait. */
export const PARK_SLICE_MS = 500;
/** Sleep length while waits on unrelated words are polled. */
export const MIXED_SLICE_MS = 1;
/**
 * How long after this thread's last wake syscall a wait polls on the event loop rather than park
 * (see above): longer than most wake-ups of a peer on a busy 2-core machine (40–300 µs measured).
 */
export const REPLY_WINDOW_MICROS = 200;

export interface WaitAsyncOptions {
  /** Rejects the promise with `signal.reason` when aborted. */
  readonly signal?: AbortSignal;
  /**
   * A doorbell that is rung (see `ringDoorbell`) after every change of `word`: lets one parked
   * call serve all the words behind the same doorbell.
   */
  readonly doorbell?: SharedWord;
  /**
   * Looked at each time the process-wide sleep wakes up: when it returns true the wait resolves
   * with 'ok' as if the word had moved (see WaitSyncOptions.until).
   */
  readonly until?: () => boolean;
}

interface PendingWait {
  readonly word: SharedWord;
  readonly expected: number;
  readonly doorbell: SharedWord | undefined;
  readonly until: (() => boolean) | undefined;
  readonly resolve: (result: WaitResult) => void;
  readonly reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const pending = new Set<PendingWait>();
let parked: { readonly cancel: () => void; readonly on: SharedWord | undefined } | undefined;
/** Whether a setImmediate look is scheduled (polling through a woken peer's wake-up). */
let polling = false;
let parkCount = 0;
let timeoutCount = 0;
let pollCount = 0;

export interface ParkerStats {
  /** Sleeps started in this process. */
  readonly parks: number;
  /** Sleeps that lasted their whole slice with no wake (a ping-pong should see none). */
  readonly timeouts: number;
  /** Event-loop turns spent looking at pending waits instead of sleeping, after a wake syscall. */
  readonly polls: number;
  /** Waits pending now. */
  readonly pending: number;
  /** Whether a sleep is in progress (holding one pool thread). */
  readonly parked: boolean;
}

/** Counters of the process-wide parker, for tests and diagnostics. */
export function parkerStats(): ParkerStats {
  return {
    parks: parkCount,
    timeouts: timeoutCount,
    polls: pollCount,
    pending: pending.size,
    parked: parked !== undefined,
  };
}

function settle(wait: PendingWait): void {
  pending.delete(wait);
  if (wait.timer !== undefined) clearTimeout(wait.timer);
  if (wait.onAbort !== undefined) wait.signal?.removeEventListener('abort', wait.onAbort);
}

/** Resolves every pending wait whose word has moved. */
function sweep(): void {
  for (const wait of pending) {
    if (Atomics.load(wait.word.i32, wait.word.index) !== wait.expected || wait.until?.()) {
      settle(wait);
      wait.resolve('ok');
    }
  }
}

function sameWord(a: SharedWord | undefined, b: SharedWord | undefined): boolean {
  return a !== undefined && b !== undefined && a.address === b.address;
}

/** Picks the word to sleep on and how long, or undefined for "poll in short slices". */
function target(): SharedWord | undefined {
  let bell: SharedWord | undefined;
  let word: SharedWord | undefined;
  let first = true;
  for (const wait of pending) {
    if (first) {
      bell = wait.doorbell;
      word = wait.word;
      first = false;
      continue;
    }
    if (!sameWord(bell, wait.doorbell)) bell = undefined;
    if (!sameWord(word, wait.word)) word = undefined;
    if (bell === undefined && word === undefined) break;
  }
  return bell ?? word;
}

/** When the last polling turn ran (performance.now()), to tell a free core from a contended one. */
let lastTurn = Number.NEGATIVE_INFINITY;
/**
 * A polling turn that comes later than this after the previous one means this thread lost its core
 * meanwhile (preempted, or the event loop had other work): the cores are contended, and polling
 * on would take one from the peer we wait for. Park instead.
 */
const POLL_TURN_MAX_MICROS = 50;

function pollTurn(): void {
  polling = false;
  const now = performance.now();
  const late = (now - lastTurn) * 1000 > POLL_TURN_MAX_MICROS;
  lastTurn = now;
  pump(late);
}

function pump(contended = false): void {
  if (parked !== undefined || polling) return;
  sweep();
  if (pending.size === 0) return;
  if (!contended && (performance.now() - lastWakeAt()) * 1000 < REPLY_WINDOW_MICROS) {
    lastTurn = performance.now();
    // A peer we just woke is on its way: look again next turn rather than sleep (see above).
    pollCount++;
    polling = true;
    setImmediate(pollTurn);
    return;
  }
  const backend = syncBackend();
  const on = target();
  if (on === undefined) {
    // Waits on unrelated words: no single word to sleep on, so poll them.
    const any = pending.values().next().value as PendingWait;
    park(backend, any.word, Atomics.load(any.word.i32, any.word.index), MIXED_SLICE_MS, undefined);
    return;
  }
  // Count ourselves as a waiter BEFORE the last look at the words, and read the value we sleep on
  // before that look too: a producer that publishes after our look then either sees the count
  // and wakes us, or changes the value first so the kernel refuses to sleep (see wait.ts).
  arriveWaiter(on.i32, on.waiters);
  const value = Atomics.load(on.i32, on.index);
  sweep();
  if (pending.size === 0) {
    leaveWaiter(on.i32, on.waiters);
    return;
  }
  park(backend, on, value, PARK_SLICE_MS, on);
}

function park(
  backend: ReturnType<typeof syncBackend>,
  word: SharedWord,
  value: number,
  sliceMs: number,
  counted: SharedWord | undefined,
): void {
  parkCount++;
  let returned = false;
  const cancel = backend.parkAsync(word, value, sliceMs, (error, timedOut) => {
    returned = true;
    if (timedOut) timeoutCount++;
    parked = undefined;
    if (counted !== undefined) leaveWaiter(counted.i32, counted.waiters);
    if (error !== undefined) {
      // The OS refused to wait (not a signal, not a timeout): fail every pending wait loudly
      // rather than spin on a call that will never sleep.
      for (const wait of [...pending]) {
        settle(wait);
        wait.reject(error);
      }
      return;
    }
    pump();
  });
  if (!returned) parked = { cancel, on: counted };
}

/** Ends the current sleep early if nothing is left to wait for, or if the target changed. */
function reconsider(): void {
  if (parked === undefined) return;
  parked.cancel();
}

/**
 * Resolves once the word no longer holds `expected` ('ok', or 'not-equal' if it already differed),
 * or with 'timed-out' after `timeoutMs`. Never blocks the event loop.
 *
 * @example
 * const seen = Atomics.load(word.i32, word.index);
 * await waitAsync(word, seen, 1000);
 */
export function waitAsync(
  word: SharedWord,
  expected: number,
  timeoutMs?: number,
  options?: WaitAsyncOptions,
): Promise<WaitResult> {
  const timeout = checkTimeout(timeoutMs, 'waitAsync');
  expected |= 0;
  const signal = options?.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  if (Atomics.load(word.i32, word.index) !== expected) return Promise.resolve('not-equal');
  if (timeout === 0) return Promise.resolve('timed-out');
  return new Promise<WaitResult>((resolve, reject) => {
    const wait: PendingWait = {
      word,
      expected,
      doorbell: options?.doorbell,
      until: options?.until,
      resolve,
      reject,
      timer: undefined,
      signal,
      onAbort: undefined,
    };
    const drop = (): void => {
      settle(wait);
      if (pending.size === 0) reconsider();
    };
    if (Number.isFinite(timeout)) {
      wait.timer = setTimeout(() => {
        drop();
        resolve('timed-out');
      }, timeout);
    }
    if (signal !== undefined) {
      wait.onAbort = () => {
        drop();
        reject(signal.reason);
      };
      signal.addEventListener('abort', wait.onAbort, { once: true });
    }
    pending.add(wait);
    if (parked === undefined) pump();
    // Already asleep on a word that does not cover this wait: wake up and choose again.
    else if (!sameWord(parked.on, target())) reconsider();
  });
}
