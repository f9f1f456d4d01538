/**
 * `pnpm start` end to end: the real owner (`hotshm start src/main.ts`, in the launcher's own
 * process) in a private Xvfb, with the renderer on a worker thread of the owner. It must look and
 * react like the hot app (orange, a click gives "Render 1") without starting any node process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  appDir,
  appEnv,
  childrenOf,
  cliScript,
  mainModule,
  ORANGE,
  processesOwnedBy,
  regionsOf,
  runsNode,
  startApp,
  x11,
} from './e2e/harness.js';

describe('the example app without hot reload, under Xvfb', () => {
  let xvfb: Xvfb;
  let app: AppProcess;
  let x: ReturnType<typeof x11>;
  let window = 0;

  beforeAll(async () => {
    xvfb = await startXvfb();
    x = x11(xvfb.display);
    app = await startApp({ env: appEnv(xvfb.display), command: 'start' });
  });

  afterAll(async () => {
    if (app) await app.stop();
    if (xvfb) await xvfb.stop();
  });

  it('shows orange in a 300×300 window and says the renderer is on a worker thread', async () => {
    // The owner prints its start line once its window is open; waiting for the line first says
    // what the owner printed if it never gets there.
    await app.line('the start line', /^hotshm: region /);
    window = await x.findWindow(app.pid, 'Hot Reload Demo');
    expect(await x.info(window)).toMatchObject({ width: 300, height: 300, mapState: 'IsViewable' });
    await waitFor(
      'an orange window',
      async () =>
        near(pixelAt(await screenshot(xvfb.display, window), 150, 150), ORANGE) ? true : undefined,
      30_000,
    );
    expect(await app.line('the start line', /^hotshm: region /)).toMatch(
      new RegExp(
        `^hotshm: region /hotshm-${app.pid}-[0-9a-f]{8}, backend sdl, renderer on a worker thread \\(no hot reload\\)$`,
      ),
    );
  });

  it('reacts to a click like the hot app: a colour without blue and the title "Render 1"', async () => {
    await x.click(window, 100, 100);
    expect(await x.waitTitle(window, '"Render 1"', (t) => t === 'Render 1')).toBe('Render 1');
    const colour = await waitFor(
      'the clicked colour',
      async () => {
        const p = pixelAt(await screenshot(xvfb.display, window), 150, 150);
        return near(p, ORANGE, 0) ? undefined : p;
      },
      30_000,
    );
    expect(colour[2]).toBe(0);
  });

  it('runs no child node process and no renderer process', () => {
    // The owner's esbuild service (it builds the worker's bundle) is not node; a renderer would be.
    expect(childrenOf(app.pid).filter(runsNode)).toEqual([]);
    expect(processesOwnedBy(app.pid)).toEqual([]);
  });

  it('closes on Escape and removes its region', async () => {
    expect(regionsOf(app.pid)).toHaveLength(1);
    await x.key(window, 'Escape');
    expect(await app.exited).toBe(0);
    expect(regionsOf(app.pid)).toEqual([]);
  });
});

describe('the example app without hot reload, under `node --watch`', () => {
  // Node's watch mode makes a worker thread post its own messages (the modules it loads) on the
  // port the worker host listens to; on Node 24 and later they reached the host as a failed start.
  it('starts its renderer on a worker thread all the same', async () => {
    const watched = mkdtempSync(join(tmpdir(), 'hotshm-watch-'));
    const child = spawn(
      process.execPath,
      ['--watch-path', watched, cliScript, 'start', mainModule],
      {
        cwd: appDir,
        env: { ...appEnv(''), HOTSHM_BACKEND: 'headless' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    try {
      const line = await waitFor(
        'the start line',
        () => out.split('\n').find((l) => l.startsWith('hotshm: region ')),
        60_000,
      );
      expect(line).toMatch(/backend headless, renderer on a worker thread \(no hot reload\)$/);
      expect(out).not.toContain('RendererStartError');
    } finally {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      rmSync(watched, { recursive: true, force: true });
    }
  });
});
