/**
 * A wait on Linux makes no koffi view: the native memory its timeout is passed in is made with the
 * back end. koffi.view aborts the whole process ("FATAL ERROR: Error::ThrowAsJavaScriptException
 * napi_throw") when it runs in a worker that process.exit() on the main thread is terminating; the
 * no-hot owner's renderer made its first async timespec at its first wait, right after it was
 * ready, and an owner ending then died with SIGABRT (1 of 8 no-hot exits of `pnpm stress --short`
 * under Node 24 in CI). Outside this project: a worker looping on koffi.view, ended by
 * process.exit(), aborts in 40 of 40 runs; on koffi.alloc or a plain syscall, in none.
 */
import koffi from 'koffi';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRegion, newRegionName, unlinkRegion } from '../src/memory/index.js';
import { sharedWord } from '../src/sync/index.js';
import { createLinuxBackend } from '../src/sync/linux.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe.runIf(process.platform === 'linux')('the Linux wait back end', () => {
  it('makes no koffi view at a sync or an async wait', async () => {
    const name = newRegionName();
    const region = createRegion(name, 64);
    try {
      const word = sharedWord(region.buffer, region.address, 0, 4);
      const backend = createLinuxBackend();
      const view = vi.spyOn(koffi, 'view');
      backend.park(word, 0, 1);
      const timedOut = await new Promise<boolean>((resolve, reject) => {
        backend.parkAsync(word, 0, 1, (error, t) => (error ? reject(error) : resolve(t)));
      });
      backend.park(word, 0, 1);
      expect(timedOut).toBe(true);
      expect(view).not.toHaveBeenCalled();
    } finally {
      region.close();
      unlinkRegion(name);
    }
  });
});
