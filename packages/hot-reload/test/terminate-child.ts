/**
 * Child process of the worker-termination test and of `pnpm stress`'s worker row:
 *   node --import tsx test/terminate-child.ts <iterations>
 * Starts a worker (terminate-worker.ts) `iterations` times and terminates it at a random moment
 * while it waits on a word of a real region. Prints `{"terminated":n}` each time a worker is
 * gone, so the last line says how far it came; a crash in a foreign call during termination (the
 * SIGSEGV of issue 11) ends the process, with a signal, before the last line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { createRegion, newRegionName } from '../src/memory/index.js';
import { sharedWord, wake } from '../src/sync/index.js';

const iterations = Number(process.argv[2] ?? 100);

// Workers get no tsx hooks: bundle the worker once (koffi stays a native module, imported from
// its installed path) so each start costs milliseconds, not a TypeScript compile.
const dir = mkdtempSync(join(tmpdir(), 'hotshm-terminate-'));
const bundle = join(dir, 'worker.mjs');
const koffi = fileURLToPath(import.meta.resolve('koffi'));
await build({
  entryPoints: [fileURLToPath(new URL('terminate-worker.ts', import.meta.url))],
  outfile: bundle,
  bundle: true,
  format: 'esm',
  platform: 'node',
  logLevel: 'error',
  plugins: [
    {
      name: 'koffi-external',
      setup(b) {
        b.onResolve({ filter: /^koffi$/ }, () => ({ path: koffi, external: true }));
      },
    },
  ],
});

const region = createRegion(newRegionName(), 4096);
const word = sharedWord(region.buffer, region.address, 0, 4);
try {
  for (let i = 0; i < iterations; i++) {
    const worker = new Worker(bundle, { workerData: region.name });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
    // terminate() waits for the worker's foreign calls to return, and the parker's async sleep
    // lasts up to PARK_SLICE_MS: once JavaScript has stopped in the worker (so it cannot park
    // again), wake the word it sleeps on until the worker is gone.
    let gone = false;
    const stopped = worker.terminate().then(() => {
      gone = true;
    });
    while (!gone) {
      wake(word);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await stopped;
    process.stdout.write(`${JSON.stringify({ terminated: i + 1 })}\n`);
  }
} finally {
  region.unlink();
  region.close();
  rmSync(dir, { recursive: true, force: true });
}
