/**
 * Reads a running example app's framebuffer from outside, as a third process: maps the region the
 * app printed, finds the framebuffer where the state's layout puts it, and reads the pixels of the
 * front buffer without taking part in the owner/renderer protocol. Benches and tests use it to see
 * the moment new pixels are in shared memory, without waiting for the owner's next frame.
 */
import { openRegion, type Region } from '@hotshm/hot-reload/memory';
import { State } from 'hot-reloaded-state';
import { pollFinely } from '../../../hot-reload/test/poll.js';

/** Mirrors the framebuffer's layout (frames/framebuffer.ts): a 64-byte control line, 4 buffers. */
const LINE = 64;
const VALID = 4;
const INDEX_MASK = 3;
const EPOCH_SHIFT = 3;
const FRAME_COUNTER = 4;

export interface FrameObserver {
  readonly region: Region;
  /** The first pixel of the front buffer (ARGB), or undefined before the first frame. */
  frontPixel(): number | undefined;
  /** The epoch tagged on the front word. */
  frontEpoch(): number;
  /** Frames presented so far. */
  frames(): number;
  /**
   * Resolves with performance.now() once `ok(frontPixel)` holds, polling every `pollMs` (a short
   * sleep: the observer must not take a core from the app it measures). Rejects after timeoutMs.
   */
  waitFor(ok: (pixel: number | undefined) => boolean, timeoutMs?: number): Promise<number>;
  close(): void;
}

export function observeFrames(regionName: string, width = 300, height = 300): FrameObserver {
  const region = openRegion(regionName);
  const field = State.layout({ width, height }).fields.find((f) => f.name === 'framebuffer');
  if (!field) throw new Error('the example state has no framebuffer field');
  const bufferBytes = Math.ceil((width * height * 4) / LINE) * LINE;
  const control = new Int32Array(region.buffer, field.offset, LINE / 4);
  const firstPixel = (b: number): number =>
    new Uint32Array(region.buffer, field.offset + LINE + b * bufferBytes, 1)[0]!;
  const frontPixel = (): number | undefined => {
    const front = Atomics.load(control, 0);
    return (front & VALID) === 0 ? undefined : firstPixel(front & INDEX_MASK);
  };
  return {
    region,
    frontPixel,
    frontEpoch: () => Atomics.load(control, 0) >>> EPOCH_SHIFT,
    frames: () => Atomics.load(control, FRAME_COUNTER) >>> 0,
    waitFor: (ok, timeoutMs = 10_000) =>
      pollFinely(() => ok(frontPixel()), timeoutMs, `no matching frame in ${timeoutMs} ms`),
    close: () => region.close(),
  };
}
