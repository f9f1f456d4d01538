/**
 * Child of window-lazy.test.ts: whether the SDL2 library is mapped into this process after
 * importing `@hotshm/hot-reload/window` (through the package's exports, as an app does), after a
 * headless window, and after an SDL window (DISPLAY is given). One JSON line.
 */
import { readFileSync } from 'node:fs';

const sdlMapped = (): boolean => /libSDL2/.test(readFileSync('/proc/self/maps', 'utf8'));
const stages: Record<string, boolean> = { start: sdlMapped() };
const { openBackend, openWindow } = await import('@hotshm/hot-reload/window');
stages.imported = sdlMapped();
const fb = {
  width: 4,
  height: 4,
  acquireFront: () => null,
  releaseFront: () => {},
};
const headless = await openWindow({ framebuffer: fb }, { backend: 'headless', log: () => {} });
stages.headless = sdlMapped();
await headless.close();
const { backend } = await openBackend({ width: 4, height: 4, title: 'lazy', prefer: 'sdl' });
stages[backend.name] = sdlMapped();
backend.close();
console.log(JSON.stringify(stages));
