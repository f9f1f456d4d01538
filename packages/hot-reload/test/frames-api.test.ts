/**
 * The framebuffer API in one process over a real region: layout, bad input, the buffer choice,
 * epochs, and the closed region.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, RegionClosedError, SchemaError } from '../src/errors.js';
import { beginFrameEpoch } from '../src/frames/framebuffer.js';
import { framebuffer } from '../src/frames/index.js';
import { createFields, openFields } from './channel-context.js';

describe('framebuffer()', () => {
  it('lays out a control line and four 64-aligned buffers; refuses bad sizes', () => {
    const fb = framebuffer(3, 2);
    expect(fb.align).toBe(64);
    expect(fb.size).toBe(64 + 4 * 64);
    expect(fb.topLevelOnly).toBe(true);
    expect(framebuffer(1920, 1080).size).toBe(64 + 4 * 1920 * 1080 * 4);
    expect(() => framebuffer(0, 10)).toThrow(SchemaError);
    expect(() => framebuffer(10, 1.5)).toThrow(
      /height: expected an integer in \[1, 16384\], got 1.5/,
    );
    expect(() => framebuffer(20_000, 10)).toThrow(SchemaError);
  });
});

describe('FrameBuffer', () => {
  it('hands out back buffers of its pair that are neither shown nor being read', () => {
    const owner = createFields([framebuffer(4, 4)] as const);
    try {
      const fb = owner.fields[0];
      expect(fb.stride).toBe(4);
      expect(fb.pitch).toBe(16);
      expect(fb.acquireFront()).toBeNull();
      expect(() => fb.present()).toThrow(InvalidArgumentError);
      const a = fb.back();
      expect(fb.back()).toBe(a); // the same buffer until present()
      a.fill(1);
      expect(fb.present()).toBe(true);
      const front = fb.acquireFront()!;
      expect(front.pixels).toBe(a);
      expect(front).toMatchObject({ frame: 1, epoch: 1, byteLength: 64, pitch: 16 });
      expect(front.address).toBe(owner.ctx.address + BigInt(a.byteOffset));
      const b = fb.back();
      expect(b).not.toBe(a);
      b.fill(2);
      expect(fb.present()).toBe(true);
      // The owner still holds `a` (an older front): the next back buffer cannot be `a` or `b`,
      // and epoch 1's pair has no third one — so release first, as the owner's loop does.
      fb.releaseFront();
      expect(fb.back()).toBe(a);
      expect(fb.frameCount()).toBe(2);
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('beginEpoch shuts out the old renderer; the new one draws into the other pair', () => {
    const owner = createFields([framebuffer(4, 4)] as const);
    try {
      const fb = owner.fields[0];
      fb.back().fill(1);
      fb.present();
      expect(() => beginFrameEpoch(fb, 0)).toThrow(InvalidArgumentError);
      beginFrameEpoch(fb, 2);
      expect(fb.epoch).toBe(2);
      fb.back().fill(9);
      expect(fb.present()).toBe(false); // still epoch 1: refused
      expect(fb.acquireFront()!.pixels[0]).toBe(1); // the last frame stays
      fb.releaseFront();
      const { fields } = createRenderer(owner.ctx.regionName);
      const next = fields[0];
      const px = next.back();
      // Epoch 1 draws into buffers 2 and 3, epoch 2 into buffers 0 and 1 (64 bytes each here).
      const base = owner.offsets[0]! + 64;
      expect((px.byteOffset - base) / 64).toBeLessThan(2);
      expect((fb.acquireFront()!.pixels.byteOffset - base) / 64).toBeGreaterThanOrEqual(2);
      fb.releaseFront();
      px.fill(3);
      expect(next.present()).toBe(true);
      expect(fb.acquireFront()).toMatchObject({ frame: 2, epoch: 2 });
      fb.releaseFront();
    } finally {
      owner.ctx.region.unlink();
    }
  });

  it('throws RegionClosedError once the region is closed', () => {
    const owner = createFields([framebuffer(4, 4)] as const);
    const fb = owner.fields[0];
    owner.ctx.region.unlink();
    owner.ctx.region.close();
    expect(() => fb.back()).toThrow(RegionClosedError);
    expect(() => fb.acquireFront()).toThrow(RegionClosedError);
    expect(() => fb.frameCount()).toThrow(RegionClosedError);
  });
});

function createRenderer(name: string) {
  return openFields([framebuffer(4, 4)] as const, name, 'reloadable', 2);
}
