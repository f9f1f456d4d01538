/**
 * The example end to end, as `pnpm dev` runs it: the real owner (`node scripts/run.mjs`, which
 * bundles src/main.ts with esbuild and runs it with plain node) in a private Xvfb, its renderer a
 * supervised process built from a temporary copy of example-impl (HOTSHM_EXAMPLE_ENTRY) that the
 * tests edit while the window stays open. What the window shows is read back with ImageMagick,
 * input is sent with xdotool, the title is X's. The tests run in order on one app: each starts
 * from what the previous one left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  near,
  pixelAt,
  screenshot,
  startXvfb,
  waitFor,
  type Xvfb,
} from '../../hot-reload/test/x11.js';
import {
  type AppProcess,
  appEnv,
  BORDER_RED,
  createTempImpl,
  isAlive,
  ORANGE,
  processesOwnedBy,
  regionsOf,
  startApp,
  type TempImpl,
  x11,
} from './e2e/harness.js';

const TITLE = 'Hot Reload Demo';
const ORANGE_LINE = 'export const ORANGE: number = rgb(1.0, 0.7, 0.0);';
/** rgb(0.0, 0.7, 1.0): what the edited constant draws. */
const SKY = [0, 178, 255] as const;
const GREEN = [0, 255, 0] as const;
const CLICK_BRANCH = 'if (event.kind === InputKind.MouseUp && event.button === MouseButton.Left) {';
const RANDOM_COLOUR = 'const colour = rgb(Math.random(), Math.random(), 0);';
/**
 * Matches the one line a reload prints, with its phases, e.g. "[hotshm] reloaded in 9.8 ms:
 * change→built 3.1 ms (esbuild 2.9 ms), ready 4.2 ms (deliver 0.4 ms, import 2.0 ms, state 1.1 ms),
 * frame 5.1 ms (pid 123)".
 */
const RELOAD_LINE =
  /^\[hotshm\] reloaded in (\d+\.\d|–) ms: change→built \d+\.\d ms \(esbuild \d+\.\d ms\), ready \d+\.\d ms \(deliver -?\d+\.\d ms, import \d+\.\d ms, state \d+\.\d ms\), frame (\d+\.\d ms|–).* \(pid \d+\)$/;

describe('the example app, hot, under Xvfb', () => {
  let xvfb: Xvfb;
  let impl: TempImpl;
  let app: AppProcess;
  let x: ReturnType<typeof x11>;
  let window = 0;
  /** The source as the previous test left it. */
  let source = '';

  const shot = () => screenshot(xvfb.display, window);
  /** Polls screenshots until the pixel at (px, py) satisfies `ok`. */
  const waitPixel = (what: string, px: number, py: number, ok: (p: number[]) => boolean) =>
    waitFor(
      what,
      async () => {
        const s = await shot();
        return ok(pixelAt(s, px, py)) ? s : undefined;
      },
      30_000,
    );
  const reloadLines = () => app.stdout.filter((l) => RELOAD_LINE.test(l));

  beforeAll(async () => {
    xvfb = await startXvfb();
    x = x11(xvfb.display);
    impl = createTempImpl();
    source = impl.original;
    app = await startApp({ env: appEnv(xvfb.display, { HOTSHM_EXAMPLE_ENTRY: impl.entry }) });
  });

  afterAll(async () => {
    if (app) {
      await app.stop();
      // Never leave a renderer behind, even if a test failed before Escape.
      for (const pid of processesOwnedBy(app.pid)) process.kill(pid, 'SIGKILL');
    }
    if (xvfb) await xvfb.stop();
    impl?.remove();
  });

  it('opens a 300×300 window titled "Hot Reload Demo" that shows orange, and says where it runs', async () => {
    // The owner prints its start line once its window is open; waiting for the line first says
    // what the owner printed if it never gets there.
    await app.line('the start line', /^hotshm: region /);
    window = await x.findWindow(app.pid, TITLE);
    expect(await x.info(window)).toMatchObject({ width: 300, height: 300, mapState: 'IsViewable' });
    const s = await waitPixel('an orange window', 150, 150, (p) => near(p, ORANGE));
    for (const [px, py] of [
      [0, 0],
      [299, 0],
      [0, 299],
      [299, 299],
    ] as const) {
      expect(pixelAt(s, px, py), `pixel ${px},${py}`).toSatisfy((p: number[]) => near(p, ORANGE));
    }
    // stdout names the region (created by this pid) and the back end.
    const line = await app.line('the start line', /^hotshm: region /);
    expect(line).toMatch(
      new RegExp(`^hotshm: region /hotshm-${app.pid}-[0-9a-f]{8}, backend sdl, hot reload on$`),
    );
    const region = /\/(hotshm-\S+),/.exec(line)?.[1];
    expect(regionsOf(app.pid)).toEqual([region]);
  });

  it('shows an edit of the renderer in the same window', async () => {
    source = impl.edit(source, [
      ORANGE_LINE,
      ORANGE_LINE.replace('rgb(1.0, 0.7, 0.0)', 'rgb(0.0, 0.7, 1.0)'),
    ]);
    let savedAt = Date.now();
    const s = await waitPixel('the edited colour', 150, 150, (p) => {
      if (near(p, SKY)) return true;
      // The watcher is set up asynchronously after the first build: a save that came before it
      // watched is saved again, as a user would. The same bytes never reload twice.
      if (Date.now() - savedAt > 3000) {
        impl.write(source);
        savedAt = Date.now();
      }
      return false;
    });
    expect(pixelAt(s, 0, 0)).toSatisfy((p: number[]) => near(p, SKY));
    // Same X window, still mapped, title untouched; no second window appeared.
    expect(await x.findWindow(app.pid, TITLE)).toBe(window);
    expect((await x.info(window)).mapState).toBe('IsViewable');
    expect(await x.windowsNamed('Hot Reload Demo|Render')).toEqual([String(window)]);
    // One reload line on stdout, with its timing.
    await app.line('the reload line', RELOAD_LINE);
    expect(reloadLines()).toHaveLength(1);
  });

  it('changes colour on a click and titles the window "Render 1"', async () => {
    await x.click(window, 100, 100);
    const name = await x.waitTitle(window, '"Render 1"', (t) => t === 'Render 1');
    expect(name).toBe('Render 1');
    // A random colour without blue: never the sky blue it replaced.
    const s = await waitPixel('the clicked colour', 150, 150, (p) => p[2] === 0);
    const colour = pixelAt(s, 150, 150);
    expect(colour[2]).toBe(0);
    expect(near(colour, SKY)).toBe(false);
    expect(pixelAt(s, 299, 299)).toEqual(colour);
  });

  it('keeps the picture on a syntax error, and shows the error in the title and a red border', async () => {
    const before = pixelAt(await shot(), 150, 150);
    impl.edit(source, [CLICK_BRANCH, `${CLICK_BRANCH} const = ;`]);
    const title = await x.waitTitle(window, 'with "build error"', (t) => t.includes('build error'));
    // "Render 1 - build error at <file>:<line>:<column>"
    expect(title).toMatch(/^Render 1 - build error at .*index\.ts:\d+:\d+/);
    const s = await waitPixel('the red border', 0, 150, (p) => near(p, BORDER_RED));
    for (const [px, py] of [
      [0, 150],
      [299, 150],
      [150, 0],
      [150, 299],
    ] as const) {
      expect(pixelAt(s, px, py), `edge ${px},${py}`).toSatisfy((p: number[]) =>
        near(p, BORDER_RED),
      );
    }
    expect(pixelAt(s, 150, 150)).toEqual(before);
    // The running renderer was left alone: it still answers clicks.
    await x.click(window, 100, 100);
    await x.waitTitle(window, '"Render 2 - build error…"', (t) =>
      t.startsWith('Render 2 - build error'),
    );
    expect(reloadLines()).toHaveLength(1);
  });

  it('survives a renderer that throws: same window, says it crashed; a fix renders again', async () => {
    // A valid build clears the build error; its renderer throws on the next click.
    source = impl.edit(source, [
      CLICK_BRANCH,
      `${CLICK_BRANCH} throw new Error('e2e: thrown on click');`,
    ]);
    await waitFor(
      'two reload lines',
      () => (reloadLines().length === 2 ? true : undefined),
      30_000,
    );
    await x.waitTitle(window, 'without the build error', (t) => t === 'Render 2');
    const before = pixelAt(await shot(), 150, 150);
    await x.click(window, 100, 100);
    const title = await x.waitTitle(window, 'saying crashed', (t) => t.includes('crashed'));
    expect(title).toMatch(/^Render 2 - renderer crashed \(exit 1\)/);
    // The window is the same one, still mapped, still showing the last frame.
    expect(await x.windowsNamed('Hot Reload Demo|Render')).toEqual([String(window)]);
    expect((await x.info(window)).mapState).toBe('IsViewable');
    const s = await shot();
    expect(pixelAt(s, 150, 150)).toEqual(before);
    expect(isAlive(app.pid)).toBe(true);
    // The supervisor restarts the same code (100 ms later): the title still says it crashed.
    const restarted = await x.waitTitle(window, 'saying restarted', (t) => t.endsWith('restarted'));
    expect(restarted).toBe('Render 2 - renderer crashed (exit 1), restarted');
    expect(app.stdout.some((l) => l.includes('renderer restarted'))).toBe(true);
    expect(pixelAt(await shot(), 0, 150)).toSatisfy((p: number[]) => near(p, BORDER_RED));

    // The fix: no throw, and clicks paint a known colour.
    source = impl.edit(
      source,
      [`${CLICK_BRANCH} throw new Error('e2e: thrown on click');`, CLICK_BRANCH],
      [RANDOM_COLOUR, 'const colour = rgb(0.0, 1.0, 0.0);'],
    );
    // Until an edit brings new code, the title keeps saying the renderer crashed.
    await waitFor(
      'three reload lines',
      () => (reloadLines().length === 3 ? true : undefined),
      30_000,
    );
    await x.waitTitle(window, 'without the crash', (t) => t === 'Render 2');
    await x.click(window, 100, 100);
    await x.waitTitle(window, '"Render 3"', (t) => t === 'Render 3');
    const after = await waitPixel('green', 150, 150, (p) => near(p, GREEN));
    expect(pixelAt(after, 0, 150)).toSatisfy((p: number[]) => near(p, GREEN));
  });

  it('closes on Escape, leaving no process and no shared memory region', async () => {
    const owned = processesOwnedBy(app.pid);
    // The renderer and the warm standby, both started by this owner.
    expect(owned.length).toBeGreaterThanOrEqual(1);
    await x.key(window, 'Escape');
    expect(await app.exited).toBe(0);
    await waitFor('the renderers to exit', () =>
      processesOwnedBy(app.pid).length === 0 ? true : undefined,
    );
    for (const pid of owned) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(regionsOf(app.pid)).toEqual([]);
    expect(await x.windowsNamed('Hot Reload Demo|Render')).toEqual([]);
    // Every successful edit was one reload line.
    expect(reloadLines()).toHaveLength(3);
  });
});
