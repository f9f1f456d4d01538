/**
 * The futex back end when koffi cannot make the call: the real back end, the real koffi, an
 * argument koffi cannot pass (as a corrupted word would hand it). The failure must reach the
 * waiter as a HotshmError with a code, not koffi's plain TypeError.
 */
import { describe, expect, it } from 'vitest';
import { HotshmError, NativeCallError } from '../errors.js';
import { bindNative, loadLibc } from '../native/libc.js';
import { createLinuxBackend } from './linux.js';
import type { SharedWord } from './types.js';

describe.runIf(process.platform === 'linux')('futex through koffi: failures', () => {
  it('an asynchronous wait koffi cannot pass its arguments to ends with a NativeCallError', async () => {
    const backend = createLinuxBackend();
    const word = {
      i32: new Int32Array(1),
      index: 0,
      waiters: 0,
      // Not a pointer: koffi reports it to the async call's callback.
      address: Symbol('not an address'),
    } as unknown as SharedWord;
    const outcome = await new Promise<{ error: Error | undefined; timedOut: boolean }>(
      (resolve) => {
        backend.parkAsync(word, 0, 50, (error, timedOut) => resolve({ error, timedOut }));
      },
    );
    expect(outcome.error).toBeInstanceOf(NativeCallError);
    expect(outcome.error).toBeInstanceOf(HotshmError);
    expect(outcome.error).toMatchObject({ code: 'HOTSHM_NATIVE_CALL', call: 'futex (async)' });
    expect(outcome.error?.cause).toBeInstanceOf(TypeError);
    expect(outcome.error?.message).toMatch(
      /^expected koffi to call futex \(async\), it could not: .+/,
    );
    expect(outcome.timedOut).toBe(false);
  });

  it('a function koffi cannot bind is a NativeCallError naming it', () => {
    let caught: unknown;
    try {
      bindNative('hotshm_no_such_function', () =>
        loadLibc('linux').func('int hotshm_no_such_function(int)'),
      );
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(NativeCallError);
    expect(caught).toMatchObject({ code: 'HOTSHM_NATIVE_CALL', call: 'hotshm_no_such_function' });
    expect((caught as Error).message).toContain('hotshm_no_such_function');
    expect((caught as Error).cause).toBeInstanceOf(Error);
    expect((caught as Error).cause).not.toBeInstanceOf(HotshmError);
  });
});
