/**
 * The reloadable renderer: edit this file while the window is open and the new code takes over
 * in milliseconds, with the click count and colour it left in shared memory.
 *
 * Behaviour of the original Rust example: orange at first, a random colour without blue on each
 * left click, and the click count sent back to the owner for the title.
 */
import { InputKind, MouseButton, State } from 'hot-reloaded-state';

export type DemoState = ReturnType<typeof State.reloadable>;

/** ARGB8888 from components in [0, 1], as the Rust example's `from_u8_rgb(r * 255.0 …)`. */
export function rgb(r: number, g: number, b: number): number {
  return (
    ((0xff << 24) |
      (Math.trunc(r * 255) << 16) |
      (Math.trunc(g * 255) << 8) |
      Math.trunc(b * 255)) >>>
    0
  );
}

export const ORANGE: number = rgb(1.0, 0.7, 0.0);

function fill(state: DemoState, colour: number): void {
  const pixels = state.framebuffer.back();
  pixels.fill(colour);
  state.framebuffer.present();
}

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
