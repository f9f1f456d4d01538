/** The headless back end keeps the frame it was given (not a copy), counts presents, reads nothing. */
import { describe, expect, it } from 'vitest';
import type { Frame } from './index.js';
import { HeadlessBackend, openBackend } from './index.js';

function frame(width: number, height: number): Frame {
  const pixels = new Uint32Array(width * height);
  // No C memory here: the headless back end never dereferences the address.
  return { address: 0n, pixels, width, height, pitch: width * 4 };
}

describe('headless back end', () => {
  it('keeps the last frame by reference, keeps it on present(null), and counts presents', () => {
    const backend = new HeadlessBackend({ title: 'demo' });
    expect(backend.lastFrame()).toBeNull();
    const a = frame(4, 3);
    backend.present(a, { border: 0xffff0000 });
    expect(backend.lastFrame()).toBe(a);
    expect(backend.lastOverlay()).toEqual({ border: 0xffff0000 });
    a.pixels[0] = 0xffffb300;
    expect(backend.lastFrame()?.pixels[0]).toBe(0xffffb300);
    backend.present(null);
    expect(backend.lastFrame()).toBe(a);
    expect(backend.lastOverlay()).toBeUndefined();
    expect(backend.presents).toBe(2);
  });

  it('has no input, never quits, reuses its poll result, and records the title', () => {
    const backend = new HeadlessBackend({ title: 'demo' });
    const first = backend.poll();
    expect(first).toEqual({ events: [], quit: false, resized: false, redraw: false });
    expect(backend.poll()).toBe(first);
    backend.setTitle('renamed');
    expect(backend.title).toBe('renamed');
    backend.close();
    backend.present(frame(1, 1));
    expect(backend.presents).toBe(0);
    expect(backend.closed).toBe(true);
  });

  it('is what HOTSHM_BACKEND=headless opens, with no note', async () => {
    const saved = process.env.HOTSHM_BACKEND;
    process.env.HOTSHM_BACKEND = 'headless';
    try {
      const { backend, note } = await openBackend({ width: 8, height: 8, title: 't' });
      expect(backend.name).toBe('headless');
      expect(backend).toBeInstanceOf(HeadlessBackend);
      expect(note).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.HOTSHM_BACKEND;
      else process.env.HOTSHM_BACKEND = saved;
    }
  });

  it('rejects a bad size', async () => {
    await expect(openBackend({ width: 0, height: 8, title: 't' })).rejects.toThrowError(
      'openBackend: expected a positive integer width and height, got 0×8',
    );
  });
});
