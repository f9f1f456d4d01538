/**
 * The renderer: it draws scene.ts with Skia into the shared framebuffer about 60 times a second
 * and counts clicks in shared memory. Edit this file or scene.ts while the window is open and
 * save: a new renderer takes over in the same window, and the count is where it was.
 */
import { createCanvas, loadTypeface } from '@hotshm/hot-reload/canvas';
import { InputKind, MouseButton } from '@hotshm/hot-reload/window';
import { createScene } from './scene.ts';
import { State } from './state.ts';

/** Roboto Mono, from its npm package (SIL Open Font License 1.1). */
const FONT = import.meta.resolve(
  '@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf',
);
const FRAME_MS = 1000 / 60;

export async function main(): Promise<void> {
  const state = State.reloadable();
  const { memory } = state;
  if (memory.since.get() === 0) memory.since.set(Date.now());
  const skia = await createCanvas(state.framebuffer);
  const face = loadTypeface(skia.canvasKit, FONT);
  const scene = createScene(skia.canvasKit, face, skia.width, skia.height);
  const title = () => state.title.send(`Clicks: ${memory.clicks.get()}`);
  title();

  // Input until a newer renderer takes over (a save) or the window closes.
  let live = true;
  const input = (async () => {
    for await (const event of state.input) {
      if (event.kind === InputKind.MouseUp && event.button === MouseButton.Left) {
        memory.clicks.set(memory.clicks.get() + 1);
        memory.lastX.set(event.x);
        memory.lastY.set(event.y);
        title();
      }
    }
    live = false;
  })();

  while (live) {
    const clicks = memory.clicks.get();
    scene.draw(skia.canvas, {
      time: (Date.now() - memory.since.get()) / 1000,
      clicks,
      lastClick: clicks > 0 ? { x: memory.lastX.get(), y: memory.lastY.get() } : undefined,
    });
    // False once a newer renderer has taken over: this one stops drawing.
    if (!skia.present()) break;
    await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
  }
  await input;
  scene.delete();
  face.delete();
  skia.dispose();
}
