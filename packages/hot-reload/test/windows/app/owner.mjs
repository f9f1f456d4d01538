/**
 * The owner of the lane's app: starts the state in hot mode on the renderer beside it, prints
 * each host event as one JSON line, and runs one command per line of stdin:
 *   send <n>     → sends n to the renderer        front → the shown frame's first pixel
 *   replies      → what the renderer sent          pids  → the renderer's and standby's pids
 *   pingpong <n> → n round trips through the channels, each awaited (async recv)
 *   stream <n>   → n numbers through the 16-slot ring as fast as it takes them
 *   frames       → samples the shown frame while the renderer draws 200 (see renderer.mjs)
 *   detached     → starts a process with `detached: true`, which may outlive this one
 *   close        → closes the state and exits
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { State } from './state.mjs';

const print = (value) => console.log(JSON.stringify(value));
const entry = fileURLToPath(new URL('./renderer.mjs', import.meta.url));
const state = await State.owner({ width: 256, height: 256 }, { hot: true, entry, log: false });
const ECHO = 1_000_000;
const sup = state.host;
for (const event of ['reload', 'crash', 'build-error', 'warning', 'layout-change']) {
  sup.on(event, (e) => print({ event, ...e }));
}
print({ event: 'started', region: state.region.name, pid: process.pid });

const commands = {
  send: (n) => ({ sent: state.commands.trySend(Number(n)) }),
  front() {
    const front = state.screen.acquireFront();
    if (front === null) return { front: null };
    const pixel = front.pixels[0] >>> 0;
    const uniform = front.pixels.every((p) => p >>> 0 === pixel);
    state.screen.releaseFront();
    return { front: pixel, uniform, epoch: front.epoch };
  },
  replies: () => ({ replies: state.replies.drain() }),
  detached() {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    return { detached: child.pid };
  },
  pids: () => ({ renderer: sup.rendererPid ?? null, standby: sup.standbyPid ?? null }),
  async pingpong(n) {
    let wrong = 0;
    const ms = [];
    for (let i = 0; i < Number(n); i++) {
      const t0 = performance.now();
      if (!state.commands.send(ECHO + i)) throw new Error(`round ${i}: the command ring is full`);
      const reply = await state.replies.recv({ timeoutMs: 30_000 });
      if (reply !== ECHO + i + 1) wrong++;
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    const at = (q) => Math.round(ms[Math.floor((ms.length - 1) * q)] * 100) / 100;
    // Figures for the log only: nothing asserts on time.
    return { rounds: Number(n), wrong, ms: { p50: at(0.5), p99: at(0.99), max: at(1) } };
  },
  async stream(n) {
    state.commands.send(4);
    let full = 0;
    for (let value = 1; value <= Number(n) + 1; value++) {
      const message = value > Number(n) ? 0 : value;
      while (!state.commands.send(message)) {
        full++;
        await new Promise((r) => setImmediate(r));
      }
    }
    const inOrder = await state.replies.recv({ timeoutMs: 30_000 });
    const outOfOrder = await state.replies.recv({ timeoutMs: 30_000 });
    return { streamed: Number(n), inOrder, outOfOrder, full };
  },
  async frames() {
    state.replies.drain();
    state.commands.send(5);
    let samples = 0;
    let torn = 0;
    let backwards = 0;
    let last = 0;
    const deadline = performance.now() + 60_000;
    for (;;) {
      const done = state.replies.tryRecv() === 5;
      const front = state.screen.acquireFront();
      if (front !== null) {
        const first = front.pixels[0];
        if (!front.pixels.every((p) => p === first)) torn++;
        if (front.frame < last) backwards++;
        last = front.frame;
        samples++;
        state.screen.releaseFront();
      }
      if (done || performance.now() > deadline) break;
      await new Promise((r) => setImmediate(r));
    }
    const front = commands.front();
    return { samples, torn, backwards, lastFront: front.front };
  },
  async close() {
    await state.close();
    return { closed: true };
  },
};

for await (const line of createInterface({ input: process.stdin })) {
  const [name, ...args] = line.trim().split(/\s+/);
  const command = commands[name];
  if (!command) {
    print({ error: `unknown command ${name}` });
    continue;
  }
  const t0 = performance.now();
  const answer = await command(...args);
  print({ ...answer, commandMs: Math.round(performance.now() - t0) });
  if (name === 'close') process.exit(0);
}
