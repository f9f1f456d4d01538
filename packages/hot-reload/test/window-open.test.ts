/**
 * `openWindow` in a real X server (Xvfb), on the SDL back end, in a child process
 * (window-open-child.ts) whose state keeps its framebuffer in C memory: where the window opens,
 * what it shows (ImageMagick reads it back) and how often it uploads, clicks and keys from xdotool
 * reaching the input channel, the title from the title channel and from the host's events with
 * the red border, a resize by the X server reaching `state.resize(args)`, frame steps that throw
 * and a lost device that the window survives, and the close button.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputKind } from '../src/window/index.js';
import {
  JsonLines,
  near,
  pixelAt,
  requestClose,
  run,
  screenshot,
  startXvfb,
  stopChild,
  waitFor,
  type Xvfb,
} from './x11.js';

const ORANGE = [255, 179, 0] as const;
const GREEN = [0, 255, 0] as const;
const SKY = [0, 178, 255] as const;
const BORDER_RED = [0xe0, 0x1b, 0x24] as const;
const child = fileURLToPath(new URL('./window-open-child.ts', import.meta.url));

describe('openWindow under Xvfb', () => {
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
  const stats = async () => {
    const from = out.lines.length;
    await send('stats');
    return out.lines.slice(from).find((l) => 'stats' in l) as {
      stats: { frames: number; uploads: number; failures: number; resizes: number };
      geometry: { x: number; y: number; width: number; height: number };
      resets: number;
      uploads: number;
    };
  };
  const xdotool = (...args: string[]) => run('xdotool', args, env);
  const title = async () => (await xdotool('getwindowname', String(window))).toString().trim();
  const waitPixel = (what: string, x: number, y: number, colour: readonly number[]) =>
    waitFor(what, async () => {
      const s = await screenshot(xvfb.display, window);
      return near(pixelAt(s, x, y), colour) ? s : undefined;
    });
  const errors = () => out.lines.filter((l) => 'error' in l).map((l) => l.error);

  beforeAll(async () => {
    xvfb = await startXvfb();
    env = { ...process.env, DISPLAY: xvfb.display, HOTSHM_BACKEND: '' };
    delete env.WAYLAND_DISPLAY;
    const options = { position: { x: 40, y: 30 }, resizable: true };
    app = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(options)], {
      env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    out = new JsonLines(app.stdout!);
    const ready = await out.find('the window', (l) => l.ready === true, 0, 20_000);
    window = ready.x11Window as number;
  });

  afterAll(async () => {
    if (app) await stopChild(app);
    if (xvfb) await xvfb.stop();
  });

  it('opens where it was asked to, at the framebuffer’s size, and says so in geometry()', async () => {
    const geometry = (await xdotool('getwindowgeometry', String(window))).toString();
    expect(geometry).toMatch(/Position: 40,30\b/);
    expect(geometry).toMatch(/Geometry: 300x300\b/);
    expect((await stats()).geometry).toMatchObject({ x: 40, y: 30, width: 300, height: 300 });
    expect(await title()).toBe('Window Test');
  });

  it('shows a frame presented into the framebuffer, and uploads a static frame once', async () => {
    expect((await stats()).uploads).toBe(0);
    await send('present ffb300');
    const shot = await waitPixel('an orange window', 150, 150, ORANGE);
    expect(pixelAt(shot, 299, 299)).toSatisfy((p: number[]) => near(p, ORANGE));
    const first = await stats();
    // More ticks, nothing new to show: nothing more uploaded.
    await waitFor('more ticks', async () =>
      (await stats()).stats.frames > first.stats.frames + 5 ? true : undefined,
    );
    expect((await stats()).uploads).toBe(1);
  });

  it('forwards an xdotool click and a key into the input channel, at framebuffer coordinates', async () => {
    const from = out.lines.length;
    await xdotool('mousemove', '--window', String(window), '120', '80', 'click', '1');
    const up = await out.find(
      'MouseUp',
      (l) => (l.event as { kind?: number })?.kind === InputKind.MouseUp,
      from,
    );
    expect(up.event).toMatchObject({ x: 120, y: 80, button: 1, buttons: 0 });
    await xdotool('key', 'a');
    const key = await out.find(
      'KeyDown a',
      (l) => (l.event as { kind?: number })?.kind === InputKind.KeyDown,
      from,
    );
    expect(key.event).toMatchObject({ key: 0x61, x: 120, y: 80 });
  });

  it('takes its title from the title channel, and says what the host reports with a red border', async () => {
    await send('title Render 3');
    await waitFor('the title', async () => ((await title()) === 'Render 3' ? true : undefined));
    await send('host build-error {"locations":["/src/index.ts:4:2"],"messages":[]}');
    await waitFor('the build error in the title', async () =>
      (await title()) === 'Render 3 - build error at /src/index.ts:4:2' ? true : undefined,
    );
    const shot = await waitPixel('the red border', 0, 150, BORDER_RED);
    expect(pixelAt(shot, 150, 150)).toSatisfy((p: number[]) => near(p, ORANGE));
    await send('host build-done {"buildMs":1,"unchanged":true}');
    await waitPixel('the border gone', 0, 150, ORANGE);
    expect(await title()).toBe('Render 3');
  });

  it('reports an upload that throws once, stays open, and shows the frame when the upload works again', async () => {
    await send('fail upload 5');
    await send('present 00ff00');
    await waitPixel('green', 150, 150, GREEN);
    expect(errors()).toEqual([
      {
        stage: 'upload',
        code: 'HOTSHM_WINDOW_FRAME',
        message: 'window upload: injected upload failure',
      },
    ]);
    expect((await stats()).stats.failures).toBe(5);
  });

  it('survives a present, a poll and a title that throw, each reported once', async () => {
    await send('fail flip 3');
    await send('fail poll 3');
    await send('present ffb300');
    await waitPixel('orange again', 150, 150, ORANGE);
    await send('fail setTitle 1');
    await send('title Render 4');
    // The title failed once; the next change goes through.
    await send('title Render 5');
    await waitFor('the title', async () => ((await title()) === 'Render 5' ? true : undefined));
    // Poll and present fail in the same ticks, in either order: each kind once.
    const stages = errors().map((e) => (e as { stage: string }).stage);
    expect(stages).toHaveLength(4);
    expect(new Set(stages)).toEqual(new Set(['upload', 'present', 'poll', 'title']));
    expect(app.exitCode).toBeNull();
    const info = (await run('xwininfo', ['-id', String(window)], env)).toString();
    expect(info).toMatch(/Map State: IsViewable/);
  });

  it('makes the renderer and texture again after a lost device, and shows the frame again', async () => {
    const before = await stats();
    await send('reset');
    await waitFor('the reset', async () => ((await stats()).resets === 1 ? true : undefined));
    // The same frame, uploaded again into the new texture.
    await waitFor('an upload after the reset', async () =>
      (await stats()).uploads > before.uploads ? true : undefined,
    );
    await send('present 00b2ff');
    await waitPixel('sky after the reset', 150, 150, SKY);
  });

  it('resizes the state to the window’s new size once the X server resized it, and shows the new framebuffer', async () => {
    const from = out.lines.length;
    await xdotool('windowsize', String(window), '400', '250');
    const resize = await out.find('state.resize', (l) => 'resize' in l, from);
    expect(resize.resize).toEqual({ width: 400, height: 250 });
    const shot = await waitPixel('the new framebuffer', 395, 245, SKY);
    expect(shot.width).toBe(400);
    expect(pixelAt(shot, 10, 10)).toSatisfy((p: number[]) => near(p, SKY));
    expect(out.lines.slice(from).filter((l) => 'resize' in l)).toHaveLength(1);
    const after = await stats();
    expect(after.stats.resizes).toBe(1);
    expect(after.geometry).toMatchObject({ width: 400, height: 250 });
  });

  it('closes when the close button is pressed (WM_DELETE_WINDOW), saying the user closed it', async () => {
    const exited = new Promise<number | null>((resolve) => app.once('exit', resolve));
    const from = out.lines.length;
    requestClose(xvfb.display, window);
    expect((await out.find('closed', (l) => 'closed' in l, from)).closed).toBe('user');
    expect(await exited).toBe(0);
  });
});
