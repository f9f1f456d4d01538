/**
 * Issue 18, "an edit of the owner's own code is never ignored": `pnpm dev` (`hotshm dev`) on a
 * temporary copy of example-app, in a private Xvfb. An edit of the owner's code (its title, as the
 * issue tried) restarts the owner: a new process with a new window where the old one was, on the
 * old one's state (the click count goes on), the old window gone, one line saying so; an edit that
 * does not build keeps the running owner.
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
  createTempApp,
  createTempImpl,
  isAlive,
  killOwners,
  ORANGE,
  regionsOf,
  startApp,
  type TempApp,
  type TempImpl,
  x11,
} from './e2e/harness.js';

const TITLE_LINE = "  title: 'Hot Reload Demo',";
const EDITED = 'Hot Reload Demo (edited)';

describe('an edit of the owner’s code under `hotshm dev`, under Xvfb', () => {
  let xvfb: Xvfb;
  let copy: TempApp;
  let impl: TempImpl;
  let app: AppProcess;
  let x: ReturnType<typeof x11>;
  let source = '';
  const owners: number[] = [];
  /** xdotool's view of a window: its position on the screen and its size. */
  const geometry = async (window: number) => {
    const text = await x.xdotool('getwindowgeometry', String(window));
    return {
      position: /Position: (\d+,\d+)/.exec(text)?.[1],
      size: /Geometry: (\d+x\d+)/.exec(text)?.[1],
    };
  };

  beforeAll(async () => {
    xvfb = await startXvfb();
    x = x11(xvfb.display);
    copy = createTempApp();
    impl = createTempImpl();
    source = copy.original;
    app = await startApp({
      env: appEnv(xvfb.display, { HOTSHM_EXAMPLE_ENTRY: impl.entry }),
      dir: copy.dir,
    });
  });

  afterAll(async () => {
    if (app) {
      await app.stop();
      killOwners(owners);
    }
    if (xvfb) await xvfb.stop();
    copy?.remove();
    impl?.remove();
  });

  it('restarts the owner in a new process with a new window, and says so in one line', async () => {
    const first = app.pid;
    owners.push(first);
    const before = await x.findWindow(first, 'Hot Reload Demo');
    expect(first).not.toBe(app.launcherPid);
    // Moved away from where a new window would open by itself (the screen's centre).
    await x.xdotool('windowmove', String(before), '40', '50');
    await waitFor('the window to move', async () =>
      (await geometry(before)).position === '40,50' ? true : undefined,
    );

    // Something to carry: the renderer counts clicks in shared memory and titles the window.
    await x.click(before, 100, 100);
    await x.waitTitle(before, '"Render 1"', (t) => t === 'Render 1');
    const colour = await waitFor('the clicked colour', async () => {
      const p = pixelAt(await screenshot(xvfb.display, before), 150, 150);
      return p[2] === 0 && !near(p, ORANGE) ? p : undefined;
    });
    const from = app.stderr.length;
    const out = app.stdout.length;
    // Through the whole restart some window of the app is on screen: the old one keeps its last
    // frame until the new one is up.
    let sampling = true;
    const blank: number[] = [];
    const sampler = (async () => {
      while (sampling) {
        // By either title: the old window says "Render 1" since the click.
        const shown = await x.windowsNamed('Hot Reload Demo|Render');
        if (shown.length === 0) blank.push(performance.now());
      }
    })();
    const savedAt = performance.now();
    source = copy.edit(source, TITLE_LINE, `  title: '${EDITED}',`);
    const window = await waitFor(
      'a new owner',
      () => (app.pid !== first ? app.pid : undefined),
      60_000,
    ).then((pid) => {
      owners.push(pid);
      return x.findWindow(pid, EDITED);
    });
    // The renderer of the new owner draws the colour it finds in the carried state.
    await waitFor('the new renderer', () =>
      app.stdout.slice(out).find((l) => l.includes('renderer started')),
    );
    await waitFor(
      'the new window to show the carried colour',
      async () =>
        near(pixelAt(await screenshot(xvfb.display, window), 150, 150), colour) ? true : undefined,
      30_000,
    );
    const ms = performance.now() - savedAt;
    console.log(
      `save of src/main.ts → the new owner's window showing the state: ${ms.toFixed(0)} ms`,
    );

    const said = app.stderr.slice(from);
    expect(said).toContain(`[hotshm] src/main.ts changed: restarting the owner (pid ${first})`);
    expect(said.filter((l) => l.includes('restarting the owner'))).toHaveLength(1);
    const restarted = await waitFor('the restart line', () =>
      app.stderr.slice(from).find((l) => l.startsWith('[hotshm] owner restarted in ')),
    );
    expect(restarted).toMatch(
      /; state hot-reload-demo kept framebuffer, toRenderer, fromRenderer, memory \(carried in /,
    );
    // The old owner, its window and its region are gone; only the new window is on screen (X may
    // give it the old one's id: the id says nothing, the pid that owns it does).
    await waitFor('the old owner to exit', () => (isAlive(first) ? undefined : true), 30_000);
    sampling = false;
    await sampler;
    expect(blank).toEqual([]);
    expect(regionsOf(first)).toEqual([]);
    expect(await x.windowsNamed('Hot Reload Demo')).toEqual([String(window)]);
    // Where the old one was, as big.
    expect(await geometry(window)).toEqual({ position: '40,50', size: '300x300' });
    // The state survived: the click count goes on.
    await x.click(window, 100, 100);
    await x.waitTitle(window, '"Render 2"', (t) => t === 'Render 2');
  });

  it('keeps the running owner when the owner’s code does not build, and says where', async () => {
    const owner = app.pid;
    const from = app.stderr.length;
    copy.edit(source, TITLE_LINE.replace('Hot Reload Demo', EDITED), '  title: ,');
    const line = await waitFor('the build error', () =>
      app.stderr.slice(from).find((l) => l.startsWith('[hotshm] the owner does not build')),
    );
    const row = source.split('\n').findIndex((l) => l.startsWith('  title: ')) + 1;
    const column = '  title: '.length + 1;
    expect(line).toBe(
      `[hotshm] the owner does not build (src/main.ts:${row}:${column}); the running owner (pid ${owner}) keeps going:`,
    );
    expect(app.pid).toBe(owner);
    expect(isAlive(owner)).toBe(true);
    expect((await x.info(await x.findWindow(owner, EDITED))).mapState).toBe('IsViewable');
  });
});
