/**
 * A user's app for the Windows lane's supervisor checks, in plain JavaScript as an npm user would
 * write it: this state, an owner (owner.mjs) and a renderer (renderer.mjs) that the checks edit.
 */
import { channel, defineState, framebuffer, struct, u16, u32 } from '@hotshm/hot-reload';

export const State = defineState({
  name: 'windows-lane-app',
  reloadable: new URL('./renderer.mjs', import.meta.url),
  args: struct({ width: u16, height: u16 }),
  fields: ({ width, height }) => ({
    screen: framebuffer(width, height),
    /** Owner → renderer: 1 exit with code 3, 2 loop forever, 3 reply with `starts`. */
    commands: channel(u32, { capacity: 16 }),
    replies: channel(u32, { capacity: 16 }),
    /** Survives reloads: how many renderers have started. */
    memory: struct({ starts: u32 }),
  }),
});
