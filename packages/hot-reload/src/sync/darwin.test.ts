/**
 * The macOS wait/wake module cannot make its system calls here. Two things are checked anyway:
 * the operation words and errno values it uses, against the XNU header lines that define them
 * (test/xnu-headers.ts), and its handling of every result __ulock_wait and __ulock_wake can give,
 * by driving it with stand-ins for the two calls that answer as sys_ulock.c would. The stand-ins
 * are the only fakes: no real part of macOS can run on this Linux machine.
 */
import { describe, expect, it } from 'vitest';
import { headerRef, headerValue } from '../../test/xnu-headers.js';
import { NativeCallError, RegionSystemError } from '../errors.js';
import {
  createDarwinBackend,
  DARWIN_ERRNO,
  MAX_CONSECUTIVE_FAULTS,
  micros,
  ULOCK,
  type UlockCalls,
  WAIT_OPERATION,
  waitOutcome,
} from './darwin.js';
import type { SharedWord } from './types.js';

describe('macOS ulock constants against XNU headers', () => {
  it.each([
    ['UL_COMPARE_AND_WAIT_SHARED', ULOCK.UL_COMPARE_AND_WAIT_SHARED],
    ['ULF_WAKE_ALL', ULOCK.ULF_WAKE_ALL],
    ['ULF_NO_ERRNO', ULOCK.ULF_NO_ERRNO],
  ] as const)('%s', (name, value) => {
    expect(value, headerRef(name)).toBe(headerValue(name));
  });

  it.each([
    ['ENOENT', DARWIN_ERRNO.ENOENT],
    ['EINTR', DARWIN_ERRNO.EINTR],
    ['EFAULT', DARWIN_ERRNO.EFAULT],
    ['ETIMEDOUT', DARWIN_ERRNO.ETIMEDOUT],
  ] as const)('%s', (name, value) => {
    expect(value, headerRef(name)).toBe(headerValue(name));
  });

  it('waits with compare-and-wait on the shared object, errors returned as -errno', () => {
    expect(WAIT_OPERATION).toBe(
      headerValue('UL_COMPARE_AND_WAIT_SHARED') | headerValue('ULF_NO_ERRNO'),
    );
    expect(WAIT_OPERATION).toBe(0x01000003);
  });
});

/** A word in ordinary memory: the module only reads it (after an EFAULT) and passes its address. */
function word(value: number): SharedWord {
  const i32 = new Int32Array(2);
  i32[0] = value;
  return { i32, index: 0, waiters: 1, address: 0x7000_1000n };
}

interface Call {
  readonly kind: 'wait' | 'wake';
  readonly operation: number;
  readonly address: bigint;
  readonly value: number;
  readonly timeoutUs?: number;
}

/** Stand-ins for __ulock_wait/__ulock_wake: each call takes the next scripted result. */
function scripted(waitResults: number[], wakeResults: number[] = [], onWait?: () => void) {
  const calls: Call[] = [];
  const next = (results: number[], what: string): number => {
    const result = results.shift();
    if (result === undefined) throw new Error(`unexpected extra ${what}`);
    return result;
  };
  const ulock: UlockCalls = {
    wait(operation, address, value, timeoutUs) {
      calls.push({ kind: 'wait', operation, address, value, timeoutUs });
      onWait?.();
      return next(waitResults, '__ulock_wait');
    },
    waitAsync(operation, address, value, timeoutUs, done) {
      calls.push({ kind: 'wait', operation, address, value, timeoutUs });
      onWait?.();
      const result = next(waitResults, '__ulock_wait');
      setImmediate(() => done(undefined, result));
    },
    wake(operation, address, value) {
      calls.push({ kind: 'wake', operation, address, value });
      return next(wakeResults, '__ulock_wake');
    },
  };
  return { ulock, calls };
}

const E = {
  EFAULT: -headerValue('EFAULT'),
  EINTR: -headerValue('EINTR'),
  ETIMEDOUT: -headerValue('ETIMEDOUT'),
  ENOENT: -headerValue('ENOENT'),
  EINVAL: -22, // bsd/sys/errno.h:114, what sys_ulock.c returns for a misaligned or unmapped address
};

function parkAsync(
  backend: ReturnType<typeof createDarwinBackend>,
  w: SharedWord,
  expected: number,
  timeoutMs: number,
): Promise<{ error: Error | undefined; timedOut: boolean }> {
  return new Promise((resolve) => {
    backend.parkAsync(w, expected, timeoutMs, (error, timedOut) => resolve({ error, timedOut }));
  });
}

describe('macOS wait results (sys_ulock.c semantics, stand-in system calls)', () => {
  it("an asynchronous wait koffi could not make ends with a NativeCallError, not koffi's TypeError", async () => {
    const { ulock } = scripted([]);
    const failing: UlockCalls = {
      ...ulock,
      waitAsync: (_op, _address, _value, _timeoutUs, done) =>
        setImmediate(() => done(new TypeError('Unexpected Symbol value, expected void *'), 0)),
    };
    const { error, timedOut } = await parkAsync(createDarwinBackend(failing), word(7), 7, 100);
    expect(error).toBeInstanceOf(NativeCallError);
    expect(error).toMatchObject({ code: 'HOTSHM_NATIVE_CALL', call: '__ulock_wait (async)' });
    expect(error?.cause).toBeInstanceOf(TypeError);
    expect(timedOut).toBe(false);
  });

  it('passes the word, the expected value as unsigned, and the timeout in microseconds', () => {
    const { ulock, calls } = scripted([0]);
    const w = word(-1);
    createDarwinBackend(ulock).park(w, -1, 2.5);
    expect(calls).toEqual([
      {
        kind: 'wait',
        operation: 0x01000003,
        address: w.address,
        value: 0xffffffff,
        timeoutUs: 2500,
      },
    ]);
  });

  it('a timeout of Infinity is 0 (forever); any finite one is at least 1 µs and at most 2^32-1', () => {
    expect(micros(Number.POSITIVE_INFINITY)).toBe(0);
    expect(micros(0)).toBe(1);
    expect(micros(0.0001)).toBe(1);
    expect(micros(1e12)).toBe(0xffffffff);
  });

  it('classifies every result', () => {
    expect(waitOutcome(0)).toBe('woken');
    expect(waitOutcome(3)).toBe('woken'); // remaining waiters, with ULF_NO_ERRNO
    expect(waitOutcome(E.EINTR)).toBe('woken');
    expect(waitOutcome(E.ETIMEDOUT)).toBe('timed-out');
    expect(waitOutcome(E.EFAULT)).toBe('fault');
    const error = waitOutcome(E.EINVAL);
    expect(error).toBeInstanceOf(RegionSystemError);
    expect(error).toMatchObject({ errno: 22, syscall: '__ulock_wait' });
  });

  it('EFAULT: reads the word (faulting its page in) and waits again, as libdispatch does', () => {
    const { ulock, calls } = scripted([E.EFAULT, E.EFAULT, 0]);
    createDarwinBackend(ulock).park(word(7), 7, 100);
    expect(calls.filter((c) => c.kind === 'wait')).toHaveLength(3);
  });

  it('EFAULT with the word already changed: returns so the caller sees the new value', () => {
    const w = word(7);
    // The page becomes readable and another process stores 8 between the kernel's failed read
    // and ours.
    const { ulock, calls } = scripted([E.EFAULT], [], () => {
      w.i32[0] = 8;
    });
    createDarwinBackend(ulock).park(w, 7, 100);
    expect(calls).toHaveLength(1);
  });

  it(`EFAULT ${MAX_CONSECUTIVE_FAULTS} times in a row is an error, not a spurious wake forever`, () => {
    const { ulock, calls } = scripted(Array(MAX_CONSECUTIVE_FAULTS).fill(E.EFAULT));
    const backend = createDarwinBackend(ulock);
    let caught: unknown;
    try {
      backend.park(word(7), 7, 100);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RegionSystemError);
    expect(caught).toMatchObject({ code: 'HOTSHM_REGION_SYSTEM', errno: 14 });
    expect((caught as Error).message).toContain(`${MAX_CONSECUTIVE_FAULTS} times in a row`);
    expect(calls).toHaveLength(MAX_CONSECUTIVE_FAULTS);
  });

  it('EINVAL (a misaligned or unmapped word) is an error at once', () => {
    const { ulock } = scripted([E.EINVAL]);
    expect(() => createDarwinBackend(ulock).park(word(7), 7, 100)).toThrow(RegionSystemError);
  });

  it('async: ETIMEDOUT reports timedOut; EINTR and a wake do not', async () => {
    const { ulock } = scripted([E.ETIMEDOUT, E.EINTR, 0]);
    const backend = createDarwinBackend(ulock);
    expect(await parkAsync(backend, word(1), 1, 5)).toEqual({ error: undefined, timedOut: true });
    expect(await parkAsync(backend, word(1), 1, 5)).toEqual({ error: undefined, timedOut: false });
    expect(await parkAsync(backend, word(1), 1, 5)).toEqual({ error: undefined, timedOut: false });
  });

  it('async: EFAULT retries after touching the word, and gives up with an error when it persists', async () => {
    const retried = scripted([E.EFAULT, 0]);
    expect(await parkAsync(createDarwinBackend(retried.ulock), word(1), 1, 5)).toEqual({
      error: undefined,
      timedOut: false,
    });
    expect(retried.calls).toHaveLength(2);

    const stuck = scripted(Array(MAX_CONSECUTIVE_FAULTS).fill(E.EFAULT));
    const { error } = await parkAsync(createDarwinBackend(stuck.ulock), word(1), 1, 5);
    expect(error).toBeInstanceOf(RegionSystemError);
    expect(error).toMatchObject({ errno: 14 });
    expect(stuck.calls).toHaveLength(MAX_CONSECUTIVE_FAULTS);
  });

  it('wake: one waiter or all of them; ENOENT (nobody parked) is fine, other errors throw', () => {
    const { ulock, calls } = scripted([], [0, E.ENOENT, E.EINVAL]);
    const backend = createDarwinBackend(ulock);
    const w = word(0);
    backend.wake(w, 1);
    backend.wake(w, Number.POSITIVE_INFINITY);
    expect(() => backend.wake(w, 1)).toThrow(RegionSystemError);
    const wakeOne = headerValue('UL_COMPARE_AND_WAIT_SHARED') | headerValue('ULF_NO_ERRNO');
    expect(calls.map((c) => c.operation)).toEqual([
      wakeOne,
      wakeOne | headerValue('ULF_WAKE_ALL'),
      wakeOne,
    ]);
  });

  it('the cancel function of an async park wakes everyone on the word', async () => {
    const { ulock, calls } = scripted([0], [E.ENOENT]);
    const backend = createDarwinBackend(ulock);
    const w = word(1);
    const ended = new Promise<void>((resolve) => {
      const cancel = backend.parkAsync(w, 1, 5, () => resolve());
      cancel();
    });
    await ended;
    expect(calls.find((c) => c.kind === 'wake')?.operation).toBe(0x01000103);
  });
});
