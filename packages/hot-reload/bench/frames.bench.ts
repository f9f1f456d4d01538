/**
 * Framebuffer benchmark: 1920×1080 frames handed from a real renderer process to this owner
 * process, both flat out for 3 s, every handed frame checked for tearing; beside it the same
 * frames sent through process.send (advanced serialization, one acknowledged frame at a time).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { record } from '../../../scripts/bench-record.js';
import { framebuffer } from '../src/frames/index.js';
import { createFields } from '../test/channel-context.js';

const CHILD = fileURLToPath(new URL('../test/frames-child.ts', import.meta.url));
const W = 1920;
const H = 1080;
const SECONDS = 3;

function run(args: (string | number)[], ipc: boolean) {
  return spawn(process.execPath, ['--import', 'tsx', CHILD, ...args.map(String)], {
    stdio: ipc ? ['ignore', 'ignore', 'inherit', 'ipc'] : ['ignore', 'ignore', 'inherit'],
    ...(ipc ? { serialization: 'advanced' as const } : {}),
  });
}

async function sharedHandoff(): Promise<{ fps: number; torn: number }> {
  const owner = createFields([framebuffer(W, H)] as const);
  const fb = owner.fields[0];
  const renderer = run(['render', owner.ctx.regionName, W, H, 1, (SECONDS + 1) * 1000], false);
  let done = false;
  renderer.on('exit', () => {
    done = true;
  });
  // Wait for the first frame (the child's start-up is not measured).
  while (fb.frameCount() === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const t0 = performance.now();
  let last = 0;
  let handed = 0;
  let torn = 0;
  while (!done && performance.now() - t0 < SECONDS * 1000) {
    const front = fb.acquireFront();
    if (front !== null && front.frame !== last) {
      // What SDL would copy; check a full row at the top, middle and bottom and a column: a
      // half-written frame shows two values.
      const px = front.pixels;
      const v = px[0]!;
      for (const row of [0, H >> 1, H - 1]) {
        for (let x = 0; x < W; x++) if (px[row * W + x] !== v) torn++;
      }
      for (let y = 0; y < H; y++) if (px[y * W + (W >> 1)] !== v) torn++;
      last = front.frame;
      handed++;
    }
    fb.releaseFront();
  }
  const fps = handed / ((performance.now() - t0) / 1000);
  renderer.kill();
  owner.ctx.region.unlink();
  return { fps, torn };
}

async function processSendHandoff(): Promise<number> {
  const renderer = run(['ipc-render', '-', W, H, (SECONDS + 1) * 1000], true);
  let received = 0;
  let t0 = 0;
  await new Promise<void>((resolve) => {
    renderer.on('message', (m) => {
      if (m === 'done') return resolve();
      if (received === 0) t0 = performance.now();
      received++;
      renderer.send('ack');
    });
  });
  renderer.kill();
  return (received - 1) / ((performance.now() - t0) / 1000);
}

console.log(`frames benchmark (${W}×${H}, renderer process → owner process, ${SECONDS} s each)`);
const shared = await sharedHandoff();
const ipc = await processSendHandoff();
console.log(
  `  baseline: process.send ${ipc.toFixed(1)} frames/s; torn frames seen: ${shared.torn}`,
);
if (shared.torn !== 0) throw new Error(`${shared.torn} torn pixels seen`);
record({
  'frames.handoff_1080p_fps': { value: shared.fps, unit: 'frames/s' },
  'frames.handoff_vs_process_send': {
    value: shared.fps / ipc,
    unit: '×',
    baseline: 'process.send of the same 1080p frame (advanced serialization)',
    ratio: shared.fps / ipc,
  },
});
