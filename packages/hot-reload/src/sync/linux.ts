/**
 * Linux: futex(2) through glibc's syscall(), keyed on the physical page so it works between
 * processes that map the same shared memory. FUTEX_PRIVATE_FLAG must never be set: private
 * futexes are keyed on the virtual address of one process and would never see another's wake.
 * libc is loaded the first time this back end is built, never at import.
 */

import koffi from 'koffi';
import { RegionSystemError, UnsupportedPlatformError } from '../errors.js';
import { loadLibc } from '../native/libc.js';
import type { SharedWord, SyncBackend } from './types.js';

const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const EAGAIN = 11;
const EINTR = 4;
const ETIMEDOUT = 110;
const INT_MAX = 0x7fffffff;

/** The futex syscall number differs per architecture (asm/unistd.h). */
const SYS_FUTEX: Partial<Record<string, number>> = {
  x64: 202,
  arm64: 98,
  ia32: 240,
  arm: 240,
  riscv64: 98,
  loong64: 98,
  ppc64: 221,
  s390x: 238,
};

/** Errors a wait may end with that only mean "look at the word again". */
function isBenign(errno: number): boolean {
  return errno === EAGAIN || errno === EINTR || errno === ETIMEDOUT;
}

function timespec(ms: number): { tv_sec: number; tv_nsec: number } | null {
  if (!Number.isFinite(ms)) return null;
  const clamped = Math.max(0, ms);
  const sec = Math.floor(clamped / 1000);
  return { tv_sec: sec, tv_nsec: Math.floor((clamped - sec * 1000) * 1e6) };
}

function systemError(errno: number): RegionSystemError {
  return new RegionSystemError('futex', errno, 'waiting on a shared word failed');
}

export function createLinuxBackend(arch: string = process.arch): SyncBackend {
  const nr = SYS_FUTEX[arch];
  if (nr === undefined) throw new UnsupportedPlatformError(`futex on ${arch}`, `linux-${arch}`);
  const libc = loadLibc('linux');
  // koffi.struct names are global to the process: reuse the type if another copy of this module
  // (tests, two bundles) declared it already.
  try {
    koffi.struct('hotshm_futex_timespec', { tv_sec: 'int64_t', tv_nsec: 'int64_t' });
  } catch {
    // already declared under this name: same layout
  }
  // syscall() is variadic, but on every Linux ABI integer and pointer arguments travel the same
  // way to a variadic and a fixed-argument function, so a fixed prototype is exact and cheaper
  // (koffi parses no argument types per call). Two prototypes: the wake needs no struct.
  const futexWait = libc.func(
    'long syscall(long nr, void *uaddr, int op, int val, _In_ hotshm_futex_timespec *timeout, void *uaddr2, int val3)',
  );
  const futexWake = libc.func(
    'long syscall(long nr, void *uaddr, int op, int val, void *timeout, void *uaddr2, int val3)',
  );

  return {
    name: 'linux-futex',
    park(word: SharedWord, expected: number, timeoutMs: number): void {
      const result = futexWait(
        nr,
        word.address,
        FUTEX_WAIT,
        expected,
        timespec(timeoutMs),
        null,
        0,
      );
      if (result === -1) {
        const errno = koffi.errno();
        if (!isBenign(errno)) throw systemError(errno);
      }
    },
    parkAsync(
      word: SharedWord,
      expected: number,
      timeoutMs: number,
      done: (error: Error | undefined, timedOut: boolean) => void,
    ) {
      futexWait.async(
        nr,
        word.address,
        FUTEX_WAIT,
        expected,
        timespec(timeoutMs),
        null,
        0,
        (error: unknown, result: unknown) => {
          // errno must be read here, in the callback: koffi saves it per call on the pool thread.
          const errno = result === -1 ? koffi.errno() : 0;
          if (error) done(error instanceof Error ? error : new Error(String(error)), false);
          else if (errno !== 0 && !isBenign(errno)) done(systemError(errno), false);
          else done(undefined, errno === ETIMEDOUT);
        },
      );
      // Ending our own sleep early: a wake on the same word. Other processes parked there wake
      // too, which is harmless: every waiter loops on the word's value.
      return () => {
        futexWake(nr, word.address, FUTEX_WAKE, INT_MAX, null, null, 0);
      };
    },
    wake(word: SharedWord, count: number): void {
      const n = Number.isFinite(count)
        ? Math.max(1, Math.min(INT_MAX, Math.floor(count)))
        : INT_MAX;
      futexWake(nr, word.address, FUTEX_WAKE, n, null, null, 0);
    },
  };
}
