/**
 * The benches' fine wait: polls a condition every 0.1 ms from this process, to see the moment
 * something another process does lands (a file written, a pixel in shared memory), at
 * sub-millisecond resolution without taking a core from the process being measured.
 */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Resolves with performance.now() once `ok()` holds; rejects with `failure` after timeoutMs.
 * Polls in short synchronous bursts (0.1 ms sleeps) for up to 20 ms, then yields to the event
 * loop once: sub-millisecond resolution at a few percent of a core.
 */
export function pollFinely(ok: () => boolean, timeoutMs: number, failure: string): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const sliceEnd = performance.now() + 20;
      for (;;) {
        const now = performance.now();
        if (ok()) {
          resolve(now);
          return;
        }
        if (now > deadline) {
          reject(new Error(failure));
          return;
        }
        if (now > sliceEnd) {
          setImmediate(tick);
          return;
        }
        Atomics.wait(sleeper, 0, 0, 0.1);
      }
    };
    tick();
  });
}
