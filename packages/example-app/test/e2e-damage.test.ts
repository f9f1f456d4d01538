/**
 * The example app, hot, under Xvfb, against what issue 11 found a hostile week of editing does:
 *
 *   - case 4: 64 random bytes over a channel's indices (`fromRenderer`, whose consumer is the
 *     owner's frame loop, then `toRenderer`, whose consumer is the renderer). The owner must keep
 *     its window, say it repaired the region (the title), and later clicks must still work.
 *   - cases 2 and 9, as the window shows them: a save whose main() throws before it has its state,
 *     and one whose top level never returns. The title says what failed ("threw in main()",
 *     "timed out"), never a signal the supervisor sent itself; the old picture stays and answers
 *     clicks; the next save is applied.
 *
 * The real app as `pnpm dev` starts it, a temporary copy of example-impl, clicks from xdotool,
 * titles from X, and the region written from this process through /dev/shm.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { State } from 'hot-reloaded-state';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startXvfb, waitFor, type Xvfb } from '../../hot-reload/test/x11.js';
import {
  type AppProcess,
  appEnv,
  createTempImpl,
  isAlive,
  processesOwnedBy,
  regionsOf,
  startApp,
  type TempImpl,
  x11,
} from './e2e/harness.js';

const TITLE = 'Hot Reload Demo';
const MAIN = 'export async function main(): Promise<void> {';
const STATE_CALL = 'await render(State.reloadable());';

describe('the example app, hot, with a damaged region and broken saves (issue 11)', () => {
  let xvfb: Xvfb;
  let impl: TempImpl;
  let app: AppProcess;
  let x: ReturnType<typeof x11>;
  let window = 0;
  let region = '';
  let clicks = 0;

  /** Clicks and waits for the title to count it ("Render N", with or without a problem after). */
  const click = async (): Promise<void> => {
    clicks++;
    await x.click(window, 100, 100);
    await x.waitTitle(window, `"Render ${clicks}…"`, (t) =>
      new RegExp(`^Render ${clicks}\\b`).test(t),
    );
  };
  /** Writes 64 random bytes over a channel's producer line (its write index and waiter count). */
  const scribbleOver = (field: 'fromRenderer' | 'toRenderer'): void => {
    const f = State.layout({ width: 300, height: 300 }).fields.find((g) => g.name === field);
    if (!f) throw new Error(`no field ${field}`);
    const bytes = randomBytes(64);
    // A write index at least 2^31 ahead of the read index: never a plausible count of messages.
    bytes[3] = bytes[3]! | 0x80;
    const fd = openSync(`/dev/shm/${region}`, 'r+');
    try {
      writeSync(fd, bytes, 0, bytes.length, f.offset);
    } finally {
      closeSync(fd);
    }
  };

  beforeAll(async () => {
    xvfb = await startXvfb();
    x = x11(xvfb.display);
    impl = createTempImpl();
    app = await startApp({ env: appEnv(xvfb.display, { HOTSHM_EXAMPLE_ENTRY: impl.entry }) });
    const line = await app.line('the start line', /^hotshm: region /);
    window = await x.findWindow(app.pid, TITLE);
    region = /\/(hotshm-\S+),/.exec(line)?.[1] ?? '';
    expect(region).toMatch(/^hotshm-\d+-[0-9a-f]{8}$/);
  });

  afterAll(async () => {
    if (app) {
      await app.stop();
      for (const pid of processesOwnedBy(app.pid)) process.kill(pid, 'SIGKILL');
    }
    if (xvfb) await xvfb.stop();
    impl?.remove();
  });

  it('fromRenderer’s indices overwritten: the owner keeps running, says it repaired them, clicks still work', async () => {
    await click();
    scribbleOver('fromRenderer');
    const title = await x.waitTitle(window, 'saying it repaired the region', (t) =>
      t.includes('repaired a damaged region'),
    );
    expect(title).toMatch(/^Render 1 - repaired a damaged region \(.*fromRenderer.*\)$/);
    expect(app.stdout.some((l) => /repaired the region: .*fromRenderer/.test(l))).toBe(true);
    expect(isAlive(app.pid)).toBe(true);
    await click();
    await click();
  });

  it('toRenderer’s indices overwritten: the renderer that reads them is restarted, the owner repairs them, clicks still work', async () => {
    const renderer = processesOwnedBy(app.pid);
    scribbleOver('toRenderer');
    // The owner's checks (every second, and after a crash) find it first, or the renderer does
    // when it next looks and is restarted; either way a click gets through afterwards.
    await waitFor(
      'a repair of toRenderer',
      () =>
        app.stdout.some((l) => /repaired the region: .*toRenderer/.test(l)) ? true : undefined,
      30_000,
    );
    expect(isAlive(app.pid)).toBe(true);
    await click();
    await click();
    expect(renderer.length).toBeGreaterThan(0);
  });

  it('a save whose main() throws before it has its state: the title says it threw, not a signal; the old renderer answers; the fix is applied', async () => {
    const broken = impl.edit(impl.original, [
      MAIN,
      `${MAIN}\n  throw new Error('e2e: main threw before its state');`,
    ]);
    const title = await x.waitTitle(window, 'saying it failed to start', (t) =>
      t.includes('failed to start'),
    );
    expect(title).toMatch(/- renderer failed to start \(threw in main\(\)\)$/);
    expect(title).not.toMatch(/SIG/);
    await click();
    expect(broken).toContain(STATE_CALL);
    // The fix: the same code as before, so nothing new to start; a real change is.
    impl.edit(impl.original, ['rgb(1.0, 0.7, 0.0)', 'rgb(0.0, 0.7, 1.0)']);
    await x.waitTitle(window, 'without the problem', (t) => /^Render \d+$/.test(t));
    await click();
  });

  it('a save whose top level never returns: the title says it timed out; the old renderer answers; the next save is applied', async () => {
    impl.edit(impl.original, [MAIN, `for (;;) {}\n${MAIN}`]);
    // The app keeps the library's default deadline (5 s): generous for a test that polls.
    const title = await x.waitTitle(
      window,
      'saying the start timed out',
      (t) => t.includes('failed to start'),
      30_000,
    );
    expect(title).toMatch(/- renderer failed to start \(timed out\)$/);
    await click();
    impl.edit(impl.original, ['rgb(1.0, 0.7, 0.0)', 'rgb(0.0, 1.0, 0.0)']);
    await x.waitTitle(window, 'without the problem', (t) => /^Render \d+$/.test(t));
    await click();
  });

  it('closes on Escape with exit code 0, leaving no process and no region', async () => {
    await x.key(window, 'Escape');
    expect(await app.exited).toBe(0);
    await waitFor('the renderers to exit', () =>
      processesOwnedBy(app.pid).length === 0 ? true : undefined,
    );
    expect(regionsOf(app.pid)).toEqual([]);
  });
});
