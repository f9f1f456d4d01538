/**
 * The second Windows process of the memory and sync checks: opens the region named on its command
 * line, then runs one command per line of stdin and answers with one line of stdout. Words are
 * Int32 indexes into the region.
 */
import { createInterface } from 'node:readline';
import { HotshmError, type Region } from '@hotshm/hot-reload';
import { openRegion } from '@hotshm/hot-reload/memory';
import { sharedWord, syncBackendName, waitAsync, waitSync, wake } from '@hotshm/hot-reload/sync';

const name = process.argv[2];
if (!name) throw new Error('usage: region.child <region name>');

let region: Region | undefined;
const i32 = (): Int32Array => {
  if (!region) throw new Error('open the region first');
  return new Int32Array(region.buffer, 0, Math.floor(region.buffer.byteLength / 4));
};
const word = (index: number) => {
  if (!region) throw new Error('open the region first');
  return sharedWord(region.buffer, region.address, index * 4);
};

/** Stops a child that a failed check left waiting. */
const DEADLINE_MS = 30_000;

const commands: Record<string, (...args: number[]) => string | Promise<string>> = {
  open() {
    region = openRegion(name);
    return `size ${region.size} backend ${syncBackendName()}`;
  },
  load: (index) => String(Atomics.load(i32(), index)),
  store(index, value) {
    Atomics.store(i32(), index, value);
    return 'ok';
  },
  storeAndWake(index, value) {
    Atomics.store(i32(), index, value);
    wake(word(index));
    return 'ok';
  },
  /** Once a waiter is counted on the word (the word after it), stores `value` and wakes. */
  wakeWhenParked(index, value) {
    const deadline = Date.now() + DEADLINE_MS;
    while (Atomics.load(i32(), index + 1) === 0) {
      if (Date.now() > deadline) return 'timed out waiting for a waiter';
    }
    Atomics.store(i32(), index, value);
    wake(word(index));
    return 'ok';
  },
  /** Says it is there (started = 1), waits for go, then adds `count` times. */
  add(started, go, counter, count) {
    const words = i32();
    Atomics.store(words, started, 1);
    const deadline = Date.now() + DEADLINE_MS;
    while (Atomics.load(words, go) !== 1) {
      if (Date.now() > deadline) return 'timed out waiting for go';
    }
    for (let i = 0; i < count; i++) Atomics.add(words, counter, 1);
    return 'ok';
  },
  /** waitSync on a word, then stores the result's index (1 ok, 2 not-equal, 3 timed-out) at `flag`. */
  wait(index, expected, timeoutMs, spinMicros, flag) {
    const result = waitSync(word(index), expected, timeoutMs, { spinMicros });
    Atomics.store(i32(), flag, ['ok', 'not-equal', 'timed-out'].indexOf(result) + 1);
    return result;
  },
  async waitAsync(index, expected, timeoutMs) {
    return waitAsync(word(index), expected, timeoutMs);
  },
  /**
   * Ping-pong: waits for `ping` to hold i, answers with `pong` = i, `rounds` times, with no spin
   * (every wait goes to the OS).
   */
  pong(ping, pong, rounds) {
    const ringing = word(ping);
    const answer = word(pong);
    for (let i = 1; i <= rounds; i++) {
      // Read once, then compare and wait on that same value: reading twice could wait for a
      // change away from the very value we were waiting for.
      for (let seen = Atomics.load(i32(), ping); seen !== i; seen = Atomics.load(i32(), ping)) {
        if (waitSync(ringing, seen, DEADLINE_MS, { spinMicros: 0 }) === 'timed-out')
          return `timed out at round ${i}`;
      }
      Atomics.store(i32(), pong, i);
      wake(answer);
    }
    return 'ok';
  },
  close() {
    region?.close();
    return 'closed';
  },
  /** Reads a word after close: a closed region's view must read, not fault. */
  loadAfterClose(index) {
    if (!region) throw new Error('open the region first');
    return String(new Int32Array(region.buffer)[index]);
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, ...args] = line.trim().split(/\s+/);
  if (!command) continue;
  if (command === 'exit') break;
  const fn = commands[command];
  try {
    if (!fn) throw new Error(`unknown command ${command}`);
    console.log(await fn(...args.map(Number)));
  } catch (e) {
    const code = e instanceof HotshmError ? e.code : 'ERROR';
    console.log(`error ${code} ${e instanceof Error ? e.message : String(e)}`);
  }
}
lines.close();
