/**
 * Child of window-terminal.test.ts, run inside tmux: opens the terminal back end (HOTSHM_BACKEND
 * =terminal) for a 300×300 orange frame titled "Hot Reload Demo", presents at 60 fps, and appends
 * one JSON line per input event to the file named by argv[2] ({"ready"…} first, {"quit"…} last).
 * SIGUSR1 toggles a red overlay border and logs {"border": on, "allOrange": …} once presented.
 * (stdin is the terminal's raw input here, so commands come as a signal.)
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import koffi from 'koffi';
import type { Frame, Overlay } from '../src/window/index.js';
import { openBackend } from '../src/window/index.js';

const ORANGE = 0xffffb300;
const WIDTH = 300;
const HEIGHT = 300;
const log = process.argv[2];
if (!log) throw new Error('usage: window-terminal-child.ts <events file>');

const { backend, note } = await openBackend({
  width: WIDTH,
  height: HEIGHT,
  title: 'Hot Reload Demo',
});
const address = koffi.alloc('uint32_t', WIDTH * HEIGHT) as bigint;
const pixels = new Uint32Array(koffi.view(address, WIDTH * HEIGHT * 4));
pixels.fill(ORANGE);
const frame: Frame = { address, pixels, width: WIDTH, height: HEIGHT, pitch: WIDTH * 4 };
const write = (line: unknown) => appendFileSync(log, `${JSON.stringify(line)}\n`);

backend.present(frame);
const columns = process.stdout.columns;
const rows = process.stdout.rows;
writeFileSync(
  log,
  `${JSON.stringify({ ready: true, pid: process.pid, backend: backend.name, note: note ?? null, columns, rows })}\n`,
);

let overlay: Overlay = {};
let toggled = false;
process.on('SIGUSR1', () => {
  overlay = overlay.border === undefined ? { border: 0xffff0000 } : {};
  toggled = true;
});

const timer = setInterval(() => {
  const { events, quit } = backend.poll();
  for (const event of events) write({ event });
  backend.present(frame, overlay);
  if (toggled) {
    toggled = false;
    write({ border: overlay.border !== undefined, allOrange: pixels.every((p) => p === ORANGE) });
  }
  if (quit) {
    clearInterval(timer);
    backend.close();
    write({ quit: true, writes: (backend as { writes?: number }).writes ?? null });
    process.exit(0);
  }
}, 1000 / 60);
