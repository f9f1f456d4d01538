/** The renderer the checks edit: COLOUR is what it fills the screen with. */
import { State } from './state.mjs';

export const COLOUR = 0xff2040a0;

export async function main() {
  const state = State.reloadable();
  state.memory.starts.set(state.memory.starts.get() + 1);
  state.screen.back().fill(COLOUR);
  state.screen.present();
  for await (const command of state.commands) {
    if (command === 1) process.exit(3);
    if (command === 2) for (;;);
    if (command === 3) state.replies.send(state.memory.starts.get());
  }
}
