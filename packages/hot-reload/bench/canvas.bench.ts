/**
 * Canvas benchmark: the frame of the canvas template (create-hotshm's templates/canvas, its own
 * scene module) at 300×300 and 1920×1080, drawn with Skia and handed into a real framebuffer in
 * shared memory, `abgr8888` as the template declares it. Reported apart: the drawing (the scene's
 * Skia calls) and the hand-over (`present()`: flush, one copy into the back buffer, publish).
 * Beside them: the hand-over against converting the pixels word by word in JavaScript (what a
 * framebuffer that could not carry its format would need), and the drawing against the same scene
 * drawn into an `argb8888` framebuffer (Skia's BGRA, its slow path in canvaskit-wasm).
 */
import { createRequire } from 'node:module';
import { percentile, record } from '../../../scripts/bench-record.js';
import { createScene } from '../../create-hotshm/templates/canvas/src/scene.js';
import { createCanvas, loadTypeface } from '../src/canvas/index.js';
import { framebuffer, type PixelFormat } from '../src/frames/index.js';
import { createFields } from '../test/channel-context.js';

const FONT = createRequire(import.meta.url).resolve(
  '@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf',
);
const WARMUP = 60;
const FRAMES = 300;

interface Figures {
  readonly draw: number[];
  readonly handover: number[];
  readonly frame: number[];
  readonly jsLoop: number[];
}

async function measure(width: number, height: number, format: PixelFormat): Promise<Figures> {
  const owner = createFields([framebuffer(width, height, { format })] as const);
  const fb = owner.fields[0];
  const skia = await createCanvas(fb);
  const ck = skia.canvasKit;
  const face = loadTypeface(ck, FONT);
  const scene = createScene(ck, face, width, height);
  const out: Figures = { draw: [], handover: [], frame: [], jsLoop: [] };
  try {
    for (let i = 0; i < WARMUP + FRAMES; i++) {
      const frame = {
        time: i / 60,
        clicks: i,
        lastClick: { x: (i * 7) % width, y: (i * 3) % height },
      };
      const t0 = performance.now();
      scene.draw(skia.canvas, frame);
      const t1 = performance.now();
      if (!skia.present()) throw new Error('present() refused a frame: nothing else presents here');
      const t2 = performance.now();
      // The owner shows the frame (as its loop would, between two of the renderer's frames).
      fb.acquireFront();
      fb.releaseFront();
      if (i < WARMUP) continue;
      out.draw.push(t1 - t0);
      out.handover.push(t2 - t1);
      out.frame.push(t2 - t0);
    }
    // Baseline, in a loop of its own (not between the template's frames, whose caches it would
    // flush): the same pixels converted one by one (red and blue swapped) into the back buffer.
    for (let i = 0; i < WARMUP + FRAMES; i++) {
      const t0 = performance.now();
      const src = skia.pixels();
      const back = fb.back();
      for (let p = 0; p < src.length; p++) {
        const v = src[p]!;
        back[p] = (v & 0xff00ff00) | ((v >>> 16) & 0xff) | ((v & 0xff) << 16);
      }
      fb.present();
      const t1 = performance.now();
      fb.acquireFront();
      fb.releaseFront();
      if (i >= WARMUP) out.jsLoop.push(t1 - t0);
    }
  } finally {
    scene.delete();
    face.delete();
    skia.dispose();
    owner.ctx.region.unlink();
  }
  return out;
}

console.log(
  `canvas benchmark (the canvas template's scene, Skia → framebuffer, ${FRAMES} frames each)`,
);
const metrics: Parameters<typeof record>[0] = {};
for (const [label, width, height] of [
  ['300', 300, 300],
  ['1080p', 1920, 1080],
] as const) {
  const f = await measure(width, height, 'abgr8888');
  const bgra = await measure(width, height, 'argb8888');
  const p50 = (a: number[]) => percentile(a, 50);
  console.log(
    `  ${width}×${height}: frame p50 ${p50(f.frame).toFixed(3)} ms, p95 ${percentile(f.frame, 95).toFixed(3)} ms` +
      ` (drawing ${p50(f.draw).toFixed(3)}, hand-over ${p50(f.handover).toFixed(3)})`,
  );
  metrics[`canvas.frame_ms_${label}`] = { value: p50(f.frame), unit: 'ms' };
  metrics[`canvas.draw_ms_${label}`] = { value: p50(f.draw), unit: 'ms' };
  metrics[`canvas.handover_ms_${label}`] = { value: p50(f.handover), unit: 'ms' };
  const bgraRatio = p50(bgra.draw) / p50(f.draw);
  metrics[`canvas.draw_bgra_vs_rgba_${label}`] = {
    value: bgraRatio,
    unit: '×',
    baseline: 'the same scene drawn into an argb8888 framebuffer (Skia BGRA_8888)',
    ratio: bgraRatio,
  };
  const loopRatio = p50(f.jsLoop) / p50(f.handover);
  metrics[`canvas.handover_vs_js_loop_${label}`] = {
    value: loopRatio,
    unit: '×',
    baseline: 'a JavaScript loop swapping red and blue word by word into the back buffer',
    ratio: loopRatio,
  };
}
record(metrics);
