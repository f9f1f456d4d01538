/**
 * The renderer: edit this file while the window is open and save. The new code takes over in
 * milliseconds, in the same window, with the click count and the colour it left in shared memory.
 */
import { InputKind, MouseButton } from '@hotshm/hot-reload/window';
import { State } from './state.ts';

/** The colour before the first click, ARGB: change it and save. */
const COLOUR = 0xffffb300;

export async function main(): Promise<void> {
  const state = State.reloadable();
  const { memory } = state;
  const show = (colour: number): void => {
    state.framebuffer.back().fill(colour);
    state.framebuffer.present();
    state.title.send(`Clicks: ${memory.clicks.get()}`);
  };
  show(memory.colour.get() || COLOUR);

  // Ends when a newer renderer takes over (a save) or the window closes: then main() returns.
  for await (const event of state.input) {
    if (event.kind === InputKind.MouseUp && event.button === MouseButton.Left) {
      memory.clicks.set(memory.clicks.get() + 1);
      memory.colour.set(randomColour());
      show(memory.colour.get());
    }
  }
}

/** An opaque colour without blue, as the hotshm example picks them. */
function randomColour(): number {
  const byte = () => Math.floor(Math.random() * 256);
  return ((0xff << 24) | (byte() << 16) | (byte() << 8)) >>> 0;
}
