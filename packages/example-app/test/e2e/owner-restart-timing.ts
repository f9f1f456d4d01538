/**
 * How long an owner restart takes, as a user sees it: `hotshm dev` on a copy of example-app in a
 * private Xvfb, a click (so there is state to carry), then N saves of the owner's src/main.ts (its
 * title), each timed from just before the write to the moment the new owner's window, titled
 * anew, shows the carried frame. Each sample also says when the launcher's lines came (the save
 * seen and built, the state adopted) and when the new renderer ran.
 *
 *   node --import tsx packages/example-app/test/e2e/owner-restart-timing.ts [N=7]
 *
 * A measurement, not a test: nothing is asserted about time.
 */
import { near, pixelAt, screenshot, startXvfb, waitFor } from '../../../hot-reload/test/x11.js';
import { appEnv, createTempApp, createTempImpl, ORANGE, startApp, x11 } from './harness.js';

const N = Number(process.argv[2] ?? 7);
const xvfb = await startXvfb();
const x = x11(xvfb.display);
const copy = createTempApp();
const impl = createTempImpl();
const app = await startApp({
  env: appEnv(xvfb.display, { HOTSHM_EXAMPLE_ENTRY: impl.entry }),
  dir: copy.dir,
});
let source = copy.original;
let title = 'Hot Reload Demo';
const samples: number[] = [];
try {
  let window = await x.findWindow(app.pid, title);
  await x.click(window, 100, 100);
  await x.waitTitle(window, '"Render 1"', (t) => t === 'Render 1');
  const colour = await waitFor('the clicked colour', async () => {
    const p = pixelAt(await screenshot(xvfb.display, window), 150, 150);
    return p[2] === 0 && !near(p, ORANGE) ? p : undefined;
  });
  for (let i = 1; i <= N; i++) {
    // Between saves: the machine settles (the old owner's exit, the new one's standbys).
    await new Promise((r) => setTimeout(r, 1500));
    const before = app.pid;
    const out = app.stdout.length;
    const err = app.stderr.length;
    const marks: Record<string, number> = {};
    const t0 = performance.now();
    const watched: [string, string[], number, string][] = [
      ['built', app.stderr, err, 'restarting the owner'],
      ['adopted', app.stderr, err, 'owner restarted'],
      ['renderer', app.stdout, out, 'renderer started'],
    ];
    const tick = setInterval(() => {
      for (const [mark, lines, from, text] of watched) {
        if (marks[mark] === undefined && lines.slice(from).some((l) => l.includes(text))) {
          marks[mark] = Math.round(performance.now() - t0);
        }
      }
    }, 2);
    const next = `Hot Reload Demo ${i}`;
    source = copy.edit(source, `  title: '${title}',`, `  title: '${next}',`);
    title = next;
    const pid = await waitFor('a new owner', () => (app.pid !== before ? app.pid : undefined));
    window = await x.findWindow(pid, title);
    await waitFor('the carried frame', async () =>
      near(pixelAt(await screenshot(xvfb.display, window), 150, 150), colour) ? true : undefined,
    );
    const ms = performance.now() - t0;
    clearInterval(tick);
    samples.push(ms);
    console.log(`save ${i}: ${ms.toFixed(0)} ms (lines at ms: ${JSON.stringify(marks)})`);
  }
} finally {
  await app.stop();
  await xvfb.stop();
  copy.remove();
  impl.remove();
}
const sorted = [...samples].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
console.log(
  `save of src/main.ts → the new owner's window showing the carried state: p50 ${at(0.5).toFixed(0)} ms, min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)} (n=${N})`,
);
