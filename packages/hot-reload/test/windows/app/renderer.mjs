/**
 * The renderer the checks edit: COLOUR is what it fills the screen with. Commands from the owner:
 *   1 exit with code 3          2 spin forever              3 reply with `starts`
 *   4 wait for the ring to fill, then take a stream of numbers with recvSync until 0, and reply
 *     how many came in order and how many did not
 *   5 draw FRAMES frames, each of one colour (0xff000000 + its number), half at a time with a
 *     pause between, then reply 5
 *   ≥ ECHO: reply with the number plus one
 */
import { State } from './state.mjs';

export const COLOUR = 0xff2040a0;
const ECHO = 1_000_000;
const FRAMES = 200;

function draw(state, colour) {
  const pixels = state.screen.back();
  const half = pixels.length >> 1;
  pixels.fill(colour, 0, half);
  // A pause mid-frame: an owner that could see a frame before it is presented would see two colours.
  const until = performance.now() + 0.2;
  while (performance.now() < until);
  pixels.fill(colour, half);
  state.screen.present();
}

function stream(state) {
  // Only once the owner has filled the ring: its sends then meet a full ring at least once.
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const until = performance.now() + 30_000;
  while (state.commands.length < state.commands.capacity && performance.now() < until) {
    Atomics.wait(sleeper, 0, 0, 1);
  }
  let expected = 1;
  let inOrder = 0;
  let outOfOrder = 0;
  for (;;) {
    const value = state.commands.recvSync(30_000);
    if (value === undefined || value === 0) break;
    if (value === expected) inOrder++;
    else outOfOrder++;
    expected = value + 1;
  }
  state.replies.send(inOrder);
  state.replies.send(outOfOrder);
}

export async function main() {
  const state = State.reloadable();
  state.memory.starts.set(state.memory.starts.get() + 1);
  draw(state, COLOUR);
  for await (const command of state.commands) {
    if (command >= ECHO) state.replies.send(command + 1);
    else if (command === 1) process.exit(3);
    else if (command === 2) for (;;);
    else if (command === 3) state.replies.send(state.memory.starts.get());
    else if (command === 4) stream(state);
    else if (command === 5) {
      for (let frame = 1; frame <= FRAMES; frame++) draw(state, 0xff000000 + frame);
      state.replies.send(5);
    }
  }
}
