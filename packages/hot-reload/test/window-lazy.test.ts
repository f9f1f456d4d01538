/**
 * The window subpath is loaded lazily: importing `@hotshm/hot-reload/window` (as a renderer does
 * for the input schema) and opening a headless window map no SDL2; an SDL window does. Read from
 * the child's own /proc/self/maps.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startXvfb, type Xvfb } from './x11.js';

const child = fileURLToPath(new URL('./window-lazy-child.ts', import.meta.url));

describe('@hotshm/hot-reload/window', () => {
  let xvfb: Xvfb;
  beforeAll(async () => {
    xvfb = await startXvfb();
  });
  afterAll(async () => {
    await xvfb?.stop();
  });

  it('maps SDL2 only once an SDL window opens', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: xvfb.display };
    delete env.HOTSHM_BACKEND;
    delete env.WAYLAND_DISPLAY;
    const out = execFileSync(process.execPath, ['--import', 'tsx', child], {
      env,
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop() ?? '')).toEqual({
      start: false,
      imported: false,
      headless: false,
      sdl: true,
    });
  });
});
