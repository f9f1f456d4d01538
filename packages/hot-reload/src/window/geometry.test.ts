/** Window coordinates to framebuffer coordinates, on ordinary and high-DPI screens. */
import { describe, expect, it } from 'vitest';
import { pixelScale, toFrame } from './geometry.js';

describe('toFrame', () => {
  it('is the identity when the framebuffer is the window’s size', () => {
    expect(toFrame(120, 300, 300)).toBe(120);
    expect(toFrame(-4, 300, 300)).toBe(-4);
  });

  it('maps a high-DPI window (300 points, framebuffer at its 600 pixels) by the ratio', () => {
    expect(toFrame(0, 300, 600)).toBe(0);
    expect(toFrame(150, 300, 600)).toBe(300);
    expect(toFrame(299, 300, 600)).toBe(598);
  });

  it('maps a framebuffer smaller than the window (stretched up) down, flooring', () => {
    expect(toFrame(299, 300, 100)).toBe(99);
    expect(toFrame(2, 300, 100)).toBe(0);
    expect(toFrame(3, 300, 100)).toBe(1);
  });

  it('keeps a drag outside the window outside the frame, as SDL reports it', () => {
    expect(toFrame(-10, 300, 600)).toBe(-20);
    expect(toFrame(310, 300, 600)).toBe(620);
  });

  it('leaves the coordinate alone when a size is unknown (0)', () => {
    expect(toFrame(42, 0, 600)).toBe(42);
    expect(toFrame(42, 300, 0)).toBe(42);
  });
});

describe('pixelScale', () => {
  it('is drawable pixels per window unit', () => {
    expect(pixelScale({ width: 300, pixelWidth: 600 })).toBe(2);
    expect(pixelScale({ width: 300, pixelWidth: 300 })).toBe(1);
    expect(pixelScale({ width: 0, pixelWidth: 0 })).toBe(1);
  });
});
