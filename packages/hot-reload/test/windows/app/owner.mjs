/**
 * The owner of the lane's app: starts the state in hot mode on the renderer beside it, prints
 * each supervisor event as one JSON line, and runs one command per line of stdin:
 *   send <n>   → sends n to the renderer        front → prints the shown frame's first pixel
 *   replies    → prints what the renderer sent   pids  → prints the renderer's and standby's pids
 *   close      → closes the state and exits
 */
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { State } from './state.mjs';

const print = (value) => console.log(JSON.stringify(value));
const entry = fileURLToPath(new URL('./renderer.mjs', import.meta.url));
const state = await State.owner({ width: 32, height: 24 }, { hot: true, entry, log: false });
const sup = state.supervisor;
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
  pids: () => ({ renderer: sup.rendererPid ?? null, standby: sup.standbyPid ?? null }),
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
  print(await command(...args));
  if (name === 'close') process.exit(0);
}
