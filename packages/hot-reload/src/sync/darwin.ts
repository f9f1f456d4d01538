/**
 * macOS: the __ulock_wait / __ulock_wake pair libdispatch and libc++ use, with
 * UL_COMPARE_AND_WAIT_SHARED so the wait is keyed on the shared page and works between processes.
 * (os_sync_wait_on_address is the public spelling but only exists from macOS 14.4.)
 *
 * UNTESTED: written from xnu's sys/ulock.h and never run on a Mac by this project. Set
 * HOTSHM_SYNC_BACKEND=polling to fall back to the polling module if it misbehaves.
 */

import koffi from 'koffi';
import { RegionSystemError } from '../errors.js';
import type { SharedWord, SyncBackend } from './types.js';

const UL_COMPARE_AND_WAIT_SHARED = 3;
const ULF_WAKE_ALL = 0x100;
const ULF_NO_ERRNO = 0x1000000;
const EINTR = 4;
const ETIMEDOUT = 60;
const ENOENT = 2;
const EFAULT = 14;
/** __ulock_wait's timeout is a uint32 of microseconds, 0 meaning forever: cap each sleep. */
const MAX_TIMEOUT_US = 0xffffffff;

function micros(ms: number): number {
  if (!Number.isFinite(ms)) return 0;
  return Math.max(1, Math.min(MAX_TIMEOUT_US, Math.ceil(ms * 1000)));
}

export function createDarwinBackend(): SyncBackend {
  const libc = koffi.load('libSystem.B.dylib');
  const ulockWait = libc.func(
    'int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us)',
  );
  const ulockWake = libc.func('int __ulock_wake(uint32_t operation, void *addr, uint64_t value)');
  const waitOp = UL_COMPARE_AND_WAIT_SHARED | ULF_NO_ERRNO;

  // With ULF_NO_ERRNO the result is -errno. EFAULT can happen when the page is not resident yet;
  // like libdispatch, treat it as "look again".
  function check(result: number): Error | undefined {
    if (result >= 0) return undefined;
    const errno = -result;
    if (errno === EINTR || errno === ETIMEDOUT || errno === EFAULT) return undefined;
    return new RegionSystemError('__ulock_wait', errno, 'waiting on a shared word failed');
  }

  function wakeAll(word: SharedWord): void {
    // ENOENT only means nobody was parked.
    const result = ulockWake(waitOp | ULF_WAKE_ALL, word.address, 0) as number;
    if (result < 0 && -result !== ENOENT) {
      throw new RegionSystemError('__ulock_wake', -result, 'waking a shared word failed');
    }
  }

  return {
    name: 'darwin-ulock',
    park(word: SharedWord, expected: number, timeoutMs: number): void {
      const error = check(
        ulockWait(waitOp, word.address, expected >>> 0, micros(timeoutMs)) as number,
      );
      if (error) throw error;
    },
    parkAsync(
      word: SharedWord,
      expected: number,
      timeoutMs: number,
      done: (error: Error | undefined, timedOut: boolean) => void,
    ) {
      ulockWait.async(
        waitOp,
        word.address,
        expected >>> 0,
        micros(timeoutMs),
        (error: unknown, result: unknown) => {
          if (error) done(error instanceof Error ? error : new Error(String(error)), false);
          else done(check(result as number), result === -ETIMEDOUT);
        },
      );
      return () => wakeAll(word);
    },
    wake(word: SharedWord, count: number): void {
      if (count === 1) {
        const result = ulockWake(waitOp, word.address, 0) as number;
        if (result < 0 && -result !== ENOENT) {
          throw new RegionSystemError('__ulock_wake', -result, 'waking a shared word failed');
        }
      } else {
        wakeAll(word);
      }
    },
  };
}
