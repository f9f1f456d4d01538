/**
 * The reloadable renderer: edit this file (or draw.ts, which it imports) while the window is open
 * and the new code takes over in milliseconds, with the click count and colour it left in shared
 * memory.
 *
 * Behaviour of the original Rust example: orange at first, a random colour without blue on each
 * left click, and the click count sent back to the owner for the title.
 */
import { InputKind, MouseButton, State } from 'hot-reloaded-state';
import { type DemoState, fill, rgb } from './draw.js';

export type { DemoState } from './draw.js';
export { rgb } from './draw.js';

export const ORANGE: number = rgb(1.0, 0.7, 0.0);

/** Renders until the channel closes; shared by the process (hot) and the worker (no-hot). */
export async function render(state: DemoState): Promise<void> {
  const { memory } = state;
  fill(state, memory.colour.get() || ORANGE);
  for await (const event of state.toRenderer) {
    if (event.kind === InputKind.MouseUp && event.button === MouseButton.Left) {
      const clicks = memory.clicks.get() + 1;
      const colour = rgb(Math.random(), Math.random(), 0);
      memory.clicks.set(clicks);
      memory.colour.set(colour);
      fill(state, colour);
      state.fromRenderer.send(`Render ${clicks}`);
    }
  }
}

/** The entry the supervisor (or the worker host) runs. */
export async function main(): Promise<void> {
  await render(State.reloadable());
}
