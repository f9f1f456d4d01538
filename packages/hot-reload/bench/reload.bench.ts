/**
 * Reload latency and reload hygiene, measured on the real thing: a temp workspace, the real
 * watcher, esbuild and standby processes, and frames read from shared memory.
 *
 * - reload.p50_ms / reload.p95_ms: a file saved → the first frame of the new renderer presented in
 *   shared memory, over 40 edits (timed from just before the write to the moment the owner sees the
 *   new colour in the front buffer). Phases come from the supervisor's `reload` events.
 * - reload.vs_full_restart: the same edit under `node --watch` restarting the owner (which then
 *   builds and starts its renderer from cold), as a user without hotshm would: its p50 ÷ ours.
 * - reload.rss_growth_mb_500: the owner's RSS after 500 more reloads minus before (after GC), and
 *   the count of child processes and /dev/shm regions before and after.
 * - region.open_ms: State.reloadable() on the example's layout (300×300 framebuffer, an input
 *   channel of 1024 20-byte events, a channel of 64 strings): open, validate, bind.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, record } from '../../../scripts/bench-record.js';
import { createRegion, HEADER_SIZE } from '../src/exports/memory.js';
import {
  channel,
  defineState,
  fixedString,
  framebuffer,
  i16,
  i32,
  struct,
  u8,
  u16,
} from '../src/index.js';
import { headerLayout, markReady, writeHeader } from '../src/memory/header.js';
import type { State as StateShape } from '../test/fixtures/state-shape.js';
import { createWorkspace, rendererSource, until } from '../test/fixtures/workspace.js';

const EDITS = 40;
const RESTARTS = 8;
const SOAK = Number(process.env.HOTSHM_BENCH_SOAK ?? 500);

const colourOf = (i: number): number => (0xff000000 + ((i * 2654435761) & 0xffffff)) >>> 0;

function childPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return (
          readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1] ===
          String(process.pid)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}
const hotshmRegions = (): string[] =>
  readdirSync('/dev/shm').filter((f) => f.startsWith(`hotshm-${process.pid}-`));

async function hotReloads(): Promise<void> {
  const ws = createWorkspace(rendererSource(colourOf(0)));
  const { State } = (await import(ws.statePath)) as { State: typeof StateShape };
  const owner = await State.owner(
    { width: 300, height: 300 },
    { hot: true, entry: ws.rendererPath, log: false },
  );
  const front = (): number | undefined => {
    const f = owner.framebuffer.acquireFront();
    const p = f?.pixels[0];
    owner.framebuffer.releaseFront();
    return p === undefined ? undefined : p >>> 0;
  };
  const phases: Array<{
    event: number;
    change: number;
    build: number;
    handoff: number;
    ready: number;
    frame: number;
  }> = [];
  let wroteAt = 0;
  owner.host.on('reload', (e) => {
    const t = e.timings;
    if (
      e.reason !== 'change' ||
      t.handoffToFrameMs === null ||
      t.changeToBuildMs === null ||
      t.changeSeenAt === null ||
      t.totalMs === null
    ) {
      return;
    }
    phases.push({
      event: t.changeSeenAt - wroteAt,
      change: t.changeToBuildMs - t.buildMs,
      build: t.buildMs,
      // change seen → first frame, less the build and the renderer's part: the hand-off itself
      handoff: t.totalMs - t.handoffToFrameMs - t.changeToBuildMs,
      ready: t.handoffToReadyMs,
      frame: t.handoffToFrameMs,
    });
  });
  await until('the first frame', () => front() === colourOf(0), 60_000);
  // 1 ms polling: a busy setImmediate loop would itself take a core from the build and the
  // renderer on this 2-core machine (and churn the heap being measured for growth).
  const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 1));
  const edit = async (i: number): Promise<number> => {
    const c = colourOf(i);
    // A user's saves are seconds apart; 300 ms lets the replaced renderer go and the next
    // standby warm up, as it would between them.
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    wroteAt = t0;
    writeFileSync(ws.rendererPath, rendererSource(c));
    while (front() !== c) {
      if (performance.now() - t0 > 30_000) throw new Error(`edit ${i}: no new frame after 30 s`);
      await tick();
    }
    return performance.now() - t0;
  };
  for (let i = 1; i <= 5; i++) await edit(i); // warm-up
  const latencies: number[] = [];
  phases.length = 0;
  for (let i = 6; i < 6 + EDITS; i++) latencies.push(await edit(i));
  const ours = percentile(latencies, 50);

  const baseline = await fullRestarts(ws.statePath, ws.rendererPath);
  record({
    'reload.p50_ms': { value: ours, unit: 'ms' },
    'reload.p95_ms': { value: percentile(latencies, 95), unit: 'ms' },
    'reload.vs_full_restart': {
      value: baseline / ours,
      unit: '×',
      baseline: `node --watch restarting owner and renderer: p50 ${baseline.toFixed(0)} ms`,
      ratio: baseline / ours,
    },
  });
  const med = (k: keyof (typeof phases)[number]): string =>
    percentile(
      phases.map((p) => p[k]),
      50,
    ).toFixed(1);
  console.log(
    `  phases (p50): write→watcher event ${med('event')} ms, event→build start ${med('change')} ms, build ${med('build')} ms, built→hand-off ${med('handoff')} ms, hand-off→renderer ready ${med('ready')} ms, hand-off→first frame ${med('frame')} ms`,
  );

  // 500 reloads: memory, processes and regions must come back to where they were.
  globalThis.gc?.();
  const procsBefore = childPids().length;
  const regionsBefore = hotshmRegions().length;
  const rssBefore = process.memoryUsage().rss;
  for (let i = 0; i < SOAK; i++) await edit(1000 + i);
  await new Promise((r) => setTimeout(r, 1500));
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const rssAfter = process.memoryUsage().rss;
  const procsAfter = childPids().length;
  const regionsAfter = hotshmRegions().length;
  record({
    'reload.rss_growth_mb_500': {
      value: (rssAfter - rssBefore) / 2 ** 20,
      unit: 'MB',
      baseline: `owner RSS before ${(rssBefore / 2 ** 20).toFixed(0)} MB; children ${procsBefore}→${procsAfter}, regions ${regionsBefore}→${regionsAfter} over ${SOAK} reloads`,
    },
  });
  if (procsAfter !== procsBefore || regionsAfter !== regionsBefore) {
    throw new Error(
      `leak: children ${procsBefore}→${procsAfter}, regions ${regionsBefore}→${regionsAfter}`,
    );
  }
  await owner.close();
  ws.remove();
}

/** The baseline: `node --watch` restarts the owner on each save; it builds and starts a renderer cold. */
async function fullRestarts(statePath: string, rendererPath: string): Promise<number> {
  const script = join(import.meta.dirname, 'reload-owner.ts');
  const child = spawn(
    process.execPath,
    ['--watch-path', rendererPath, '--import', 'tsx', script, statePath, rendererPath],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const seen = (c: number): boolean => out.includes(`FRAME ${c.toString(16)}`);
  const samples: number[] = [];
  try {
    await until('the first owner', () => seen(colourOf(5000)) || out.includes('FRAME'), 60_000);
    for (let i = 0; i < RESTARTS; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const c = colourOf(5001 + i);
      const t0 = performance.now();
      writeFileSync(rendererPath, rendererSource(c));
      await until(`restart ${i}`, () => seen(c), 60_000);
      samples.push(performance.now() - t0);
    }
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  return percentile(samples, 50);
}

async function regionOpen(): Promise<void> {
  const InputEvent = struct({
    kind: u8,
    button: u8,
    buttons: u8,
    modifiers: u8,
    x: i32,
    y: i32,
    key: i32,
    dx: i16,
    dy: i16,
  });
  const State = defineState({
    name: 'open-bench',
    reloadable: new URL('./none.ts', import.meta.url),
    args: struct({ width: u16, height: u16 }),
    fields: ({ width, height }) => ({
      framebuffer: framebuffer(width, height),
      toRenderer: channel(InputEvent, { capacity: 1024 }),
      fromRenderer: channel(fixedString(64), { capacity: 64 }),
    }),
  });
  const args = { width: 300, height: 300 };
  const lay = State.layout(args);
  const hl = headerLayout(lay.dataSize, Buffer.byteLength(lay.signature));
  const name = `/hotshm-${process.pid}-0be4c400`;
  const region = createRegion(name, hl.totalSize);
  writeHeader(region, {
    fingerprint: lay.fingerprint,
    signature: lay.signature,
    ownerPid: process.pid,
  });
  const view = new DataView(region.buffer);
  for (const f of lay.fields) f.schema.init?.(view, f.offset);
  markReady(region);
  process.env.HOTSHM_REGION = name;
  process.env.HOTSHM_ARGS = JSON.stringify(args);
  process.env.HOTSHM_OWNER_PID = String(process.pid);
  const samples: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const s = State.reloadable();
    samples.push(performance.now() - t0);
    s.region.close();
  }
  region.unlink();
  region.close();
  void HEADER_SIZE;
  record({
    'region.open_ms': {
      value: percentile(samples, 50),
      unit: 'ms',
      baseline: `p99 ${percentile(samples, 99).toFixed(3)} ms; ${(hl.totalSize / 1024).toFixed(0)} KiB region`,
    },
  });
}

await regionOpen();
await hotReloads();
process.exit(0);
