/**
 * worker.terminate() landing while the worker is in a futex call, or on its way into one (issue
 * 11, item 3: a no-hot owner died with SIGSEGV on exit). koffi reads a JS object argument with
 * napi_get_named_property; terminating the worker makes that read fail, and koffi's release build
 * then crashed in napi_typeof on the value it never got. The futex timeout is now native memory
 * passed by address (src/sync/linux.ts). Before that fix this test's child crashed in 7 runs of
 * 10 at 100 workers; the long form is a row of `pnpm stress` (1,000 workers).
 */
import { describe, expect, it } from 'vitest';
import { spawnChild } from './channel-spawn.js';

describe('terminating a worker that waits on shared memory', () => {
  it.runIf(process.platform === 'linux')(
    'survives 100 terminations of a worker parked in sync and async futex waits',
    async () => {
      const N = 100;
      const child = spawnChild('terminate-child.ts', [N]);
      expect(await child.exited).toEqual({ code: 0, signal: null });
      expect(await child.result).toEqual({ terminated: N });
    },
    240_000,
  );
});
