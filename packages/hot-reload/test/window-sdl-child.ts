/**
 * Child of window-sdl.test.ts: opens the default back end (SDL when DISPLAY works) 300×300
 * titled "Hot Reload Demo", shows an orange frame from koffi-allocated memory at 60 fps, and
 * prints every input event as a JSON line. Commands on stdin, one per line:
 *   title <text>     set the window title
 *   border <rrggbb>  draw the overlay border in that colour; "border off" removes it
 *   check            report whether every pixel of the buffer is still orange
 *   format <f>       present the frame as argb8888 or abgr8888, orange written in that format
 * Each command is answered with {"ack": <command>} after the next frame that reflects it.
 */
import { createInterface } from 'node:readline';
import koffi from 'koffi';
import type { Frame, Overlay } from '../src/window/index.js';
import { openBackend } from '../src/window/index.js';

const ORANGE = 0xffffb300;
/** The same orange as an abgr8888 word (0xAABBGGRR). */
const ORANGE_ABGR = 0xff00b3ff;
const WIDTH = 300;
const HEIGHT = 300;

const { backend, note } = await openBackend({
  width: WIDTH,
  height: HEIGHT,
  title: 'Hot Reload Demo',
});
const address = koffi.alloc('uint32_t', WIDTH * HEIGHT) as bigint;
const pixels = new Uint32Array(koffi.view(address, WIDTH * HEIGHT * 4));
pixels.fill(ORANGE);
let frame: Frame = { address, pixels, width: WIDTH, height: HEIGHT, pitch: WIDTH * 4 };
let orange = ORANGE;
let overlay: Overlay = {};
let pendingAcks: string[] = [];

const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({
  ready: true,
  backend: backend.name,
  note: note ?? null,
  windowId: backend.windowId ?? null,
  x11Window: backend.x11Window ?? null,
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command = '', ...rest] = line.split(' ');
  const arg = rest.join(' ');
  if (command === 'title') backend.setTitle(arg);
  else if (command === 'border')
    overlay = arg === 'off' ? {} : { border: 0xff000000 | Number.parseInt(arg, 16) };
  else if (command === 'check') say({ allOrange: pixels.every((p) => p === orange) });
  else if (command === 'format') {
    const format = arg === 'abgr8888' ? 'abgr8888' : 'argb8888';
    orange = format === 'abgr8888' ? ORANGE_ABGR : ORANGE;
    pixels.fill(orange);
    frame = { ...frame, format };
  }
  pendingAcks.push(line);
});

const timer = setInterval(() => {
  const { events, quit } = backend.poll();
  for (const event of events) say({ event });
  backend.present(frame, overlay);
  for (const ack of pendingAcks) say({ ack });
  pendingAcks = [];
  if (quit) {
    clearInterval(timer);
    backend.close();
    say({ quit: true });
    process.exit(0);
  }
}, 1000 / 60);
