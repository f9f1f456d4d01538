/**
 * Windows: named kernel objects per shared word. WaitOnAddress only works between threads of one
 * process, so a word that processes wait on gets objects whose names every process can derive
 * from the region's name and the word's byte offset (its address differs per process; its region
 * and offset do not). Kernel32 is loaded the first time this back end is built, never at import.
 *
 * A sleeper waiting for the word to leave value v waits on two objects at once:
 *   - the event of (word, v): 'Local\<region>@<offset>=<v>', manual-reset. A waker that knows the
 *     value it changed (ringDoorbell, storeAndWake) sets the event of that value, which wakes
 *     every sleeper that saw it and no one else;
 *   - the semaphore of the word: 'Local\<region>@<offset>'. A waker that does not know the old
 *     value (a plain `wake`) releases one token per process counted as parked.
 *
 * How this keeps the "waiters present" protocol of wait.ts: a sleeper counts itself, opens the
 * event of the value it saw, looks at the word once more, and only then waits; a waker changes
 * the word, reads the count, and signals. If the sleeper opened the event before the waker set
 * it, the wait returns at once; if after, the event the waker set is gone or another one, but the
 * sleeper's last look comes after the change and it never waits. A token released before its
 * sleeper blocks waits in the semaphore for it.
 *
 * Events exist only while someone holds them: sleepers close theirs when they wake, so a value
 * that comes back later (a word going 0 → 1 → 0) gets a fresh, unset event. Tokens cannot be
 * aimed: one can be taken by a sleeper that arrived after the change, and the sleeper it was
 * meant for sleeps on; an unclaimed one makes a later wait return at once (callers look at the
 * word again either way). So the busy paths (the doorbell shared by owner and renderer) go through
 * events, and no wait blocks longer than MAX_SLICE_MS at a time: a stolen token costs at most
 * one slice, never a hang.
 *
 * Words outside any region mapped in this process (a scratch buffer in a test) have no name to
 * share, and fall back to short sleeps, as the polling module does.
 */

import koffi from 'koffi';
import { NativeCallError, RegionSystemError } from '../errors.js';
import { bindNative } from '../native/libc.js';
import { type MappedSpan, mappingAt } from '../native/mapped.js';
import type { SharedWord, SyncBackend } from './types.js';

export const WINDOWS_SYNC_CONSTANTS = {
  WAIT_OBJECT_0: 0,
  WAIT_TIMEOUT: 0x102,
  WAIT_FAILED: 0xffff_ffff,
  ERROR_TOO_MANY_POSTS: 298,
  /** The most tokens a semaphore holds (its lMaximumCount). */
  SEMAPHORE_MAX: 0x7fff_ffff,
} as const;
const W = WINDOWS_SYNC_CONSTANTS;

/** Longest single kernel wait: what a token taken by another sleeper can cost (see above). */
export const MAX_SLICE_MS = 100;
/** Sleep for words that have no kernel object (outside any mapped region). */
const FALLBACK_SLEEP_MS = 1;

/** The semaphore's name for the word at `offset` of region `regionName` ('/hotshm-…'). */
export function semaphoreName(regionName: string, offset: number): string {
  return `Local\\${regionName.slice(1)}@${offset}`;
}

/** The event's name for sleepers that saw `value` in that word. */
export function eventName(regionName: string, offset: number, value: number): string {
  return `${semaphoreName(regionName, offset)}=${value >>> 0}`;
}

/** A wait time for Win32: whole milliseconds, at least 1, capped to one slice. */
function sliceMs(timeoutMs: number): number {
  if (!(timeoutMs > 0)) return 0;
  return Math.min(MAX_SLICE_MS, Math.ceil(timeoutMs));
}

interface Kernel32 {
  createSemaphore(name: string): bigint | null;
  /** A manual-reset event: `name` null for one private to this process. */
  createEvent(name: string | null): bigint | null;
  waitAny(handles: Buffer, count: number, ms: number): number;
  waitAnyAsync(
    handles: Buffer,
    count: number,
    ms: number,
    callback: (error: unknown, result: unknown) => void,
  ): void;
  release(handle: bigint, count: number): boolean;
  setEvent(handle: bigint): void;
  resetEvent(handle: bigint): void;
  closeHandle(handle: bigint): void;
  lastError(): number;
}

function bindKernel32(): Kernel32 {
  const k = bindNative('kernel32.dll', () => koffi.load('kernel32.dll'));
  const fn = (name: string, result: string, params: string[]) =>
    bindNative(name, () => k.func('__stdcall', name, result, params));
  const CreateSemaphoreW = fn('CreateSemaphoreW', 'void *', ['void *', 'int32', 'int32', 'str16']);
  const CreateEventW = fn('CreateEventW', 'void *', ['void *', 'int', 'int', 'str16']);
  const WaitForMultipleObjects = fn('WaitForMultipleObjects', 'uint32', [
    'uint32', // nCount
    'void *', // lpHandles
    'int', // bWaitAll
    'uint32', // dwMilliseconds
  ]);
  const ReleaseSemaphore = fn('ReleaseSemaphore', 'int', ['void *', 'int32', 'void *']);
  const SetEvent = fn('SetEvent', 'int', ['void *']);
  const ResetEvent = fn('ResetEvent', 'int', ['void *']);
  const CloseHandle = fn('CloseHandle', 'int', ['void *']);
  const GetLastError = fn('GetLastError', 'uint32', []);
  return {
    createSemaphore: (name) => CreateSemaphoreW(null, 0, W.SEMAPHORE_MAX, name) as bigint | null,
    createEvent: (name) => CreateEventW(null, 1, 0, name) as bigint | null,
    waitAny: (handles, count, ms) => WaitForMultipleObjects(count, handles, 0, ms) as number,
    waitAnyAsync: (handles, count, ms, callback) => {
      WaitForMultipleObjects.async(count, handles, 0, ms, callback);
    },
    release: (handle, count) => (ReleaseSemaphore(handle, count, null) as number) !== 0,
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

interface Acquired {
  readonly key: string;
  readonly object: WordObject;
  readonly span: MappedSpan;
  readonly offset: number;
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
  const cancelEvent = k.createEvent(null);
  if (cancelEvent === null || cancelEvent === 0n) {
    throw systemError('CreateEventW', k.lastError(), 'could not create the wait-cancel event');
  }

  function drop(key: string, object: WordObject): void {
    object.dead = true;
    if (objects.get(key) === object) objects.delete(key);
    if (object.busy === 0 && !object.closed) {
      object.closed = true;
      k.closeHandle(object.handle);
    }
  }

  /** The word's semaphore, opened or created on first use; undefined outside mapped regions. */
  function acquire(word: SharedWord): Acquired | undefined {
    const span = mappingAt(word.address);
    if (span === undefined) return undefined;
    const offset = Number(word.address - span.address);
    const key = semaphoreName(span.name, offset);
    let object = objects.get(key);
    if (object === undefined) {
      // Creates it, or opens the one another process created (same name, same object).
      const handle = k.createSemaphore(key);
      if (handle === null || handle === 0n) {
        throw systemError('CreateSemaphoreW', k.lastError(), `no wait object for ${key}`);
      }
      object = { handle, busy: 0, dead: false, closed: false };
      objects.set(key, object);
      if (!watchedSpans.has(span)) {
        watchedSpans.add(span);
        span.onClose(() => {
          const prefix = semaphoreName(span.name, 0).slice(0, -1);
          for (const [n, o] of objects) if (n.startsWith(prefix)) drop(n, o);
        });
      }
    }
    object.busy++;
    return { key, object, span, offset };
  }

  function release(entry: Acquired): void {
    entry.object.busy--;
    if (entry.object.dead) drop(entry.key, entry.object);
  }

  /** Opens (or creates) the event of `value` in the word: the caller closes it. */
  function openEvent(entry: Acquired, value: number): bigint {
    const name = eventName(entry.span.name, entry.offset, value);
    const handle = k.createEvent(name);
    if (handle === null || handle === 0n) {
      throw systemError('CreateEventW', k.lastError(), `no wait object for ${name}`);
    }
    return handle;
  }

  return {
    name: 'windows-semaphore',

    park(word: SharedWord, expected: number, timeoutMs: number): void {
      const ms = sliceMs(timeoutMs);
      if (ms === 0 || Atomics.load(word.i32, word.index) !== expected) return;
      const entry = acquire(word);
      if (entry === undefined) {
        Atomics.wait(sleeper, 0, 0, Math.min(ms, FALLBACK_SLEEP_MS));
        return;
      }
      let event = 0n;
      try {
        event = openEvent(entry, expected);
        // After opening the event (see the module comment): a change before this look is seen
        // here, a change after it sets the event we hold.
        if (Atomics.load(word.i32, word.index) !== expected) return;
        const handles = Buffer.alloc(16);
        handles.writeBigUInt64LE(entry.object.handle, 0);
        handles.writeBigUInt64LE(event, 8);
        if (k.waitAny(handles, 2, ms) === W.WAIT_FAILED) {
          throw systemError(
            'WaitForMultipleObjects',
            k.lastError(),
            'waiting on a shared word failed',
          );
        }
      } finally {
        if (event !== 0n) k.closeHandle(event);
        release(entry);
      }
    },

    parkAsync(word, expected, timeoutMs, done) {
      const ms = sliceMs(timeoutMs);
      const later = (): (() => void) => {
        setImmediate(() => done(undefined, false));
        return () => {};
      };
      // Changed already (or nothing to wait for): return on the next turn, as a wait would.
      if (ms === 0 || Atomics.load(word.i32, word.index) !== expected) return later();
      const entry = acquire(word);
      if (entry === undefined) {
        setTimeout(() => done(undefined, false), Math.min(ms, FALLBACK_SLEEP_MS));
        return () => {};
      }
      let event: bigint;
      try {
        event = openEvent(entry, expected);
      } catch (e) {
        release(entry);
        throw e;
      }
      if (Atomics.load(word.i32, word.index) !== expected) {
        k.closeHandle(event);
        release(entry);
        return later();
      }
      // A cancel meant for an earlier wait must not end this one.
      k.resetEvent(cancelEvent);
      const handles = Buffer.alloc(24);
      handles.writeBigUInt64LE(entry.object.handle, 0);
      handles.writeBigUInt64LE(event, 8);
      handles.writeBigUInt64LE(cancelEvent, 16);
      k.waitAnyAsync(handles, 3, ms, (error, result) => {
        k.closeHandle(event);
        release(entry);
        if (error) {
          done(new NativeCallError('WaitForMultipleObjects (async)', error), false);
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
      // Manual-reset, and reset before each wait: it ends this wait whenever it is set.
      return () => k.setEvent(cancelEvent);
    },

    wake(word: SharedWord, count: number, previous?: number): void {
      const entry = acquire(word);
      if (entry === undefined) return; // its waiters sleep in short slices and look again
      try {
        if (previous !== undefined) {
          const event = openEvent(entry, previous);
          k.setEvent(event);
          k.closeHandle(event);
          return;
        }
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
