/**
 * esbuild's service process, shared by everything in the owner that builds (the library build,
 * the bundler, the program builder), and stopped when none of them needs it any more.
 *
 * Why a service outlived a SIGKILLed owner (issue 20 item 2, measured here): the service exits
 * when its stdin closes (the kernel closes it when the owner dies), but only once every request
 * it holds open has finished, and an incremental context (`esbuild.context()`) is one such request
 * until it is disposed. With a context alive, the service waits on past the end of its stdin and
 * is only stopped by its next ping (it writes one to the host every second; the write fails and it
 * exits): 17–930 ms after the owner's SIGKILL, over the stress suite's 1 s limit about 1 time in
 * 50. With no context alive it exits within a few milliseconds (3–9 ms here). So the program
 * builder holds no context between builds (one-shot builds: ~5.6 ms against 3.2 ms for a context's
 * rebuild on the example, and only for saves that change imports), and every user releases the
 * service when it is done: the last release stops it, so a no-hot owner keeps no child process
 * once its program is built. The service is hotshm's own (see `loadEsbuild`): stopping it leaves
 * an app's own use of esbuild alone.
 */
import { createRequire } from 'node:module';
import type * as esbuild from 'esbuild';

let instance: typeof esbuild | undefined;

/**
 * esbuild, loaded on first use (renderers never load a compiler), as an instance of its own: its
 * JavaScript API keeps one service per loaded copy, and this copy is not the one an app gets from
 * `import('esbuild')`. So stopping hotshm's service never cuts off an app's own builds (its pending
 * calls would never settle), and an app's `esbuild.stop()` never cuts off hotshm's.
 */
export function loadEsbuild(): Promise<typeof esbuild> {
  if (!instance) {
    const require = createRequire(import.meta.url);
    const path = require.resolve('esbuild');
    const theirs = require.cache[path];
    delete require.cache[path];
    try {
      instance = require(path) as typeof esbuild;
    } finally {
      // Whoever requires esbuild next gets what they would have got without us.
      if (theirs) require.cache[path] = theirs;
      else delete require.cache[path];
    }
  }
  return Promise.resolve(instance);
}

export interface EsbuildLease {
  readonly esbuild: Promise<typeof esbuild>;
  /**
   * This user is done with the service; the last release stops it. Resolves once the service is
   * stopped (or at once, when other users still hold it). Idempotent.
   */
  release(): Promise<void>;
}

let users = 0;
let stopping: ReturnType<typeof setImmediate> | undefined;
/** Releases waiting for a stop that a new lease called off: they resolve then. */
let waiting: Array<() => void> = [];

/**
 * Takes a lease on esbuild's service (synchronously: a release followed by the next user's lease
 * in the same turn keeps the process). The service stops one turn after the last lease ends.
 */
export function leaseEsbuild(): EsbuildLease {
  users++;
  if (stopping !== undefined) {
    clearImmediate(stopping);
    stopping = undefined;
    for (const resolve of waiting.splice(0)) resolve();
  }
  let released: Promise<void> | undefined;
  const module = loadEsbuild();
  return {
    esbuild: module,
    release() {
      if (released) return released;
      users--;
      if (users > 0) {
        released = Promise.resolve();
        return released;
      }
      released = new Promise<void>((resolve) => {
        waiting.push(resolve);
        stopping = setImmediate(() => {
          stopping = undefined;
          const done = waiting;
          waiting = [];
          if (users !== 0) {
            for (const r of done) r();
            return;
          }
          void module
            .then((m) => m.stop())
            .catch(() => {})
            .finally(() => {
              for (const r of done) r();
            });
        });
      });
      return released;
    },
  };
}

/** How many leases are held (tests). */
export function esbuildUsers(): number {
  return users;
}
