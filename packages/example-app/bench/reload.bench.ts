/**
 * What a user feels: the example as `pnpm dev` runs it — the launcher (`hotshm dev`), the SDL
 * back end in a real window under Xvfb, example-impl importing hot-reloaded-state — with edits of a
 * copy of example-impl's sources, timed from just before the write to the moment the new pixels
 * are in the framebuffer in shared memory (read from this process, see test/e2e/observe.ts).
 *
 * - reload.p50_ms / p95_ms / max_ms: over EDITS in-place saves (truncate + write, as `cat >` and
 *   many editors do) and EDITS atomic saves (a temporary file renamed over the source), 0.6 s apart;
 *   reload.inplace_* and reload.atomic_* for each style.
 * - reload.formatter_ms: a save, then 20 ms later a formatter's rewrite: the rewrite → its frame (p50).
 * - reload.helper_p50_ms: an edit of draw.ts, which the entry imports.
 * - reload.burst_last_ms: 50 different saves 20 ms apart, alternating both styles: the last save →
 *   its frame. reload.burst_reloads: renderers started for the 50.
 * - reload.cold_starts: reloads over the whole run that had to wait for a process that was not warm.
 * - reload.vs_full_restart: the same edit when the whole app restarts on save (`node --watch` over
 *   the launcher, renderer on a worker: what a user without hot reload gets): its p50 ÷ ours.
 * - reload.rss_growth_mb_500: the owner's RSS after 500 more reloads minus before, both after a
 *   full GC, then a memory-reducing one (`gc({ flavor: 'last-resort' })`, which Node 20's V8
 *   ignores): a preload, only in this phase, runs them in the owner on SIGUSR2. After an ordinary GC, V8's young generation stays at the size
 *   it grew to, and it grows with the bytes that ever survived a scavenge, up to its maximum (32 MB
 *   on Node 20, 64 MB on Node 24 here): a cache, not a leak, that the memory-reducing GC gives
 *   back on Node 24 but not on Node 20. Over the first few hundred reloads malloc's per-thread
 *   arenas grow too, so the 500 are counted after a warm-up of SOAK_WARMUP reloads, whose own
 *   growth is reload.rss_warmup_mb. HOTSHM_BENCH_SOAK_TRACE=N prints the owner's memory, heap
 *   spaces included, every N reloads (HOTSHM_BENCH_SOAK_ONLY=1 runs this phase alone).
 * - reload.phase_*: medians of the phases the owner reports for each reload.
 * - reload.deps_p50_ms / _p95_ms: EDITS in-place saves of another copy whose entry imports `three`
 *   whole (see withThree in app.ts); reload.deps_phase_*: their phases. The standbys preload the
 *   build's externals, so this should cost what the trivial edit costs.
 * - reload.deps_bun_hot_p50_ms: `bun --hot` on a module importing `three` whole (bun.ts of
 *   hot-reload's benches), saved the same way; reload.deps_vs_bun_hot: its p50 ÷ ours.
 *
 * The helpers that start the example and save it are in app.ts (idle.bench.ts starts it too).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { percentile, record } from '../../../scripts/bench-record.js';
import { BUN_VERSION, measureBun } from '../../hot-reload/bench/bun.js';
import { processesWithEnv } from '../../hot-reload/src/native/proc.js';
import { startXvfb, waitFor } from '../../hot-reload/test/x11.js';
import { appDir, appEnv, cliScript, createTempImpl, mainModule } from '../test/e2e/harness.js';
import { type FrameObserver, observeFrames } from '../test/e2e/observe.js';
import {
  close,
  colourOf,
  launch,
  ORANGE_LINE,
  phases,
  REGION_LINE,
  rgbSource,
  save,
  sleep,
  threeDir,
  withThree,
} from './app.js';

const EDITS = Number(process.env.HOTSHM_BENCH_EDITS ?? 40);
const SOAK = Number(process.env.HOTSHM_BENCH_SOAK ?? 500);
const SOAK_WARMUP = Number(process.env.HOTSHM_BENCH_SOAK_WARMUP ?? 900);
const TRACE = Number(process.env.HOTSHM_BENCH_SOAK_TRACE ?? 0);
const RESTARTS = 8;
const GAP_MS = 600;

const FILL_LINE = '  pixels.fill(colour);';

async function userPath(display: string): Promise<void> {
  const r = await launch(display);
  try {
    // The standbys warm up after the first frame; a user's first save comes later than this.
    await sleep(1500);
    for (let i = 1; i <= 3; i++) {
      await r.edit(i, 'inplace');
      await sleep(GAP_MS);
    }
    const firstLine = r.reloadLines().length;
    const inplace: number[] = [];
    const atomic: number[] = [];
    for (let i = 0; i < EDITS; i++) {
      inplace.push(await r.edit(100 + i, 'inplace'));
      await sleep(GAP_MS);
    }
    for (let i = 0; i < EDITS; i++) {
      atomic.push(await r.edit(200 + i, 'atomic'));
      await sleep(GAP_MS);
    }
    const measuredLines = r.reloadLines().slice(firstLine);

    // A save, then a formatter's rewrite 20 ms later: the rewrite must land.
    const formatter: number[] = [];
    for (let i = 0; i < 10; i++) {
      const first = 300 + 2 * i;
      const second = first + 1;
      save(r.impl.entry, r.source(first), 'inplace');
      await sleep(20);
      const t0 = performance.now();
      save(r.impl.entry, `${r.source(second)}\n// formatted\n`, 'inplace');
      formatter.push((await r.observer.waitFor((p) => p === colourOf(second), 30_000)) - t0);
      await sleep(GAP_MS);
    }

    // An edit of draw.ts, which index.ts imports: the fill colour is changed there.
    const drawPath = join(dirname(r.impl.entry), 'draw.ts');
    const draw = readFileSync(drawPath, 'utf8');
    if (!draw.includes(FILL_LINE)) throw new Error(`draw.ts lost ${FILL_LINE}`);
    const helper: number[] = [];
    for (let i = 0; i < 10; i++) {
      const c = colourOf(400 + i);
      const t0 = performance.now();
      save(drawPath, draw.replace(FILL_LINE, `  pixels.fill(0x${c.toString(16)});`), 'inplace');
      helper.push((await r.observer.waitFor((p) => p === c, 30_000)) - t0);
      await sleep(GAP_MS);
    }
    save(drawPath, draw, 'inplace');
    await r.observer.waitFor((p) => p === colourOf(319), 30_000);
    await sleep(GAP_MS);

    // A burst: 50 different saves 20 ms apart, alternating in place and atomic.
    const beforeBurst = r.reloadLines().length;
    let lastAt = 0;
    for (let i = 0; i < 50; i++) {
      lastAt = performance.now();
      save(r.impl.entry, r.source(500 + i), i % 2 === 0 ? 'inplace' : 'atomic');
      if (i < 49) await sleep(20);
    }
    const burstLast = (await r.observer.waitFor((p) => p === colourOf(549), 30_000)) - lastAt;
    await sleep(1000);
    const burstReloads = r.reloadLines().length - beforeBurst;
    const cold = r.reloadLines().filter((l) => l.includes('cold start')).length;

    const both = [...inplace, ...atomic];
    const p = phases(measuredLines);
    record({
      'reload.p50_ms': {
        value: percentile(both, 50),
        unit: 'ms',
        baseline: `${both.length} saves, ${process.version}`,
      },
      'reload.p95_ms': { value: percentile(both, 95), unit: 'ms' },
      'reload.max_ms': { value: Math.max(...both), unit: 'ms' },
      'reload.inplace_p50_ms': { value: percentile(inplace, 50), unit: 'ms' },
      'reload.inplace_p95_ms': { value: percentile(inplace, 95), unit: 'ms' },
      'reload.atomic_p50_ms': { value: percentile(atomic, 50), unit: 'ms' },
      'reload.atomic_p95_ms': { value: percentile(atomic, 95), unit: 'ms' },
      'reload.formatter_ms': { value: percentile(formatter, 50), unit: 'ms' },
      'reload.helper_p50_ms': { value: percentile(helper, 50), unit: 'ms' },
      'reload.burst_last_ms': { value: burstLast, unit: 'ms' },
      'reload.burst_reloads': {
        value: burstReloads,
        unit: 'renderers',
        baseline: '50 saves 20 ms apart',
      },
      'reload.cold_starts': { value: cold, unit: 'reloads' },
      ...Object.fromEntries(
        Object.entries(p).map(([k, v]) => [`reload.phase_${k}_ms`, { value: v, unit: 'ms' }]),
      ),
    });
    await fullRestartBaseline(display, percentile(both, 50));
  } finally {
    await close(r);
  }
}

/**
 * The same in-place saves with the entry importing `three` whole: the standbys have preloaded it,
 * so a reload should cost what the edit costs. Then `bun --hot` on a module importing it too.
 */
async function depsPath(display: string): Promise<void> {
  const r = await launch(display, { entry: withThree, packages: { three: threeDir } });
  const times: number[] = [];
  let measuredLines: string[];
  try {
    // The standbys warm up (and preload three) after the first frame.
    await sleep(1500);
    for (let i = 1; i <= 3; i++) {
      await r.edit(600 + i, 'inplace');
      await sleep(GAP_MS);
    }
    const firstLine = r.reloadLines().length;
    for (let i = 0; i < EDITS; i++) {
      times.push(await r.edit(700 + i, 'inplace'));
      await sleep(GAP_MS);
    }
    measuredLines = r.reloadLines().slice(firstLine);
  } finally {
    await close(r);
  }
  const bun = await measureBun({
    saves: EDITS,
    prelude: "import * as THREE from 'three';\nexport const REVISION: string = THREE.REVISION;",
    packages: { three: threeDir },
  });
  const ours = percentile(times, 50);
  const theirs = percentile(bun, 50);
  const p = phases(measuredLines);
  record({
    'reload.deps_p50_ms': {
      value: ours,
      unit: 'ms',
      baseline: `${times.length} in-place saves, the entry importing three whole; phases (p50): ${Object.entries(
        p,
      )
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')} ms`,
    },
    'reload.deps_p95_ms': { value: percentile(times, 95), unit: 'ms' },
    'reload.deps_bun_hot_p50_ms': {
      value: theirs,
      unit: 'ms',
      baseline: `bun --hot ${BUN_VERSION}, a module importing three whole, ${bun.length} in-place saves`,
    },
    'reload.deps_vs_bun_hot': {
      value: theirs / ours,
      unit: '×',
      ratio: theirs / ours,
      baseline: `bun --hot ${BUN_VERSION} on a module importing three, saved the same way: p50 ${theirs.toFixed(1)} ms`,
    },
    ...Object.fromEntries(
      Object.entries(p).map(([k, v]) => [`reload.deps_phase_${k}_ms`, { value: v, unit: 'ms' }]),
    ),
  });
}

/**
 * The baseline: the whole app restarted on every save, as a user without hot reload would run it
 * (`node --watch-path <src> hotshm start src/main.ts`): a new process bundles the owner, opens
 * the window, creates the region, builds the renderer and starts it on a worker.
 */
async function fullRestartBaseline(display: string, ours: number): Promise<void> {
  const impl = createTempImpl();
  const child: ChildProcess = spawn(
    process.execPath,
    ['--watch-path', dirname(impl.entry), cliScript, 'start', mainModule],
    {
      cwd: appDir,
      env: appEnv(display, { HOTSHM_BACKEND: 'sdl', HOTSHM_EXAMPLE_ENTRY: impl.entry }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.resume();
  const regionAfter = (from: number): string | undefined => REGION_LINE.exec(out.slice(from))?.[1];
  const samples: number[] = [];
  try {
    let from = 0;
    let name = await waitFor('the first owner', () => regionAfter(from), 60_000);
    await sleep(1000);
    for (let i = 0; i < RESTARTS; i++) {
      const c = colourOf(900 + i);
      from = out.length;
      const t0 = performance.now();
      save(
        impl.entry,
        impl.original.replace(ORANGE_LINE, `export const ORANGE: number = ${rgbSource(c)};`),
        'inplace',
      );
      const next = await waitFor(
        `restart ${i}`,
        () => {
          const n = regionAfter(from);
          return n && n !== name ? n : undefined;
        },
        60_000,
      );
      name = next;
      let observer: FrameObserver | undefined;
      try {
        observer = await waitFor('the new region', () => {
          try {
            return observeFrames(next);
          } catch {
            return undefined;
          }
        });
        samples.push((await observer.waitFor((p) => p === c, 30_000)) - t0);
      } finally {
        observer?.close();
      }
      await sleep(GAP_MS);
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    impl.remove();
  }
  const full = percentile(samples, 50);
  record({
    'reload.vs_full_restart': {
      value: full / ours,
      unit: '×',
      baseline: `the app restarted on each save (node --watch, --no-hot): p50 ${full.toFixed(0)} ms`,
      ratio: full / ours,
    },
  });
}

/** 500 reloads: the owner's memory, its processes and regions come back to where they were. */
async function soak(display: string): Promise<void> {
  const preload = join(tmpdir(), `hotshm-bench-gc-${process.pid}.mjs`);
  writeFileSync(
    preload,
    [
      "import { writeFileSync } from 'node:fs';",
      "import { getHeapSpaceStatistics } from 'node:v8';",
      'if (process.env.HOTSHM_OWNER_PID === undefined) {',
      "  process.on('SIGUSR2', () => {",
      "    globalThis.gc?.(); globalThis.gc?.(); globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });",
      '    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));',
      '    writeFileSync(process.env.HOTSHM_BENCH_RSS, JSON.stringify({ ...process.memoryUsage(), spaces }));',
      '  });',
      '}',
    ].join('\n'),
  );
  const rssFile = join(tmpdir(), `hotshm-bench-rss-${process.pid}`);
  const r = await launch(display, {
    env: { NODE_OPTIONS: `--expose-gc --import=${preload}`, HOTSHM_BENCH_RSS: rssFile },
  });
  type Usage = NodeJS.MemoryUsage & { spaces: Record<string, number> };
  const usage = async (): Promise<Usage> => {
    writeFileSync(rssFile, '');
    process.kill(r.app.pid, 'SIGUSR2');
    return waitFor('the owner RSS', () => {
      const t = readFileSync(rssFile, 'utf8');
      return t ? (JSON.parse(t) as Usage) : undefined;
    });
  };
  const mb = (n: number): string => (n / 2 ** 20).toFixed(1);
  const measure = async (label?: string): Promise<Usage> => {
    const u = await usage();
    if (label !== undefined && TRACE > 0) {
      console.log(
        `  soak ${label}: rss ${mb(u.rss)} MB, heap ${mb(u.heapUsed)}/${mb(u.heapTotal)} MB, external ${mb(u.external)} MB, array buffers ${mb(u.arrayBuffers)} MB; spaces ${Object.entries(
          u.spaces,
        )
          .filter(([, size]) => size >= 2 ** 20)
          .map(([name, size]) => `${name} ${mb(size)}`)
          .join(', ')}`,
      );
    }
    return u;
  };
  const trace = async (i: number): Promise<void> => {
    if (TRACE > 0 && i > 0 && i % TRACE === 0) await measure(`after ${i}`);
  };
  // Live processes of the owner's family (every renderer and what it started carries its pid).
  const owned = (): number => processesWithEnv('HOTSHM_OWNER_PID', String(r.app.pid)).length;
  const regions = (): number =>
    readdirSync('/dev/shm').filter((f) => f.startsWith(`hotshm-${r.app.pid}-`)).length;
  try {
    await sleep(1500);
    const start = (await measure('start')).rss;
    for (let i = 0; i < SOAK_WARMUP; i++) {
      await r.edit(2000 + i, i % 2 === 0 ? 'inplace' : 'atomic');
      await sleep(60);
      await trace(i);
    }
    await sleep(1500);
    const atBefore = await measure('before');
    const before = atBefore.rss;
    const procsBefore = owned();
    const regionsBefore = regions();
    for (let i = 0; i < SOAK; i++) {
      await r.edit(3000 + i, i % 2 === 0 ? 'inplace' : 'atomic');
      await sleep(60);
      await trace(SOAK_WARMUP + i);
    }
    await sleep(1500);
    const atAfter = await measure('after');
    const after = atAfter.rss;
    const procsAfter = owned();
    const regionsAfter = regions();
    record({
      'reload.rss_warmup_mb': {
        value: (before - start) / 2 ** 20,
        unit: 'MB',
        baseline: `owner RSS ${(start / 2 ** 20).toFixed(0)} MB after its first frame, ${(before / 2 ** 20).toFixed(0)} MB after ${SOAK_WARMUP} reloads`,
      },
      'reload.rss_growth_mb_500': {
        value: (after - before) / 2 ** 20,
        unit: 'MB',
        baseline: `owner RSS ${(before / 2 ** 20).toFixed(0)} MB after ${SOAK_WARMUP} reloads of warm-up; JS heap in use ${mb(atBefore.heapUsed)}→${mb(atAfter.heapUsed)} MB, renderer processes ${procsBefore}→${procsAfter}, regions ${regionsBefore}→${regionsAfter} over ${SOAK} more`,
      },
    });
    if (procsAfter > procsBefore || regionsAfter !== regionsBefore) {
      throw new Error(
        `leak: renderer processes ${procsBefore}→${procsAfter}, regions ${regionsBefore}→${regionsAfter}`,
      );
    }
  } finally {
    await close(r);
  }
}

const xvfb = await startXvfb('640x480x24');
try {
  if (process.env.HOTSHM_BENCH_SOAK_ONLY !== '1') {
    await userPath(xvfb.display);
    await depsPath(xvfb.display);
  }
  if (SOAK > 0) await soak(xvfb.display);
} finally {
  await xvfb.stop();
}
process.exit(0);
