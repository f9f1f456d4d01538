/**
 * Schema accessor costs, each against its plain-JavaScript baseline measured in the same run:
 *
 * - field.u32_access_ratio: a u32 Cell's get+set (closed check, range check, one-element typed
 *   array) vs the same get+set on a plain Uint32Array. Target ≤ 3.
 * - slice.fill_1080p_ratio: filling a 1920×1080 u32 slice, obtained through the slice accessor,
 *   pixel by pixel vs a plain Uint32Array of the same size. Target ≤ 1.5.
 * - owner.u32_access_ratio: the owner's own view of a state (`defineStateCore(…).create(args)`):
 *   a u32 cell captured once (`const clicks = state.memory.clicks`) and used in the loop.
 * - owner.u32_path_ratio: the same get+set through the whole path on every iteration
 *   (`state.memory.clicks.set(state.memory.clicks.get() + i)`), as a frame loop writes it.
 * - owner.u32_path_ratio_migrated: the same path after the state migrated to a new layout (a
 *   field added in front of `memory`, so every offset moved): the handles were moved, not rebuilt.
 *
 * The accessors are bound as an app's are: to the state layer's own BindContext (RegionContext,
 * whose `closed` asks the region) over a real shared region, created and mapped by the memory
 * layer and unlinked at the end. Each figure is the best of several rounds after a warm-up; every
 * loop's result feeds a checksum that is checked at the end so the JIT cannot drop the work.
 */
import { record } from '../../../scripts/bench-record.js';
import { channel } from '../src/channel/index.js';
import { RegionClosedError } from '../src/errors.js';
import { HEADER_SIZE } from '../src/memory/header.js';
import { createRegion, newRegionName, type Region } from '../src/memory/index.js';
import { type BindContext, type Cell, slice, struct, u32 } from '../src/schema/index.js';
import { RegionContext } from '../src/state/context.js';
import { defineStateCore } from '../src/state/define.js';
import { describeLayout } from '../src/state/descriptor.js';
import { layoutState } from '../src/state/layout.js';

const ROUNDS = 9;

/** A real shared region of `bytes`, unlinked (and unmapped) by the returned function. */
function region(bytes: number): { region: Region; free(): void } {
  const r = createRegion(newRegionName(), bytes);
  return {
    region: r,
    free: () => {
      r.unlink();
      r.close();
    },
  };
}

function best(run: () => number, rounds = ROUNDS): { ms: number; sink: number } {
  let ms = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    sink = (sink + run()) >>> 0;
    const t = Number(process.hrtime.bigint() - t0) / 1e6;
    if (t < ms) ms = t;
  }
  return { ms, sink };
}

// ---- field.u32_access_ratio -----------------------------------------------------------------

const FIELD_ITERS = 20_000_000;

function cellLoop(cell: Cell<number>, n: number): number {
  for (let i = 0; i < n; i++) cell.set((cell.get() + i) >>> 0);
  return cell.get();
}

function plainLoop(a: Uint32Array, k: number, n: number): number {
  for (let i = 0; i < n; i++) a[k] = (a[k]! + i) >>> 0;
  return a[k]!;
}

/**
 * The same context as an object literal with a `get closed()`: V8 keeps such an object in
 * dictionary mode, so every closed check becomes a slow lookup and call. Measured for information
 * (printed, not recorded), because it is an easy mistake to make when building a BindContext.
 */
function literalContext(region: Region): BindContext {
  return {
    regionName: region.name,
    buffer: region.buffer,
    view: new DataView(region.buffer),
    address: 0n,
    get closed() {
      return region.closed;
    },
    assertOpen(what?: string) {
      if (region.closed) throw new RegionClosedError(region.name, what);
    },
  };
}

function measureField(ctx: BindContext): { accessorNs: number; plainNs: number } {
  const cell = u32.bind(ctx, 64, 'bench.counter');
  const plain = new Uint32Array(1024);
  // The index comes from a value the compiler cannot fold, as the cell's offset does.
  const k = Number(process.env.HOTSHM_BENCH_INDEX ?? '16');
  // Warm-up, alternating so both loops reach their optimised code before timing.
  for (let w = 0; w < 3; w++) {
    cellLoop(cell, 1_000_000);
    plainLoop(plain, k, 1_000_000);
  }
  cell.set(0);
  plain[k] = 0;
  const a = best(() => cellLoop(cell, FIELD_ITERS));
  const b = best(() => plainLoop(plain, k, FIELD_ITERS));
  // Both loops computed the same sequence from 0, so their final values must agree.
  if (cell.get() !== plain[k]) throw new Error(`checksum mismatch: ${cell.get()} vs ${plain[k]}`);
  return { accessorNs: (a.ms * 1e6) / FIELD_ITERS, plainNs: (b.ms * 1e6) / FIELD_ITERS };
}

function benchField(): void {
  const map = region(4096);
  const { accessorNs, plainNs } = measureField(new RegionContext(map.region, 'owner', 1));
  record({
    'field.u32_access_ratio': {
      value: accessorNs,
      unit: 'ns per get+set',
      baseline: `plain Uint32Array get+set, ${plainNs.toFixed(3)} ns`,
      ratio: accessorNs / plainNs,
    },
  });
  const literal = measureField(literalContext(map.region));
  console.log(
    `  (info) with an object-literal context: ${(literal.accessorNs / literal.plainNs).toFixed(1)}× — build BindContext as a class`,
  );
  map.free();
}

// ---- slice.fill_1080p_ratio -------------------------------------------------------------------

const W = 1920;
const H = 1080;

function fill(px: Uint32Array, frame: number): number {
  let i = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      px[i++] = (0xff000000 | ((x + frame) & 0xff) | (((y + frame) & 0xff) << 8)) >>> 0;
    }
  }
  return px[(frame * 7919) % (W * H)]!;
}

function benchSlice(): void {
  const Pixels = slice(u32, W * H);
  const map = region(Pixels.size);
  const ctx = new RegionContext(map.region, 'owner', 1);
  const shared = Pixels.bind(ctx, 0, 'bench.pixels');
  const plain = new Uint32Array(W * H);

  let frame = 0;
  for (let w = 0; w < 3; w++) {
    fill(shared, frame++);
    fill(plain, frame++);
  }
  const a = best(() => fill(shared, frame++), 15);
  const b = best(() => fill(plain, frame++), 15);
  if (shared.length !== plain.length || (a.sink | b.sink) === 0) {
    throw new Error('fill produced nothing');
  }
  record({
    'slice.fill_1080p_ratio': {
      value: a.ms,
      unit: 'ms per 1920×1080 fill',
      baseline: `plain Uint32Array, ${b.ms.toFixed(3)} ms`,
      ratio: a.ms / b.ms,
    },
  });
  map.free();
}

// ---- owner.u32_access_ratio, owner.u32_path_ratio ---------------------------------------------

interface OwnerFields {
  readonly memory: { readonly clicks: Cell<number> };
}

function pathLoop(state: OwnerFields, n: number): number {
  for (let i = 0; i < n; i++) state.memory.clicks.set((state.memory.clicks.get() + i) >>> 0);
  return state.memory.clicks.get();
}

function benchOwner(): void {
  const core = defineStateCore({
    name: 'bench-owner',
    reloadable: '/bench/renderer.ts',
    args: u32,
    fields: () => ({ memory: struct({ colour: u32, clicks: u32 }) }),
  });
  const owned = core.create(0);
  const state = owned.fields as unknown as OwnerFields;
  const clicks = state.memory.clicks;
  const plain = new Uint32Array(1024);
  const k = Number(process.env.HOTSHM_BENCH_INDEX ?? '16');
  for (let w = 0; w < 3; w++) {
    cellLoop(clicks, 1_000_000);
    pathLoop(state, 1_000_000);
    plainLoop(plain, k, 1_000_000);
  }
  clicks.set(0);
  plain[k] = 0;
  const captured = best(() => cellLoop(clicks, FIELD_ITERS));
  const b = best(() => plainLoop(plain, k, FIELD_ITERS));
  if (clicks.get() !== plain[k])
    throw new Error(`checksum mismatch: ${clicks.get()} vs ${plain[k]}`);
  clicks.set(0);
  const path = best(() => pathLoop(state, FIELD_ITERS));
  if (clicks.get() !== plain[k])
    throw new Error(`checksum mismatch: ${clicks.get()} vs ${plain[k]}`);
  // A migration to a layout where `memory` moved: a field added before it.
  const next = layoutState(
    'bench-owner',
    { added: channel(u32, { capacity: 64 }), memory: struct({ colour: u32, clicks: u32 }) },
    HEADER_SIZE,
  );
  const p = owned.prepareMigration(describeLayout(next));
  owned.commitMigration(p, { epoch: 2 });
  owned.releaseRegion(p);
  for (let w = 0; w < 3; w++) pathLoop(state, 1_000_000);
  clicks.set(0);
  const migrated = best(() => pathLoop(state, FIELD_ITERS));
  if (clicks.get() !== plain[k])
    throw new Error(`checksum mismatch: ${clicks.get()} vs ${plain[k]}`);
  const plainNs = (b.ms * 1e6) / FIELD_ITERS;
  const capturedNs = (captured.ms * 1e6) / FIELD_ITERS;
  const pathNs = (path.ms * 1e6) / FIELD_ITERS;
  const migratedNs = (migrated.ms * 1e6) / FIELD_ITERS;
  record({
    'owner.u32_access_ratio': {
      value: capturedNs,
      unit: 'ns per get+set',
      baseline: `plain Uint32Array get+set, ${plainNs.toFixed(3)} ns`,
      ratio: capturedNs / plainNs,
    },
    'owner.u32_path_ratio': {
      value: pathNs,
      unit: 'ns per get+set',
      baseline: `plain Uint32Array get+set, ${plainNs.toFixed(3)} ns`,
      ratio: pathNs / plainNs,
    },
    'owner.u32_path_ratio_migrated': {
      value: migratedNs,
      unit: 'ns per get+set',
      baseline: `plain Uint32Array get+set, ${plainNs.toFixed(3)} ns`,
      ratio: migratedNs / plainNs,
    },
  });
  owned.close();
}

// The owner's view first: the object-literal context measured in benchField makes the cells'
// closed check polymorphic for the rest of the process, which no real owner has.
benchOwner();
benchField();
benchSlice();
