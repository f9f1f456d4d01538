/**
 * The state both sides share, declared once: the owner (owner.ts) creates it, the renderer
 * (renderer.ts) opens it. It lives in shared memory, so it survives every reload.
 */
import {
  channel,
  defineState,
  f64,
  fixedString,
  framebuffer,
  i32,
  struct,
  u16,
  u32,
} from '@hotshm/hot-reload';
import { InputEvent } from '@hotshm/hot-reload/window';

export const State = defineState({
  name: 'hotshm-app',
  reloadable: new URL('./renderer.ts', import.meta.url),
  args: struct({ width: u16, height: u16 }),
  fields: ({ width, height }) => ({
    /**
     * What the window shows. abgr8888 (bytes R, G, B, A) is the order Skia draws in fastest; the
     * window shows it as it is.
     */
    framebuffer: framebuffer(width, height, { format: 'abgr8888' }),
    /**
     * Mouse and keys from the window. A reload loses none of them, and a click the renderer
     * crashed on goes to the next renderer ('handled': a message is committed once the renderer
     * asks for the next one).
     */
    input: channel(InputEvent, { capacity: 1024, delivery: 'handled' }),
    /** The window's title, sent by the renderer (only the newest counts). */
    title: channel(fixedString(64), { capacity: 1, latest: true }),
    /** The renderer's own memory: clicks, where the last one landed, when the app first drew. */
    memory: struct({ clicks: u32, lastX: i32, lastY: i32, since: f64 }),
  }),
});
