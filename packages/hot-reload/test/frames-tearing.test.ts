/**
 * Framebuffer handoff between a real renderer process and this owner process: no torn frame
 * while both run flat out, replaced renderers shut out, the last frame kept.
 */
import { describe, expect, it } from 'vitest';
import { beginFrameEpoch } from '../src/frames/framebuffer.js';
import { framebuffer } from '../src/frames/index.js';
import { createFields } from './channel-context.js';
import { spawnChild } from './channel-spawn.js';

const W = 640;
const H = 360;

/** Checks every pixel of the held front: one value throughout, from the expected epoch. */
function checkFrame(pixels: Uint32Array, frame: number | undefined): string | null {
  const v = pixels[0]!;
  if (frame !== undefined && (v & 0xffffff) !== (frame & 0xffffff))
    return `frame ${frame} holds pixels of frame ${v & 0xffffff}`;
  for (let i = 1; i < pixels.length; i++) {
    if (pixels[i] !== v) return `frame ${frame} is torn at pixel ${i}: ${pixels[i]} after ${v}`;
  }
  return null;
}

describe('framebuffer across processes', () => {
  it('never shows a torn frame while renderer and owner run flat out', async () => {
    const owner = createFields([framebuffer(W, H)] as const);
    try {
      const fb = owner.fields[0];
      expect(fb.acquireFront()).toBeNull();
      const renderer = spawnChild('frames-child.ts', [
        'render',
        owner.ctx.regionName,
        W,
        H,
        1,
        2500,
      ]);
      let checked = 0;
      let last = 0;
      let done = false;
      void renderer.exited.then(() => {
        done = true;
      });
      for (let turn = 1; !done; turn++) {
        const front = fb.acquireFront();
        if (front !== null) {
          expect(front.byteLength).toBe(W * H * 4);
          expect(front.pitch).toBe(W * 4);
          const error = checkFrame(front.pixels, front.frame);
          fb.releaseFront();
          if (error !== null) expect.fail(error);
          // Frames only move forward.
          if (front.frame < last) expect.fail(`frame ${front.frame} after ${last}`);
          if (front.frame > last) checked++;
          last = front.frame;
        }
        // Let the exit event in now and then; the renderer never waits for us.
        if ((turn & 15) === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const result = await renderer.result;
      expect(result.refused).toBe(0);
      expect(fb.frameCount()).toBe(result.presented);
      expect(checked).toBeGreaterThan(50);
      // The renderer is gone and never presents again: its last frame stays on screen.
      const front = fb.acquireFront();
      expect(front?.frame).toBe(result.presented);
      expect(checkFrame(front!.pixels, front!.frame)).toBeNull();
      fb.releaseFront();
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('ignores frames from a replaced renderer that keeps drawing', async () => {
    const owner = createFields([framebuffer(W, H)] as const);
    try {
      const fb = owner.fields[0];
      const old = spawnChild('frames-child.ts', ['render', owner.ctx.regionName, W, H, 1, 3000]);
      while (fb.frameCount() < 20) await new Promise((resolve) => setTimeout(resolve, 5));
      // The supervisor's swap: from now on only epoch 2 may present.
      beginFrameEpoch(fb, 2);
      const afterSwap = fb.acquireFront()!;
      fb.releaseFront();
      const next = spawnChild('frames-child.ts', ['render', owner.ctx.regionName, W, H, 2, 1500]);
      let seenNew = 0;
      let done = false;
      void next.exited.then(() => {
        done = true;
      });
      while (!done) {
        const front = fb.acquireFront();
        if (front !== null) {
          const v = front.pixels[0]!;
          // Two renderers count frames from 1 each: check only that the frame is whole.
          const error = checkFrame(front.pixels, undefined);
          fb.releaseFront();
          if (error !== null) expect.fail(error);
          // Only the frame shown at the swap or frames of the new renderer, never a later old one.
          if (v >>> 24 === 1 && front.frame !== afterSwap.frame) {
            expect.fail(`frame ${front.frame} of the replaced renderer shown after beginEpoch`);
          }
          if (v >>> 24 === 2) seenNew++;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [oldResult, newResult] = await Promise.all([old.result, next.result]);
      expect(oldResult.refused).toBeGreaterThan(0);
      expect(newResult.refused).toBe(0);
      expect(seenNew).toBeGreaterThan(0);
    } finally {
      owner.ctx.region.unlink();
    }
  });
});
