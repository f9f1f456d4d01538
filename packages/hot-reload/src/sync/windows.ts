/**
 * Windows: a named semaphore per shared word. WaitOnAddress only works between threads of one
 * process, so a word that processes wait on gets a kernel object whose name every process can
 * derive: 'Local\' + the region's name + '@' + the word's byte offset (the word's address differs
 * per process; its region and offset do not). Kernel32 is loaded the first time this back end is
 * built, never at import.
 *
 * How it keeps the "waiters present" protocol of wait.ts:
 * - a waiter counts itself, looks at the word, then WaitForSingleObject on the semaphore;
 * - a waker changes the word, reads the count, and if it is not zero releases that many tokens.
 * A token released before the waiter blocks stays in the semaphore, so the wake between "looked
 * at the word" and "blocked" that a futex covers by re-checking the value in the kernel is
 * covered here by the token waiting for it. A token nobody takes (its waiter saw the change
 * itself and left) makes one later wait return at once: a spurious wake, which every caller
 * already handles by looking at the word again.
 *
 * What a semaphore cannot do is give a token to one waiter in particular: a waiter that arrives
 * after a change, and blocks before the waiter the token was meant for, can take it. The one it
 * was meant for then sleeps on. So no wait here blocks longer than MAX_SLICE_MS at a time: such a
 * lost token costs at most one slice, never a hang.
 *
 * Words outside any region mapped in this process (a scratch buffer in a test) have no name to
 * share, and fall back to short sleeps, as the polling module does.
 */

import koffi from 'koffi';
import { RegionSystemError } from '../errors.js';
import { type MappedSpan, mappingAt } from '../memory/mapped.js';
import type { SharedWord, SyncBackend } from './types.js';

export const WINDOWS_SYNC_CONSTANTS = {
  INFINITE: 0xffff_ffff,
  WAIT_OBJECT_0: 0,
  WAIT_TIMEOUT: 0x102,
  WAIT_FAILED: 0xffff_ffff,
  ERROR_TOO_MANY_POSTS: 298,
  /** The most tokens a semaphore holds (its lMaximumCount). */
  SEMAPHORE_MAX: 0x7fff_ffff,
} as const;
const W = WINDOWS_SYNC_CONSTANTS;

/** Longest single kernel wait: what a token taken by another waiter can cost (see above). */
export const MAX_SLICE_MS = 100;
/** Sleep for words that have no kernel object (outside any mapped region). */
const FALLBACK_SLEEP_MS = 1;

/** The kernel object name of the word at `offset` of region `regionName` ('/hotshm-…'). */
export function semaphoreName(regionName: string, offset: number): string {
  return `Local\\${regionName.slice(1)}@${offset}`;
}

/** A wait time for Win32: whole milliseconds, at least 1, capped to one slice. */
function sliceMs(timeoutMs: number): number {
  if (!(timeoutMs > 0)) return 0;
  return Math.min(MAX_SLICE_MS, Math.ceil(timeoutMs));
}

interface Kernel32 {
  createSemaphore(name: string): bigint | null;
  waitOne(handle: bigint, ms: number): number;
  waitTwoAsync(
    handles: Buffer,
    ms: number,
    callback: (error: unknown, result: unknown) => void,
  ): void;
  release(handle: bigint, count: number): boolean;
  createEvent(): bigint | null;
  setEvent(handle: bigint): void;
  resetEvent(handle: bigint): void;
  closeHandle(handle: bigint): void;
  lastError(): number;
}

function bindKernel32(): Kernel32 {
  const k = koffi.load('kernel32.dll');
  const fn = (name: string, result: string, params: string[]) =>
    k.func('__stdcall', name, result, params);
  const CreateSemaphoreW = fn('CreateSemaphoreW', 'void *', ['void *', 'int32', 'int32', 'str16']);
  const WaitForSingleObject = fn('WaitForSingleObject', 'uint32', ['void *', 'uint32']);
  const WaitForMultipleObjects = fn('WaitForMultipleObjects', 'uint32', [
    'uint32', // nCount
    'void *', // lpHandles
    'int', // bWaitAll
    'uint32', // dwMilliseconds
  ]);
  const ReleaseSemaphore = fn('ReleaseSemaphore', 'int', ['void *', 'int32', 'void *']);
  const CreateEventW = fn('CreateEventW', 'void *', ['void *', 'int', 'int', 'void *']);
  const SetEvent = fn('SetEvent', 'int', ['void *']);
  const ResetEvent = fn('ResetEvent', 'int', ['void *']);
  const CloseHandle = fn('CloseHandle', 'int', ['void *']);
  const GetLastError = fn('GetLastError', 'uint32', []);
  return {
    createSemaphore: (name) => CreateSemaphoreW(null, 0, W.SEMAPHORE_MAX, name) as bigint | null,
    waitOne: (handle, ms) => WaitForSingleObject(handle, ms) as number,
    waitTwoAsync: (handles, ms, callback) => {
      WaitForMultipleObjects.async(2, handles, 0, ms, callback);
    },
    release: (handle, count) => (ReleaseSemaphore(handle, count, null) as number) !== 0,
    // Auto-reset, unnamed: private to this process.
    createEvent: () => CreateEventW(null, 0, 0, null) as bigint | null,
    setEvent: (handle) => {
      SetEvent(handle);
    },
    resetEvent: (handle) => {
      ResetEvent(handle);
    },
    closeHandle: (handle) => {
      CloseHandle(handle);
    },
    lastError: () => GetLastError() as number,
  };
}

interface WordObject {
  readonly handle: bigint;
  /** Waits in flight on the handle: it is closed only when none is (closing under a wait is undefined). */
  busy: number;
  /** Its region was closed: close the handle once `busy` is 0. */
  dead: boolean;
  closed: boolean;
}

function systemError(call: string, code: number, what: string): RegionSystemError {
  return new RegionSystemError(call, code, what);
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function createWindowsBackend(): SyncBackend {
  const k = bindKernel32();
  /** Semaphores this process opened, by kernel name. */
  const objects = new Map<string, WordObject>();
  const watchedSpans = new WeakSet<MappedSpan>();

  // Ends this process's own async wait early (parker.ts never has more than one in flight).
  const cancelEvent = k.createEvent();
  if (cancelEvent === null || cancelEvent === 0n) {
    throw systemError('CreateEventW', k.lastError(), 'could not create the wait-cancel event');
  }

  function drop(name: string, object: WordObject): void {
    object.dead = true;
    if (objects.get(name) === object) objects.delete(name);
    if (object.busy === 0 && !object.closed) {
      object.closed = true;
      k.closeHandle(object.handle);
    }
  }

  /** The word's semaphore, opened or created on first use; undefined outside mapped regions. */
  function acquire(word: SharedWord): { name: string; object: WordObject } | undefined {
    const span = mappingAt(word.address);
    if (span === undefined) return undefined;
    const name = semaphoreName(span.name, Number(word.address - span.address));
    let object = objects.get(name);
    if (object === undefined) {
      // Creates it, or opens the one another process created (same name, same object).
      const handle = k.createSemaphore(name);
      if (handle === null || handle === 0n) {
        throw systemError('CreateSemaphoreW', k.lastError(), `no wait object for ${name}`);
      }
      object = { handle, busy: 0, dead: false, closed: false };
      objects.set(name, object);
      if (!watchedSpans.has(span)) {
        watchedSpans.add(span);
        span.onClose(() => {
          const prefix = semaphoreName(span.name, 0).slice(0, -1);
          for (const [n, o] of objects) if (n.startsWith(prefix)) drop(n, o);
        });
      }
    }
    object.busy++;
    return { name, object };
  }

  function release(entry: { name: string; object: WordObject }): void {
    entry.object.busy--;
    if (entry.object.dead) drop(entry.name, entry.object);
  }

  return {
    name: 'windows-semaphore',

    park(word: SharedWord, expected: number, timeoutMs: number): void {
      if (Atomics.load(word.i32, word.index) !== expected) return;
      const ms = sliceMs(timeoutMs);
      if (ms === 0) return;
      const entry = acquire(word);
      if (entry === undefined) {
        Atomics.wait(sleeper, 0, 0, Math.min(ms, FALLBACK_SLEEP_MS));
        return;
      }
      try {
        const result = k.waitOne(entry.object.handle, ms);
        if (result === W.WAIT_FAILED) {
          throw systemError(
            'WaitForSingleObject',
            k.lastError(),
            'waiting on a shared word failed',
          );
        }
      } finally {
        release(entry);
      }
    },

    parkAsync(word, expected, timeoutMs, done) {
      const ms = sliceMs(timeoutMs);
      // Changed already (or nothing to wait for): return on the next turn, as a wait would.
      if (ms === 0 || Atomics.load(word.i32, word.index) !== expected) {
        setImmediate(() => done(undefined, false));
        return () => {};
      }
      const entry = acquire(word);
      if (entry === undefined) {
        setTimeout(() => done(undefined, false), Math.min(ms, FALLBACK_SLEEP_MS));
        return () => {};
      }
      // A cancel meant for an earlier wait must not end this one.
      k.resetEvent(cancelEvent);
      const handles = Buffer.alloc(16);
      handles.writeBigUInt64LE(entry.object.handle, 0);
      handles.writeBigUInt64LE(cancelEvent, 8);
      k.waitTwoAsync(handles, ms, (error, result) => {
        release(entry);
        if (error) {
          done(error instanceof Error ? error : new Error(String(error)), false);
        } else if (result === W.WAIT_FAILED) {
          // GetLastError belongs to the pool thread that waited: it cannot be read from here.
          done(
            systemError(
              'WaitForMultipleObjects',
              Number(result),
              'waiting on a shared word failed',
            ),
            false,
          );
        } else {
          // Timed out only if the whole timeout was one slice that passed with no wake.
          done(undefined, result === W.WAIT_TIMEOUT && ms >= timeoutMs);
        }
        void handles;
      });
      return () => k.setEvent(cancelEvent);
    },

    wake(word: SharedWord, count: number): void {
      const entry = acquire(word);
      if (entry === undefined) return; // its waiters sleep in short slices and look again
      try {
        // One token per process counted as parked (at least one: the caller saw a count).
        const parked = Math.max(1, Atomics.load(word.i32, word.waiters));
        const tokens = Math.min(W.SEMAPHORE_MAX, parked, Math.max(1, Math.floor(count)));
        if (!k.release(entry.object.handle, tokens)) {
          const code = k.lastError();
          // Already full of tokens: every waiter will wake anyway.
          if (code !== W.ERROR_TOO_MANY_POSTS) {
            throw systemError('ReleaseSemaphore', code, 'waking a shared word failed');
          }
        }
      } finally {
        release(entry);
      }
    },
  };
}
