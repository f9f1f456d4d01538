/**
 * Drawing helpers of the renderer, in a module of their own: editing this file reloads the
 * renderer just like editing index.ts (the supervisor watches every file the bundle is made of).
 */
import type { State } from 'hot-reloaded-state';

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

/** Fills the whole frame with one colour and shows it. */
export function fill(state: DemoState, colour: number): void {
  const pixels = state.framebuffer.back();
  pixels.fill(colour);
  state.framebuffer.present();
}
