/**
 * The SDL back end in a real X server (Xvfb): the window xdotool finds, its size, the pixels
 * ImageMagick reads back, clicks and keys sent by xdotool, the overlay border and the title.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputKind } from '../src/window/index.js';
import {
  JsonLines,
  near,
  pixelAt,
  run,
  screenshot,
  startXvfb,
  stopChild,
  waitFor,
  type Xvfb,
} from './x11.js';

const ORANGE = [255, 179, 0] as const;
const RED = [255, 0, 0] as const;
const child = fileURLToPath(new URL('./window-sdl-child.ts', import.meta.url));

describe('SDL back end under Xvfb', () => {
  let xvfb: Xvfb;
  let app: ChildProcess;
  let out: JsonLines;
  let window = 0;
  let env: NodeJS.ProcessEnv;

  const send = async (command: string) => {
    const from = out.lines.length;
    app.stdin?.write(`${command}\n`);
    await out.find(`ack of "${command}"`, (l) => l.ack === command, from);
  };
  const xdotool = (...args: string[]) => run('xdotool', args, env);

  beforeAll(async () => {
    xvfb = await startXvfb();
    // No HOTSHM_BACKEND: with a display and the library, the default choice must be SDL.
    env = { ...process.env, DISPLAY: xvfb.display, HOTSHM_BACKEND: '' };
    delete env.WAYLAND_DISPLAY;
    app = spawn(process.execPath, ['--import', 'tsx', child], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    out = new JsonLines(app.stdout!);
    await out.find('the child to open its window', (l) => l.ready === true, 0, 20_000);
  });

  afterAll(async () => {
    if (app) await stopChild(app);
    if (xvfb) await xvfb.stop();
  });

  it('opens the SDL back end, without a note, as a 300×300 window found by its title', async () => {
    const ready = out.lines[0]!;
    expect(ready).toMatchObject({ backend: 'sdl', note: null });
    expect(ready.windowId).toBeGreaterThan(0);
    const ids = await waitFor('xdotool to find the window', async () => {
      const found = (await xdotool('search', '--name', '^Hot Reload Demo$')).toString().trim();
      return found ? found.split('\n').map(Number) : undefined;
    });
    // The X window id SDL_GetWindowWMInfo gave is the window X knows by that title.
    expect(ids).toContain(ready.x11Window);
    window = ready.x11Window as number;
    const info = (await run('xwininfo', ['-id', String(window)], env)).toString();
    expect(info).toMatch(/Width: 300\b/);
    expect(info).toMatch(/Height: 300\b/);
  });

  it('shows the orange frame: the screenshot is orange at the centre and the corners', async () => {
    // Polled: the first presents can reach the screen after the window is mapped.
    const shot = await waitFor('an orange window', async () => {
      const s = await screenshot(xvfb.display, window);
      return near(pixelAt(s, 150, 150), ORANGE) ? s : undefined;
    });
    expect(shot.width).toBe(300);
    for (const [x, y] of [
      [0, 0],
      [299, 0],
      [0, 299],
      [299, 299],
      [150, 150],
    ] as const) {
      expect(pixelAt(shot, x, y), `pixel ${x},${y}`).toSatisfy((p: number[]) => near(p, ORANGE));
    }
  });

  it('reports an xdotool click as MouseDown then MouseUp, button 1, at window coordinates', async () => {
    const from = out.lines.length;
    await xdotool('mousemove', '--window', String(window), '120', '80', 'click', '1');
    const down = await out.find(
      'MouseDown',
      (l) => (l.event as { kind?: number })?.kind === InputKind.MouseDown,
      from,
    );
    const up = await out.find(
      'MouseUp',
      (l) => (l.event as { kind?: number })?.kind === InputKind.MouseUp,
      from,
    );
    expect(down.event).toMatchObject({ x: 120, y: 80, button: 1, buttons: 1 });
    expect(up.event).toMatchObject({ x: 120, y: 80, button: 1, buttons: 0 });
    expect(out.lines.indexOf(down)).toBeLessThan(out.lines.indexOf(up));
    const move = out.lines
      .slice(from)
      .find((l) => (l.event as { kind?: number })?.kind === InputKind.MouseMove);
    expect(move?.event).toMatchObject({ x: 120, y: 80, buttons: 0 });
  });

  it('draws the overlay border over the edge, leaving the centre and the pixel buffer orange', async () => {
    await send('border ff0000');
    const shot = await waitFor('a red border', async () => {
      const s = await screenshot(xvfb.display, window);
      return near(pixelAt(s, 0, 150), RED) ? s : undefined;
    });
    // Each edge is red (4 px bars), just inside them is still the frame.
    for (const [x, y] of [
      [0, 150],
      [3, 150],
      [299, 150],
      [150, 0],
      [150, 299],
      [0, 0],
      [299, 299],
    ] as const) {
      expect(pixelAt(shot, x, y), `border pixel ${x},${y}`).toSatisfy((p: number[]) =>
        near(p, RED),
      );
    }
    for (const [x, y] of [
      [150, 150],
      [4, 150],
      [295, 150],
      [150, 4],
    ] as const) {
      expect(pixelAt(shot, x, y), `inner pixel ${x},${y}`).toSatisfy((p: number[]) =>
        near(p, ORANGE),
      );
    }
    // The border exists only on screen: the Uint32Array the child presented is untouched.
    const from = out.lines.length;
    await send('check');
    expect(out.lines.slice(from).find((l) => 'allOrange' in l)).toEqual({ allOrange: true });

    await send('border off');
    await waitFor('the border to go', async () => {
      const s = await screenshot(xvfb.display, window);
      return near(pixelAt(s, 0, 150), ORANGE) ? true : undefined;
    });
  });

  it('shows an abgr8888 frame in its own format: the same orange from other words', async () => {
    await send('format abgr8888');
    const from = out.lines.length;
    await send('check');
    expect(out.lines.slice(from).find((l) => 'allOrange' in l)).toEqual({ allOrange: true });
    // Red and blue swapped on screen would be (0, 179, 255): the texture takes the words as they are.
    const shot = await screenshot(xvfb.display, window);
    for (const [x, y] of [
      [0, 0],
      [150, 150],
      [299, 299],
    ] as const) {
      expect(pixelAt(shot, x, y), `pixel ${x},${y}`).toSatisfy((p: number[]) => near(p, ORANGE));
    }
    await send('format argb8888');
    const back = await screenshot(xvfb.display, window);
    expect(pixelAt(back, 150, 150)).toSatisfy((p: number[]) => near(p, ORANGE));
  });

  it('sets the window title', async () => {
    await send('title Hot Reload Demo (reloaded 3×)');
    const name = await waitFor('the new title', async () => {
      const n = (await xdotool('getwindowname', String(window))).toString().trim();
      return n === 'Hot Reload Demo (reloaded 3×)' ? n : undefined;
    });
    expect(name).toBe('Hot Reload Demo (reloaded 3×)');
  });

  it('reports Escape as KeyDown 27 and quits', async () => {
    const from = out.lines.length;
    const exited = new Promise<number | null>((resolve) => app.once('exit', resolve));
    // Without a window manager X gives the keyboard to the window under the pointer.
    await xdotool('mousemove', '--window', String(window), '150', '150', 'key', 'Escape');
    const key = await out.find(
      'KeyDown Escape',
      (l) => (l.event as { kind?: number })?.kind === InputKind.KeyDown,
      from,
    );
    expect(key.event).toMatchObject({ key: 27, x: 150, y: 150 });
    await out.find('quit', (l) => l.quit === true, from);
    expect(await exited).toBe(0);
    const gone = (
      await xdotool('search', '--name', '^Hot Reload Demo').catch(() => Buffer.alloc(0))
    ).toString();
    expect(gone.trim()).toBe('');
  });
});
