/**
 * The library's own reload figures, on a synthetic path (the bench is its own owner, with a tiny
 * renderer in a temporary workspace and no window), kept to find regressions of the library
 * alone. What a user feels is measured on the real path by packages/example-app/bench/reload.bench.ts
 * (`reload.*`).
 *
 * - reload_synthetic.p50_ms / p95_ms: a file saved → the first frame of the new renderer presented
 *   in shared memory, over 40 edits. Phases come from the host's `reload` events.
 * - region.open_ms: State.reloadable() on the example's layout (300×300 framebuffer, an input
 *   channel of 1024 20-byte events, a channel of 64 strings): open, validate, bind.
 */
import { writeFileSync } from 'node:fs';
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
import { describeLayout } from '../src/state/descriptor.js';
import type { State as StateShape } from '../test/fixtures/state-shape.js';
import { createWorkspace, rendererSource, until } from '../test/fixtures/workspace.js';

const EDITS = 40;

const colourOf = (i: number): number => (0xff000000 + ((i * 2654435761) & 0xffffff)) >>> 0;

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

  record({
    'reload_synthetic.p50_ms': { value: ours, unit: 'ms' },
    'reload_synthetic.p95_ms': { value: percentile(latencies, 95), unit: 'ms' },
  });
  const med = (k: keyof (typeof phases)[number]): string =>
    percentile(
      phases.map((p) => p[k]),
      50,
    ).toFixed(1);
  console.log(
    `  phases (p50): write→watcher event ${med('event')} ms, event→build start ${med('change')} ms, build ${med('build')} ms, built→hand-off ${med('handoff')} ms, hand-off→renderer ready ${med('ready')} ms, hand-off→first frame ${med('frame')} ms`,
  );
  await owner.close();
  ws.remove();
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
  const descriptor = JSON.stringify(describeLayout(lay));
  const hl = headerLayout(lay.dataSize, Buffer.byteLength(descriptor));
  const name = `/hotshm-${process.pid}-0be4c400`;
  const region = createRegion(name, hl.totalSize);
  writeHeader(region, { fingerprint: lay.fingerprint, descriptor, ownerPid: process.pid });
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
