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

  it('plays the user for tests: input, a resize and a lost device, each reported by one poll', () => {
    const backend = new HeadlessBackend({ title: 'demo', width: 8, height: 4, x: 5, y: 6 });
    expect(backend.geometry()).toEqual({
      x: 5,
      y: 6,
      width: 8,
      height: 4,
      pixelWidth: 8,
      pixelHeight: 4,
    });
    const click = {
      kind: 3,
      button: 1,
      buttons: 0,
      modifiers: 0,
      x: 1,
      y: 2,
      key: 0,
      dx: 0,
      dy: 0,
    };
    backend.input(click);
    backend.resize(10, 5, 2);
    backend.lose();
    expect(backend.poll()).toEqual({ events: [click], quit: false, resized: true, redraw: true });
    expect(backend.geometry()).toMatchObject({
      width: 10,
      height: 5,
      pixelWidth: 20,
      pixelHeight: 10,
    });
    expect(backend.poll()).toEqual({ events: [], quit: false, resized: false, redraw: false });
    backend.quit();
    expect(backend.poll().quit).toBe(true);
  });

  it('shows nothing again until the frame or the overlay changes', () => {
    const backend = new HeadlessBackend({ title: 'demo' });
    const a = frame(2, 2);
    backend.upload(a);
    expect(backend.flip()).toBe(true);
    backend.upload(null);
    expect(backend.flip()).toBe(false);
    backend.upload(null, { border: 1 });
    expect(backend.flip()).toBe(true);
    expect(backend.uploads).toBe(1);
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
