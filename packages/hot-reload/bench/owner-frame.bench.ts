/**
 * The owner's own work per frame with the SDL back end under Xvfb: poll() + upload() (that is
 * SDL_PollEvent, SDL_UpdateTexture from the frame's C address, RenderClear/Copy and the overlay
 * border), apart from flip() (SDL_RenderPresent, X's part), at 300×300 and 1920×1080.
 * Baseline: a plain JavaScript copy of the same frame into a Uint32Array, the least a back end
 * that copied in JavaScript would pay.
 */
import koffi from 'koffi';
import { percentile, record } from '../../../scripts/bench-record.js';
import type { Frame } from '../src/window/index.js';
import { startXvfb } from '../test/x11.js';

const WARMUP = 60;
const FRAMES = 400;

const xvfb = await startXvfb('1920x1080x24');
process.env.DISPLAY = xvfb.display;
delete process.env.WAYLAND_DISPLAY;
const { openSdl } = await import('../src/window/sdl.js');

interface Result {
  owner: number[];
  flip: number[];
  copy: number[];
  renderer: string;
}

function measure(width: number, height: number): Result {
  const backend = openSdl({ width, height, title: `owner-frame ${width}×${height}` });
  const count = width * height;
  const address = koffi.alloc('uint32_t', count) as bigint;
  const pixels = new Uint32Array(koffi.view(address, count * 4));
  pixels.fill(0xffffb300);
  const frame: Frame = { address, pixels, width, height, pitch: width * 4 };
  const overlay = { border: 0xffff0000 };
  const copyTarget = new Uint32Array(count);
  const result: Result = { owner: [], flip: [], copy: [], renderer: backend.rendererName };
  for (let i = 0; i < WARMUP + FRAMES; i++) {
    pixels[i % count] = 0xff000000 | i; // a frame that changed, as a renderer's would
    const t0 = performance.now();
    backend.poll();
    backend.upload(frame, overlay);
    const t1 = performance.now();
    backend.flip();
    const t2 = performance.now();
    copyTarget.set(pixels);
    const t3 = performance.now();
    if (i >= WARMUP) {
      result.owner.push(t1 - t0);
      result.flip.push(t2 - t1);
      result.copy.push(t3 - t2);
    }
  }
  backend.close();
  koffi.free(address);
  return result;
}

try {
  for (const [width, height, id] of [
    [300, 300, '300'],
    [1920, 1080, '1080p'],
  ] as const) {
    const r = measure(width, height);
    const owner = percentile(r.owner, 50);
    const copy = percentile(r.copy, 50);
    console.log(
      `${width}×${height} (${r.renderer} renderer, ${FRAMES} frames): owner p50 ${owner.toFixed(3)} ms, p99 ${percentile(r.owner, 99).toFixed(3)} ms; present p50 ${percentile(r.flip, 50).toFixed(3)} ms, p99 ${percentile(r.flip, 99).toFixed(3)} ms; JS copy p50 ${copy.toFixed(3)} ms`,
    );
    record({
      [`owner.frame_ms_${id}`]: {
        value: owner,
        unit: 'ms',
        baseline: `JS copy of a ${width}×${height} frame`,
        ratio: owner / copy,
      },
      [`owner.present_ms_${id}`]: { value: percentile(r.flip, 50), unit: 'ms' },
    });
  }
} finally {
  await xvfb.stop();
}
