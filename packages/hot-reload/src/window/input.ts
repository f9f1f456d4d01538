/**
 * Input as every back end reports it and as an app carries it to its renderer: one 20-byte
 * `InputEvent` struct (put it in a channel of the state) and the constants its fields hold. The
 * numbering is SDL's (keycodes, buttons), so an SDL event needs no table to become one; the
 * terminal back end maps what a terminal can report onto the same numbers.
 */
import { i16, i32, struct, u8 } from '../schema/index.js';
import type { Infer } from '../schema/types.js';

/** `InputEvent.kind`. */
export const InputKind = {
  MouseMove: 1,
  MouseDown: 2,
  MouseUp: 3,
  KeyDown: 4,
  KeyUp: 5,
  Wheel: 6,
} as const;
export type InputKind = (typeof InputKind)[keyof typeof InputKind];

/** Mouse buttons, numbered as SDL numbers them; bit `1 << (button - 1)` in `buttons`. */
export const MouseButton = { Left: 1, Middle: 2, Right: 3 } as const;
export type MouseButton = (typeof MouseButton)[keyof typeof MouseButton];

/**
 * Modifier bits, the same for every back end (SDL's own KMOD_* bits tell left from right, which a
 * terminal cannot, so both are folded into these four).
 */
export const Modifier = { Shift: 1, Ctrl: 2, Alt: 4, Meta: 8 } as const;
export type Modifier = (typeof Modifier)[keyof typeof Modifier];

/** SDL keycodes for the keys a terminal can also report; letters and digits are their ASCII codes. */
export const Key = {
  Backspace: 8,
  Tab: 9,
  Return: 13,
  Escape: 27,
  Space: 32,
  Delete: 127,
  Right: 0x4000_004f,
  Left: 0x4000_0050,
  Down: 0x4000_0051,
  Up: 0x4000_0052,
} as const;
export type Key = (typeof Key)[keyof typeof Key];

/**
 * One input event, 20 bytes in C layout: the message of the channel an app names as the window's
 * `input`.
 *
 * @example
 * const State = defineState({
 *   name: 'demo',
 *   reloadable: new URL('./renderer.ts', import.meta.url),
 *   args: struct({ width: u16, height: u16 }),
 *   fields: ({ width, height }) => ({
 *     framebuffer: framebuffer(width, height),
 *     input: channel(InputEvent, { capacity: 1024 }),
 *   }),
 * });
 * // in the renderer
 * for await (const e of State.reloadable().input) {
 *   if (e.kind === InputKind.MouseUp && e.button === MouseButton.Left) click(e.x, e.y);
 * }
 */
export const InputEvent = struct({
  /** `InputKind`. */
  kind: u8,
  /** The button that changed (MouseDown/MouseUp): `MouseButton`; 0 otherwise. */
  button: u8,
  /** Buttons held after this event, bit `1 << (button - 1)`. */
  buttons: u8,
  /** `Modifier` bits held. */
  modifiers: u8,
  /** Framebuffer coordinates of the pointer (for key events too: the last known position). */
  x: i32,
  y: i32,
  /** SDL keycode (KeyDown/KeyUp): `Key.Escape` = 27, letters their lower-case ASCII; 0 otherwise. */
  key: i32,
  /** Wheel steps (Wheel): positive dy is away from the user, positive dx to the right; 0 otherwise. */
  dx: i16,
  dy: i16,
});
export type InputEvent = Infer<typeof InputEvent>;
