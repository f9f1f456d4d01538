/**
 * The example's shared state, declared once for both sides: the owner (example-app) creates it,
 * the reloadable (example-impl) opens it. Everything here survives every reload of the renderer.
 */
import {
  channel,
  defineState,
  fixedString,
  framebuffer,
  struct,
  u16,
  u32,
} from '@hotshm/hot-reload';
import { InputEvent } from '@hotshm/hot-reload/window';

// The window's input schema and constants, from the library, for the renderer to read events by.
export { InputEvent, InputKind, Key, Modifier, MouseButton } from '@hotshm/hot-reload/window';

/** The window's size, chosen by the owner and checked by the renderer when it arrives. */
export const Args = struct({ width: u16, height: u16 });

export const State = defineState({
  name: 'hot-reload-demo',
  reloadable: 'example-impl',
  args: Args,
  fields: ({ width, height }) => ({
    /** What the window shows: the renderer draws the back buffer and presents it. */
    framebuffer: framebuffer(width, height),
    /**
     * Input from the window to the renderer; a reload loses none of it, and a click the renderer
     * crashed on goes to the next renderer ('handled': a message is committed once the renderer
     * asks for the next one).
     */
    toRenderer: channel(InputEvent, { capacity: 1024, delivery: 'handled' }),
    /** Text back to the owner, shown as the window title ("Render 3"). */
    fromRenderer: channel(fixedString(64), { capacity: 64 }),
    /** The renderer's own memory: it keeps counting across reloads. */
    memory: struct({ clicks: u32, colour: u32 }),
  }),
});
