/**
 * Worker of terminate-child.ts: maps the region named by workerData and waits on its first word
 * in a tight loop, synchronous parks (spinMicros 0) and async parks through the parker at once,
 * with short timeouts, so that it is nearly always inside a futex call or on its way into one.
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { openRegion } from '../src/memory/index.js';
import { sharedWord, waitAsync, waitSync } from '../src/sync/index.js';

// A 1 ns timer slack for this thread (the default 50 µs would stretch each 1 µs sleep): the loop
// then spends a larger share of its time passing arguments to koffi, where termination crashed.
const PR_SET_TIMERSLACK = 29;
koffi.load('libc.so.6').func('int prctl(int option, unsigned long arg2)')(PR_SET_TIMERSLACK, 1);

const region = openRegion(workerData as string);
const word = sharedWord(region.buffer, region.address, 0, 4);
const asyncLoop = (): void => {
  // Nobody changes the word: every wait ends by its timeout.
  void waitAsync(word, 0, 1).then(asyncLoop);
};
asyncLoop();
parentPort?.postMessage('up');
const syncLoop = (): void => {
  for (let i = 0; i < 20; i++) waitSync(word, 0, 0.001, { spinMicros: 0 });
  setImmediate(syncLoop);
};
syncLoop();
