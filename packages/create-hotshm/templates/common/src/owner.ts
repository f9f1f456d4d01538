/**
 * The owner: it keeps the window and the shared state while the renderer reloads. `npm run dev`
 * runs it with hot reload (a save of the renderer shows in milliseconds, in the same window);
 * `npm start` runs the renderer on a thread of this process instead, without hot reload.
 */
import { openWindow } from '@hotshm/hot-reload/window';
import { State } from './state.ts';

const state = await State.owner({ width: 640, height: 480 });
const window = await openWindow(state, {
  title: 'hotshm-app',
  input: 'input', // mouse and keys go to the renderer through this channel
  titles: 'title', // and what the renderer sends on this one becomes the title
});
await window.closed; // Escape or the close button
await state.close();
