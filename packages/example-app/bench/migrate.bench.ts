/**
 * A change of the state definition as a user makes it (issue 17): `hotshm dev` with the SDL back
 * end in a real window under Xvfb, on temporary copies of hot-reloaded-state and example-impl (the
 * renderer's copy linked to the state's copy; the checked-in sources are never written), and
 * saves of the state definition that add `score: u32` to `memory`, then remove it again.
 *
 * Each is timed from just before the write to the new renderer's first frame on the new region,
 * read from this process: the migration's one line names the new region, whose frame counter the
 * migration carried over from the old one (with the frame on screen), so the new renderer's first
 * present is the counter moving past its value before the save. The example's renderer presents
 * once when it starts and then only on input, so nothing else moves it.
 *
 * - migrate.p50_ms / p95_ms / max_ms: over MIGRATIONS saves (half adding the field, half removing
 *   it), GAP_MS apart, after two that warm up.
 * - migrate.owner_p50_ms: the owner's own figure for the same migrations (its line's "in X ms":
 *   the renderer's layout message → the new region's values carried and its renderer answered).
 * - migrate.cold_starts: renderers of those migrations that had to wait for a process that was
 *   not warm (the owner's reload lines say "cold start").
 */
import { percentile, record } from '../../../scripts/bench-record.js';
import { pollFinely } from '../../hot-reload/test/poll.js';
import { startXvfb } from '../../hot-reload/test/x11.js';
import { appEnv, createTempImpl, createTempState, startApp } from '../test/e2e/harness.js';
import { type FrameObserver, observeFrames } from '../test/e2e/observe.js';
import { REGION_LINE, sleep } from './app.js';

const MIGRATIONS = Number(process.env.HOTSHM_BENCH_MIGRATIONS ?? 20);
const GAP_MS = 1000;
const MEMORY = 'memory: struct({ clicks: u32, colour: u32 }),';
const WITH_SCORE = 'memory: struct({ clicks: u32, colour: u32, score: u32 }),';
/** "[hotshm] state migrated to the new state definition in 12.3 ms: … (/hotshm-1-ab → /hotshm-1-cd)" */
const MIGRATION_LINE =
  /^\[hotshm\] state migrated to the new state definition in (\d+\.\d) ms: .* \((\S+) → (\S+)\)$/;

const xvfb = await startXvfb('640x480x24');
const state = createTempState();
const impl = createTempImpl({ state: state.dir });
try {
  if (!state.original.includes(MEMORY)) throw new Error(`hot-reloaded-state lost ${MEMORY}`);
  const app = await startApp({
    env: appEnv(xvfb.display, { HOTSHM_BACKEND: 'sdl', HOTSHM_EXAMPLE_ENTRY: impl.entry }),
  });
  let observer: FrameObserver | undefined;
  try {
    const line = await app.line('the region line', REGION_LINE, 0, 60_000);
    observer = observeFrames(REGION_LINE.exec(line)![1]!);
    const first = observer;
    await pollFinely(() => first.frontPixel() !== undefined, 30_000, 'no first frame');
    // The standbys warm up after the first frame; a user's first save comes later than this.
    await sleep(1500);
    const times: number[] = [];
    const owner: number[] = [];
    for (let i = 0; i < MIGRATIONS + 2; i++) {
      const before = observer.frames();
      const from = app.stdout.length;
      const migrated = (): RegExpExecArray | undefined => {
        for (let k = from; k < app.stdout.length; k++) {
          const m = MIGRATION_LINE.exec(app.stdout[k]!);
          if (m) return m;
        }
        return undefined;
      };
      const t0 = performance.now();
      state.write(i % 2 === 0 ? state.original.replace(MEMORY, WITH_SCORE) : state.original);
      await pollFinely(() => migrated() !== undefined, 30_000, `save ${i}: no migration line`);
      const m = migrated()!;
      if (m[2] !== observer.region.name) {
        throw new Error(`save ${i}: migrated from ${m[2]}, expected ${observer.region.name}`);
      }
      const next = observeFrames(m[3]!);
      const t1 = await pollFinely(
        () => next.frames() - before > 0,
        30_000,
        `save ${i}: no frame of the new renderer on ${m[3]}`,
      );
      observer.close();
      observer = next;
      if (i >= 2) {
        times.push(t1 - t0);
        owner.push(Number(m[1]));
      }
      await sleep(GAP_MS);
    }
    const cold = app.stdout.filter((l) => /^\[hotshm\] reloaded in .*cold start/.test(l)).length;
    record({
      'migrate.p50_ms': {
        value: percentile(times, 50),
        unit: 'ms',
        baseline: `${times.length} saves of the state definition, ${process.version}`,
      },
      'migrate.p95_ms': { value: percentile(times, 95), unit: 'ms' },
      'migrate.max_ms': { value: Math.max(...times), unit: 'ms' },
      'migrate.owner_p50_ms': { value: percentile(owner, 50), unit: 'ms' },
      'migrate.cold_starts': { value: cold, unit: 'reloads' },
    });
  } finally {
    observer?.close();
    await app.stop();
  }
} finally {
  impl.remove();
  state.remove();
  await xvfb.stop();
}
process.exit(0);
