/**
 * Linux: futex(2) through glibc's syscall(), keyed on the physical page so it works between
 * processes that map the same shared memory. FUTEX_PRIVATE_FLAG must never be set: private
 * futexes are keyed on the virtual address of one process and would never see another's wake.
 * libc is loaded the first time this back end is built, never at import.
 */

import koffi from 'koffi';
import { NativeCallError, RegionSystemError, UnsupportedPlatformError } from '../errors.js';
import { bindNative, loadLibc } from '../native/libc.js';
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

/**
 * A struct timespec { int64 tv_sec; int64 tv_nsec } in native memory, written through a typed
 * view and handed to the syscall as its address (a BigInt).
 *
 * Never as a JS object: koffi reads an object argument's fields with napi_get_named_property, and
 * when worker.terminate() lands during that read the call fails, koffi (release build) goes on
 * with the uninitialised value and crashes the process in napi_typeof (SIGSEGV, seen as exit 139
 * of no-hot owners). A BigInt, a number or null is read without running any JavaScript. The
 * memory is koffi.alloc'd (malloc): the GC never moves or frees it, and it does not go away with
 * this thread's isolate while a pool thread may still read it. It is never freed: 16 bytes for
 * the synchronous waits of each thread that loads this module, and 16 per async wait it ever had
 * in flight at once (one, with the parker).
 */
interface NativeTimespec {
  readonly address: bigint;
  readonly fields: BigInt64Array;
}

function nativeTimespec(): NativeTimespec {
  const memory = koffi.alloc('int64_t', 2);
  return {
    address: koffi.address(memory) as bigint,
    fields: new BigInt64Array(koffi.view(memory, 16) as ArrayBuffer),
  };
}

/** Writes `ms` into `ts`; returns what to pass as the timeout (null: no limit). */
function timeout(ts: NativeTimespec, ms: number): bigint | null {
  if (!Number.isFinite(ms)) return null;
  const clamped = Math.max(0, ms);
  const sec = Math.floor(clamped / 1000);
  ts.fields[0] = BigInt(sec);
  ts.fields[1] = BigInt(Math.min(999_999_999, Math.floor((clamped - sec * 1000) * 1e6)));
  return ts.address;
}

function systemError(errno: number): RegionSystemError {
  return new RegionSystemError('futex', errno, 'waiting on a shared word failed');
}

export function createLinuxBackend(arch: string = process.arch): SyncBackend {
  const nr = SYS_FUTEX[arch];
  if (nr === undefined) throw new UnsupportedPlatformError(`futex on ${arch}`, `linux-${arch}`);
  const libc = loadLibc('linux');
  // syscall() is variadic, but on every Linux ABI integer and pointer arguments travel the same
  // way to a variadic and a fixed-argument function, so a fixed prototype is exact and cheaper
  // (koffi parses no argument types per call). Every pointer is passed as a BigInt or null.
  const futex = bindNative('syscall (futex)', () =>
    libc.func(
      'long syscall(long nr, void *uaddr, int op, int val, void *timeout, void *uaddr2, int val3)',
    ),
  );
  // One timespec for synchronous waits (one at a time on this thread), and one per async wait
  // in flight: the kernel reads it when the pool thread enters the syscall, so it is not reused
  // until that call has returned. The parker keeps one async wait in flight, and a synchronous
  // park may run meanwhile on this thread: each has its own. Both are made here, when the backend
  // is made, not at a wait: koffi.view aborts the whole process ("FATAL ERROR:
  // Error::ThrowAsJavaScriptException napi_throw") when the thread is a worker being terminated,
  // e.g. by process.exit() on the main thread, which can come at any moment of a wait.
  const syncTimespec = nativeTimespec();
  const freeAsync: NativeTimespec[] = [nativeTimespec()];

  return {
    name: 'linux-futex',
    park(word: SharedWord, expected: number, timeoutMs: number): void {
      const result = futex(
        nr,
        word.address,
        FUTEX_WAIT,
        expected,
        timeout(syncTimespec, timeoutMs),
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
      const ts = freeAsync.pop() ?? nativeTimespec();
      futex.async(
        nr,
        word.address,
        FUTEX_WAIT,
        expected,
        timeout(ts, timeoutMs),
        null,
        0,
        (error: unknown, result: unknown) => {
          freeAsync.push(ts);
          // errno must be read here, in the callback: koffi saves it per call on the pool thread.
          const errno = result === -1 ? koffi.errno() : 0;
          if (error) done(new NativeCallError('futex (async)', error), false);
          else if (errno !== 0 && !isBenign(errno)) done(systemError(errno), false);
          else done(undefined, errno === ETIMEDOUT);
        },
      );
      // Ending our own sleep early: a wake on the same word. Other processes parked there wake
      // too, which is harmless: every waiter loops on the word's value.
      return () => {
        futex(nr, word.address, FUTEX_WAKE, INT_MAX, null, null, 0);
      };
    },
    wake(word: SharedWord, count: number): void {
      const n = Number.isFinite(count)
        ? Math.max(1, Math.min(INT_MAX, Math.floor(count)))
        : INT_MAX;
      futex(nr, word.address, FUTEX_WAKE, n, null, null, 0);
    },
  };
}
