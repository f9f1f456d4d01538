/**
 * Issue 17, "change the state, keep the window": `pnpm dev` (`hotshm dev src/main.ts`) in a private
 * Xvfb on temporary copies of the example's three packages — the state definition
 * (hot-reloaded-state), the renderer (example-impl) and the owner (example-app), the last two
 * linked to the first — so the tests save the state definition as a user would, and the
 * checked-in sources stay as they are. A save that changes the state's layout migrates the region
 * under the running owner: same process, same window, the values carried by field name, one line
 * in the terminal. A save that does not build keeps everything; a save that removes a field the
 * owner's code uses restarts the owner, and says which field. The tests run in order on one app.
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
  createTempApp,
  createTempImpl,
  createTempState,
  isAlive,
  killOwners,
  ORANGE,
  processesOwnedBy,
  regionsOf,
  startApp,
  type TempApp,
  type TempImpl,
  type TempState,
  x11,
} from './e2e/harness.js';

const WINDOWS = 'Hot Reload Demo|Render';
const MEMORY = 'memory: struct({ clicks: u32, colour: u32 }),';
const WITH_SCORE = 'memory: struct({ clicks: u32, colour: u32, score: u32 }),';
/** A field with an initial value (field() from the library), beside score. */
const WITH_BONUS =
  'memory: struct({ clicks: u32, colour: u32, score: u32, bonus: field(u32, { initial: 7 }) }),';
const IMPORTS = '  u32,\n} from';
const IMPORTS_FIELD = '  u32,\n  field,\n} from';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the renderer's source, as text
const SEND = 'state.fromRenderer.send(`Render ${clicks}`);';
// biome-ignore lint/suspicious/noTemplateCurlyInString: the renderer's source, as text
const SEND_BONUS = 'state.fromRenderer.send(`Render ${clicks} bonus ${memory.bonus.get()}`);';
/** The test's copy of the owner uses memory.clicks: captured at start, read when it closes. */
const OWNER_OPENS = 'const window = await openWindow(state, {';
const OWNER_CLOSES = 'await state.close();';
/**
 * The one line a migration prints, e.g. "[hotshm] state migrated to the new state definition in
 * 12.3 ms: kept framebuffer, …; added memory.score (carried in 0.4 ms) (/hotshm-1-ab → /hotshm-1-cd)".
 */
const MIGRATION_LINE =
  /^\[hotshm\] state migrated to the new state definition in \d+\.\d ms: (.*) \(carried in \d+\.\d ms\) \((\S+) → (\S+)\)$/;
const RELOAD_LINE = /^\[hotshm\] reloaded in /;

describe('a change of the state definition under `hotshm dev`, under Xvfb', () => {
  let xvfb: Xvfb;
  let state: TempState;
  let impl: TempImpl;
  let copy: TempApp;
  let app: AppProcess;
  let x: ReturnType<typeof x11>;
  let window = 0;
  let owner = 0;
  /** The sources as the previous test left them. */
  let definition = '';
  let renderer = '';
  const owners: number[] = [];

  const shot = () => screenshot(xvfb.display, window);
  const output = () => [...app.stdout, ...app.stderr];
  const migrationLines = (from = 0) => app.stdout.slice(from).filter((l) => MIGRATION_LINE.test(l));
  /** Everything printed since `from` (stdout, stderr) has no raw stack trace. */
  const expectNoStack = (out: number, err: number) => {
    const said = [...app.stdout.slice(out), ...app.stderr.slice(err)];
    expect(said.filter((l) => /^\s+at /.test(l))).toEqual([]);
    expect(said.filter((l) => /LayoutMismatch|Error:/.test(l))).toEqual([]);
  };
  /** Clicks once and waits for the title `title`; returns the colour the click painted. */
  const click = async (title: string, previous: number[]) => {
    await x.click(window, 100, 100);
    await x.waitTitle(window, JSON.stringify(title), (t) => t === title);
    // The renderer's colour logic: a random colour without blue, a new one on each click.
    const s = await waitFor(
      'the clicked colour',
      async () => {
        const s = await shot();
        const p = pixelAt(s, 150, 150);
        return p[2] === 0 && !near(p, previous, 0) ? s : undefined;
      },
      30_000,
    );
    const colour = pixelAt(s, 150, 150);
    expect(pixelAt(s, 0, 0)).toEqual(colour);
    expect(pixelAt(s, 299, 299)).toEqual(colour);
    return colour;
  };
  /**
   * Screenshots of the window until `stop()` (three at least): each one's centre and corners, or the error that
   * kept it from being taken (the window unmapped, gone). What the tests check them against is
   * the frame shown before the save: the frame on screen stays through the migration.
   */
  const sample = () => {
    let on = true;
    const seen: { pixels: number[][]; error?: string }[] = [];
    const loop = (async () => {
      // At least three: right after the save, and on past the new renderer's first frame.
      while (on || seen.length < 3) {
        try {
          const s = await shot();
          seen.push({
            pixels: [
              [150, 150],
              [0, 0],
              [299, 0],
              [0, 299],
              [299, 299],
            ].map(([px, py]) => pixelAt(s, px!, py!)),
          });
        } catch (e) {
          seen.push({ pixels: [], error: String(e) });
        }
      }
    })();
    return {
      seen,
      stop: async () => {
        on = false;
        await loop;
        return seen;
      },
    };
  };
  /**
   * Every sample shows `colour` everywhere (never black, never half a frame); with `border`, the
   * corners may also show the error border the window draws over the frame's edge.
   */
  const expectSteady = (
    seen: { pixels: number[][]; error?: string }[],
    colour: number[],
    border?: readonly number[],
  ) => {
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) {
      expect(s.error).toBeUndefined();
      const [centre, ...corners] = s.pixels;
      expect(centre).toEqual(colour);
      for (const p of corners) {
        expect(p).toSatisfy(
          (q: number[]) => near(q, colour, 0) || (border !== undefined && near(q, border)),
        );
      }
    }
  };

  beforeAll(async () => {
    xvfb = await startXvfb();
    x = x11(xvfb.display);
    state = createTempState();
    impl = createTempImpl({ state: state.dir });
    copy = createTempApp({ state: state.dir });
    definition = state.original;
    renderer = impl.original;
    // The owner's code uses a field of the state (case 4): the copy of main.ts says so before the
    // app starts, and the owner runs it from its first line.
    const used = copy.edit(
      copy.original,
      OWNER_OPENS,
      `const clicks = state.memory.clicks;\n${OWNER_OPENS}`,
    );
    copy.edit(
      used,
      OWNER_CLOSES,
      `log(\`hotshm: the owner closes at \${clicks?.get() ?? 'no'} clicks\`);\n${OWNER_CLOSES}`,
    );
    app = await startApp({
      env: appEnv(xvfb.display, { HOTSHM_EXAMPLE_ENTRY: impl.entry }),
      dir: copy.dir,
    });
    owners.push(app.pid);
  });

  afterAll(async () => {
    if (app) {
      await app.stop();
      killOwners(owners);
    }
    if (xvfb) await xvfb.stop();
    copy?.remove();
    impl?.remove();
    state?.remove();
  });

  let colour: number[] = [...ORANGE];

  it('migrates an added field in the same window and owner: the count and the colours go on', async () => {
    await app.line('the start line', /^hotshm: region /);
    owner = app.pid;
    window = await x.findWindow(owner, 'Hot Reload Demo');
    await waitFor('an orange window', async () =>
      near(pixelAt(await shot(), 150, 150), ORANGE) ? true : undefined,
    );
    await app.line('the renderer', /renderer started/);
    colour = await click('Render 1', colour);
    colour = await click('Render 2', colour);
    const [region] = regionsOf(owner);
    expect(region).toBeDefined();

    const out = app.stdout.length;
    const err = app.stderr.length;
    const sampler = sample();
    definition = state.edit(definition, [MEMORY, WITH_SCORE]);
    const line = await app.line('the migration line', MIGRATION_LINE, out);
    // The new renderer on the new region, and its first frame.
    await app.line('the reload line', RELOAD_LINE, out);
    const seen = await sampler.stop();
    // The frame on screen stayed through the migration: no blank, no flash.
    expectSteady(seen, colour);

    const [, summary, from, to] = MIGRATION_LINE.exec(line)!;
    expect(summary).toBe(
      'kept framebuffer, toRenderer, fromRenderer, memory.clicks, memory.colour; added memory.score',
    );
    expect(from).toBe(`/${region}`);
    expect(to).not.toBe(from);
    expect(migrationLines(out)).toHaveLength(1);
    // Same owner, same window, still mapped, no other window; the new region replaced the old.
    expect(app.pid).toBe(owner);
    expect(isAlive(owner)).toBe(true);
    expect(await x.windowsNamed(WINDOWS)).toEqual([String(window)]);
    expect((await x.info(window)).mapState).toBe('IsViewable');
    expect(await x.title(window)).toBe('Render 2');
    await waitFor('the old region to go', () =>
      regionsOf(owner).length === 1 && regionsOf(owner)[0] !== region ? true : undefined,
    );
    expect(`/${regionsOf(owner)[0]}`).toBe(to);
    expectNoStack(out, err);
    expect(output().some((l) => l.includes('restarting the owner'))).toBe(false);

    // The count was kept, and clicks still paint a new colour.
    colour = await click('Render 3', colour);
    expect(app.pid).toBe(owner);
  });

  it('starts an added field at the initial value field() declares', async () => {
    let out = app.stdout.length;
    const err = app.stderr.length;
    definition = state.edit(definition, [IMPORTS, IMPORTS_FIELD], [WITH_SCORE, WITH_BONUS]);
    const line = await app.line('the migration line', MIGRATION_LINE, out);
    expect(MIGRATION_LINE.exec(line)![1]).toBe(
      'kept framebuffer, toRenderer, fromRenderer, memory.clicks, memory.colour, memory.score; added memory.bonus',
    );
    await app.line('the reload line', RELOAD_LINE, out);
    // The renderer, edited to show the new field in the title: a reload, no migration.
    out = app.stdout.length;
    renderer = impl.edit(renderer, [SEND, SEND_BONUS]);
    await app.line('the reload line', RELOAD_LINE, out);
    expect(migrationLines(out)).toEqual([]);
    colour = await click('Render 4 bonus 7', colour);
    expect(app.pid).toBe(owner);
    expect(await x.windowsNamed(WINDOWS)).toEqual([String(window)]);
    expectNoStack(out, err);
  });

  it('keeps the region, the renderer and the window on a state edit that does not build; the fix migrates', async () => {
    const out = app.stdout.length;
    const err = app.stderr.length;
    const region = regionsOf(owner);
    const level = WITH_BONUS.replace('}) }),', '}), level: u32 }),');
    state.edit(definition, [WITH_BONUS, level.replace('level: u32', 'level: u32,,')]);
    const title = await x.waitTitle(window, 'with "build error"', (t) => t.includes('build error'));
    // "Render 4 bonus 7 - build error at <file>:<line>:<column>", the file the state's copy.
    expect(title).toMatch(/^Render 4 bonus 7 - build error at .*index\.ts:\d+:\d+/);
    await app.line(
      'the build error',
      /^\[hotshm\] build failed; the running renderer keeps going:/,
      out,
    );
    expect(migrationLines(out)).toEqual([]);
    // The running renderer answers clicks, in the same window, on the same region.
    await x.click(window, 100, 100);
    await x.waitTitle(window, '"Render 5 bonus 7 - build error…"', (t) =>
      t.startsWith('Render 5 bonus 7 - build error'),
    );
    expect(app.pid).toBe(owner);
    expect(regionsOf(owner)).toEqual(region);
    expect(await x.windowsNamed(WINDOWS)).toEqual([String(window)]);

    // The fix: the same edit without the error migrates.
    const shown = pixelAt(await shot(), 150, 150);
    const sampler = sample();
    definition = state.edit(definition, [WITH_BONUS, level]);
    const line = await app.line('the migration line', MIGRATION_LINE, out);
    expect(MIGRATION_LINE.exec(line)![1]).toMatch(/; added memory\.level$/);
    await app.line('the reload line', RELOAD_LINE, out);
    await x.waitTitle(window, 'without the build error', (t) => t === 'Render 5 bonus 7');
    // The border says "build error" until the fixed renderer runs; the frame stays under it.
    expectSteady(await sampler.stop(), shown, BORDER_RED);
    expect(migrationLines(out)).toHaveLength(1);
    colour = await click('Render 6 bonus 7', shown);
    expect(app.pid).toBe(owner);
    expect(await x.windowsNamed(WINDOWS)).toEqual([String(window)]);
    expect(app.stderr.slice(err).some((l) => l.includes('restarting the owner'))).toBe(false);
    // The build error is reported with its place, as any build error; no stack trace.
    expect(app.stdout.slice(out).filter((l) => /^\s+at /.test(l))).toEqual([]);
  });

  it('restarts the owner when the state drops a field the owner’s code uses, naming the field', async () => {
    // First the renderer stops depending on memory.clicks (a reload): it counts in score.
    let out = app.stdout.length;
    renderer = impl.edit(
      renderer,
      [
        'const clicks = memory.clicks.get() + 1;',
        'const clicks = Math.max(memory.clicks?.get() ?? 0, memory.score.get()) + 1;',
      ],
      ['memory.clicks.set(clicks);', 'memory.score.set(clicks);'],
    );
    await app.line('the reload line', RELOAD_LINE, out);
    colour = await click('Render 7 bonus 7', colour);

    out = app.stdout.length;
    const err = app.stderr.length;
    definition = state.edit(definition, ['memory: struct({ clicks: u32, ', 'memory: struct({ ']);
    const said = await app.line(
      'the layout-change line',
      /^\[hotshm\] the owner's code uses /,
      out,
    );
    expect(said).toMatch(
      /^\[hotshm\] the owner's code uses memory\.clicks, but the new state definition .*: the owner must restart to use the new definition; restarting the owner on the new state definition$/,
    );
    expect(migrationLines(out)).toEqual([]);
    const next = await waitFor(
      'a new owner',
      () => (app.pid !== owner ? app.pid : undefined),
      60_000,
    );
    owners.push(next);
    await waitFor('the old owner to exit', () => (isAlive(owner) ? undefined : true), 30_000);
    expect(regionsOf(owner)).toEqual([]);
    const [newWindow] = await waitFor('the new window', async () => {
      const w = await x.windowsNamed(WINDOWS);
      return w.length === 1 ? w : undefined;
    });
    window = Number(newWindow);
    expect(await x.xdotool('getwindowpid', newWindow!)).toBe(String(next));
    await app.line('the new renderer', /renderer started/, out);
    // The state went with it: the count kept in score goes on.
    colour = await click('Render 8 bonus 7', colour);
    expect(app.stdout.slice(out)).toContain('hotshm: the owner closes at 6 clicks');
    // The launcher says why it restarted the owner, and what the new owner carried over.
    expect(app.stderr.slice(err)).toContain(
      `[hotshm] the owner asked for a restart (${said.slice('[hotshm] '.length)}): restarting the owner (pid ${owner})`,
    );
    const restarted = await waitFor('the restart line', () =>
      app.stderr.slice(err).find((l) => l.startsWith('[hotshm] owner restarted in ')),
    );
    expect(restarted).toMatch(
      new RegExp(
        `^\\[hotshm\\] owner restarted in \\d+ ms \\(pid ${owner} → ${next}\\); state hot-reload-demo kept .*memory\\.score.*; dropped memory\\.clicks \\(carried in `,
      ),
    );
    owner = next;
    expect(app.stderr.slice(err).filter((l) => /^\s+at /.test(l))).toEqual([]);
  });

  it('closes on Escape with exit code 0, leaving no process and no shared memory region', async () => {
    const owned = processesOwnedBy(owner);
    expect(owned.length).toBeGreaterThanOrEqual(1);
    await x.key(window, 'Escape');
    expect(await app.exited).toBe(0);
    await waitFor('the renderers to exit', () =>
      owners.every((o) => processesOwnedBy(o).length === 0) ? true : undefined,
    );
    for (const pid of [...owners, ...owned]) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    for (const o of owners) expect(regionsOf(o)).toEqual([]);
    expect(await x.windowsNamed(WINDOWS)).toEqual([]);
  });
});
