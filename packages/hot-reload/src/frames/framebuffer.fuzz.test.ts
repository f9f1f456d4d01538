/**
 * Property tests: the framebuffer's control line is written by the renderer process. Whatever it
 * holds, the owner's `acquireFront` returns null or one of the four buffers, whole, inside the
 * field; `frameCount` and `epoch` are plain numbers. (A hostile renderer can refuse to draw, not
 * make the owner read outside the region.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TestContext } from '../schema/test-context.js';
import { framebuffer } from './framebuffer.js';

describe('framebuffer control line fed random bytes', () => {
  it('acquireFront: null or a whole buffer inside the field', () => {
    const schema = framebuffer(5, 3);
    const offset = 256;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (control) => {
        const ctx = new TestContext(offset + schema.size + 64);
        new Uint8Array(ctx.buffer).set(control, offset);
        const fb = schema.bind(ctx, offset, 'fuzz');
        const front = fb.acquireFront();
        if (front !== null) {
          expect(front.pixels.length).toBe(15);
          expect(front.pixels.byteOffset).toBeGreaterThanOrEqual(offset + 64);
          expect(front.pixels.byteOffset + front.pixels.byteLength).toBeLessThanOrEqual(
            offset + schema.size,
          );
          expect(Number.isInteger(front.frame)).toBe(true);
          fb.releaseFront();
        }
        expect(Number.isInteger(fb.frameCount())).toBe(true);
        expect(Number.isInteger(fb.epoch)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
