/**
 * Renderer child of the frames tests and benchmark:
 *   node --import tsx test/frames-child.ts render <regionName> <width> <height> <epoch> <ms> [frames]
 * Draws flat out for `ms` (or until `frames` presents): every pixel of frame n holds the same
 * value, (epoch << 24) | (n & 0xffffff), so a frame shown half-written has two values in it.
 */
import { framebuffer } from '../src/frames/index.js';
import { openFields } from './channel-context.js';

const [mode = '', regionName = '', ...args] = process.argv.slice(2);
const [width = 0, height = 0, epoch = 1, ms = 0, maxFrames = Number.POSITIVE_INFINITY] =
  args.map(Number);

if (mode === 'ipc-render') {
  // Baseline: the same frames sent whole through process.send (advanced serialization), each
  // one acknowledged before the next so the pipe is never flooded.
  const [w = 0, h = 0, duration = 0] = args.map(Number);
  const frame = new Uint32Array(w * h);
  const end = performance.now() + duration;
  let n = 0;
  const next = (): void => {
    if (performance.now() >= end) {
      process.send?.('done', () => process.exit(0));
      return;
    }
    n++;
    frame.fill(n);
    process.send?.(frame);
  };
  process.on('message', next);
  next();
} else if (mode !== 'render') {
  throw new Error(`frames-child: unknown mode ${JSON.stringify(mode)}`);
}
if (mode === 'render') render();

function render(): void {
  const { fields } = openFields(
    [framebuffer(width, height)] as const,
    regionName,
    'reloadable',
    epoch,
  );
  const fb = fields[0];
  const end = performance.now() + ms;
  let presented = 0;
  let refused = 0;
  for (let n = 1; performance.now() < end && presented + refused < maxFrames; n++) {
    const px = fb.back();
    px.fill(((epoch << 24) | (n & 0xffffff)) >>> 0);
    if (fb.present()) presented++;
    else refused++;
  }
  process.stdout.write(`${JSON.stringify({ presented, refused })}\n`);
}
