/**
 * The example's shared state, declared once for both sides: the owner (example-app) creates it,
 * the reloadable (example-impl) opens it. Everything here survives every reload of the renderer.
 */
import {
  channel,
  defineState,
  fixedString,
  framebuffer,
  i16,
  i32,
  struct,
  u8,
  u16,
  u32,
} from '@hotshm/hot-reload';

/** Kinds of input the owner forwards, as in `InputEvent.kind`. */
export const InputKind = {
  MouseMove: 1,
  MouseDown: 2,
  MouseUp: 3,
  KeyDown: 4,
  KeyUp: 5,
  Wheel: 6,
} as const;

export const MouseButton = { Left: 1, Middle: 2, Right: 3 } as const;

/** One input event from the window: 20 bytes, C layout. */
export const InputEvent = struct({
  kind: u8,
  button: u8,
  /** Bit mask of the buttons held (bit 0: left, 1: middle, 2: right). */
  buttons: u8,
  modifiers: u8,
  x: i32,
  y: i32,
  /** SDL keycode: Escape 27, letters their lower-case ASCII. */
  key: i32,
  /** Wheel steps: positive dy away from the user, positive dx to the right. */
  dx: i16,
  dy: i16,
});

/** The window's size, chosen by the owner and checked by the renderer when it arrives. */
export const Args = struct({ width: u16, height: u16 });

export const State = defineState({
  name: 'hot-reload-demo',
  reloadable: 'example-impl',
  args: Args,
  fields: ({ width, height }) => ({
    /** What the window shows: the renderer draws the back buffer and presents it. */
    framebuffer: framebuffer(width, height),
    /** Input from the window to the renderer; a reload loses none of it. */
    toRenderer: channel(InputEvent, { capacity: 1024 }),
    /** Text back to the owner, shown as the window title ("Render 3"). */
    fromRenderer: channel(fixedString(64), { capacity: 64 }),
    /** The renderer's own memory: it keeps counting across reloads. */
    memory: struct({ clicks: u32, colour: u32 }),
  }),
});
