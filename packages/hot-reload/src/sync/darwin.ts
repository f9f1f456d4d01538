/**
 * macOS: the __ulock_wait / __ulock_wake pair libdispatch and libc++ use, with
 * UL_COMPARE_AND_WAIT_SHARED so the kernel keys the wait on the shared memory object and offset
 * (not on this process's address) and it works between processes. os_sync_wait_on_address is the
 * public spelling but only exists from macOS 14.4; the __ulock calls exist since 10.12.
 *
 * Written from XNU's bsd/sys/ulock.h (a private header: it is not in the macOS SDK) and
 * bsd/kern/sys_ulock.c, and from how libdispatch (src/shims/lock.c) calls them; darwin.test.ts
 * checks every value against the header line it comes from. UNTESTED on a Mac by this project's
 * own CI (the GitHub workflow's macOS runner is where it first can run). Set
 * HOTSHM_SYNC_BACKEND=polling to fall back to the polling module if it misbehaves.
 *
 * Results, with ULF_NO_ERRNO (the return value is -errno instead of -1 and errno):
 * - >= 0: woken, or the word did not hold `expected` (the kernel compares under its lock).
 * - ETIMEDOUT: the timeout passed. EINTR: a signal. Both only mean "look at the word again".
 * - EFAULT: the kernel reads the word with page faults disabled (it holds a spinlock), so a word
 *   whose page is not resident makes the wait return EFAULT at once ("let the user level code
 *   fault it in", sys_ulock.c). libdispatch's _dlock_wait hands EFAULT to its caller, whose loop
 *   reads the word (an ordinary load, which faults the page in) and waits again. We do the same
 *   here, but not forever: after MAX_CONSECUTIVE_FAULTS EFAULTs in a row with the word still
 *   holding `expected` — a page that cannot be made resident — the wait fails with
 *   RegionSystemError instead of spinning through the kernel at full speed.
 * - anything else (EINVAL: misaligned or unmapped address, EDOM, ENOMEM…): RegionSystemError.
 * __ulock_wake returns ENOENT when nobody was parked, which is not an error.
 */

import { NativeCallError, RegionSystemError } from '../errors.js';
import { bindNative, loadLibc } from '../native/libc.js';
import type { SharedWord, SyncBackend } from './types.js';

/** From XNU bsd/sys/ulock.h. */
export const ULOCK = {
  UL_COMPARE_AND_WAIT_SHARED: 3,
  ULF_WAKE_ALL: 0x00000100,
  ULF_NO_ERRNO: 0x01000000,
} as const;

/** From XNU bsd/sys/errno.h (ETIMEDOUT differs from Linux's 110). */
export const DARWIN_ERRNO = {
  ENOENT: 2,
  EINTR: 4,
  EFAULT: 14,
  ETIMEDOUT: 60,
} as const;

/** The wait operation: compare-and-wait keyed on the shared object, errors as return values. */
export const WAIT_OPERATION = ULOCK.UL_COMPARE_AND_WAIT_SHARED | ULOCK.ULF_NO_ERRNO;
/** How many EFAULTs in a row, each after touching the word, before a wait gives up. */
export const MAX_CONSECUTIVE_FAULTS = 16;
/** __ulock_wait's timeout is a uint32 of microseconds, 0 meaning forever: cap each sleep. */
const MAX_TIMEOUT_US = 0xffffffff;

/** The two system calls, as the back end uses them (bound through koffi on macOS). */
export interface UlockCalls {
  wait(operation: number, address: bigint, value: number, timeoutUs: number): number;
  waitAsync(
    operation: number,
    address: bigint,
    value: number,
    timeoutUs: number,
    done: (error: unknown, result: number) => void,
  ): void;
  wake(operation: number, address: bigint, wakeValue: number): number;
}

function bindUlock(): UlockCalls {
  const lib = loadLibc('darwin');
  const wait = bindNative('__ulock_wait', () =>
    lib.func(
      'int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us)',
    ),
  );
  const wake = bindNative('__ulock_wake', () =>
    lib.func('int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value)'),
  );
  return {
    wait: (operation, address, value, timeoutUs) =>
      wait(operation, address, value, timeoutUs) as number,
    waitAsync: (operation, address, value, timeoutUs, done) =>
      wait.async(operation, address, value, timeoutUs, (error: unknown, result: unknown) =>
        done(error, result as number),
      ),
    wake: (operation, address, wakeValue) => wake(operation, address, wakeValue) as number,
  };
}

/** A timeout in ms as __ulock_wait's microseconds: at least 1 (0 would mean forever). */
export function micros(ms: number): number {
  if (!Number.isFinite(ms)) return 0;
  return Math.max(1, Math.min(MAX_TIMEOUT_US, Math.ceil(ms * 1000)));
}

type Outcome = 'woken' | 'timed-out' | 'fault' | RegionSystemError;

/** What a __ulock_wait result (ULF_NO_ERRNO: -errno on failure) means for the caller. */
export function waitOutcome(result: number): Outcome {
  if (result >= 0) return 'woken';
  const errno = -result;
  if (errno === DARWIN_ERRNO.ETIMEDOUT) return 'timed-out';
  if (errno === DARWIN_ERRNO.EINTR) return 'woken';
  if (errno === DARWIN_ERRNO.EFAULT) return 'fault';
  return new RegionSystemError('__ulock_wait', errno, 'waiting on a shared word failed');
}

function faultError(word: SharedWord): RegionSystemError {
  return new RegionSystemError(
    '__ulock_wait',
    DARWIN_ERRNO.EFAULT,
    `the kernel could not read the shared word at 0x${word.address.toString(16)} ${MAX_CONSECUTIVE_FAULTS} times in a row, though this process read it in between: expected its page to become resident`,
  );
}

/**
 * The macOS back end. `calls` are the real system calls unless a test passes others (the logic
 * above them — EFAULT handling, timeouts, wake errors — is tested on any machine that way).
 */
export function createDarwinBackend(calls: UlockCalls = bindUlock()): SyncBackend {
  function wake(word: SharedWord, all: boolean): void {
    const operation = all ? WAIT_OPERATION | ULOCK.ULF_WAKE_ALL : WAIT_OPERATION;
    const result = calls.wake(operation, word.address, 0);
    // ENOENT only means nobody was parked.
    if (result < 0 && -result !== DARWIN_ERRNO.ENOENT) {
      throw new RegionSystemError('__ulock_wake', -result, 'waking a shared word failed');
    }
  }

  /** After an EFAULT: read the word from here (faulting its page in). True if it has moved on. */
  function touchedAndChanged(word: SharedWord, expected: number): boolean {
    return Atomics.load(word.i32, word.index) !== expected;
  }

  return {
    name: 'darwin-ulock',
    park(word: SharedWord, expected: number, timeoutMs: number): void {
      for (let faults = 0; ; ) {
        const outcome = waitOutcome(
          calls.wait(WAIT_OPERATION, word.address, expected >>> 0, micros(timeoutMs)),
        );
        if (outcome instanceof RegionSystemError) throw outcome;
        if (outcome !== 'fault') return;
        if (touchedAndChanged(word, expected)) return;
        if (++faults >= MAX_CONSECUTIVE_FAULTS) throw faultError(word);
      }
    },
    parkAsync(
      word: SharedWord,
      expected: number,
      timeoutMs: number,
      done: (error: Error | undefined, timedOut: boolean) => void,
    ) {
      let faults = 0;
      const start = (): void => {
        calls.waitAsync(
          WAIT_OPERATION,
          word.address,
          expected >>> 0,
          micros(timeoutMs),
          (error, result) => {
            if (error) {
              done(new NativeCallError('__ulock_wait (async)', error), false);
              return;
            }
            const outcome = waitOutcome(result);
            if (outcome instanceof RegionSystemError) done(outcome, false);
            else if (outcome !== 'fault') done(undefined, outcome === 'timed-out');
            else if (touchedAndChanged(word, expected)) done(undefined, false);
            else if (++faults >= MAX_CONSECUTIVE_FAULTS) done(faultError(word), false);
            else start();
          },
        );
      };
      start();
      // Ending our own sleep early: a wake of everyone parked on the word. Other processes
      // parked there wake too, which is harmless: every waiter loops on the word's value.
      return () => wake(word, true);
    },
    wake(word: SharedWord, count: number): void {
      wake(word, count !== 1);
    },
  };
}
