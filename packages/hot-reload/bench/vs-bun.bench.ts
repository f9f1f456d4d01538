/**
 * reload.vs_bun_hot: hotshm against Bun's in-process re-evaluation (`bun --hot`), side by side in
 * one run, on the same trivial module saved the same way.
 *
 * The module fills a 300×300 buffer with its version and writes the version to a file: under
 * Bun a plain module (re-evaluated in place on each save, see bun.ts); under hotshm a renderer
 * whose main() does the same into the shared framebuffer (a new renderer process on each save,
 * the owner and its standbys kept). Each save writes the module in place with a new version; the
 * time is from just before the write until the file says the new version (read every 0.1 ms from
 * this process, the same way for both).
 *
 * - reload.bun_hot_p50_ms / _p95_ms: Bun.
 * - reload.trivial_p50_ms / _p95_ms: hotshm (Node, the same owner an app has).
 * - reload.vs_bun_hot: Bun's p50 ÷ hotshm's (above 1 once hotshm is ahead).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, record } from '../../../scripts/bench-record.js';
import { createWorkspace } from '../test/fixtures/workspace.js';
import { BUN_VERSION, benchCache, measureBun, sleep, stop, timeSaves, waitForFile } from './bun.js';

const SAVES = Number(process.env.HOTSHM_BENCH_EDITS ?? 20);
const packageDir = fileURLToPath(new URL('..', import.meta.url));

const hotshmRenderer = (version: number, out: string): string => `
import { writeFileSync } from 'node:fs';
import { State } from './state.ts';
export const VERSION = ${version};
export async function main() {
  const s = State.reloadable();
  s.framebuffer.back().fill(VERSION);
  s.framebuffer.present();
  writeFileSync(${JSON.stringify(out)}, String(VERSION));
  for await (const _ of s.input) {}
}
`;

const OWNER = `
const { State } = await import(process.argv[2]);
await State.owner({ width: 300, height: 300 }, { hot: true, entry: process.argv[3], log: false });
process.stdout.write('ready\\n');
`;

async function measureHotshm(): Promise<number[]> {
  const out = join(benchCache, `hotshm-${process.pid}.out`);
  mkdirSync(benchCache, { recursive: true });
  const ws = createWorkspace('');
  ws.writeRenderer(hotshmRenderer(1, out));
  const ownerFile = join(ws.dir, 'owner.mjs');
  writeFileSync(ownerFile, OWNER);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ownerFile, ws.statePath, ws.rendererPath],
    { stdio: ['ignore', 'pipe', 'inherit'], cwd: packageDir },
  );
  try {
    await waitForFile(out, '1', 60_000);
    // The standbys warm up after the first frame; a user's first save comes later than this.
    await sleep(1500);
    return await timeSaves((v) => ws.writeRenderer(hotshmRenderer(v, out)), out, 2, SAVES);
  } finally {
    await stop(child);
    ws.remove();
  }
}

const hotshm = await measureHotshm();
const bunTimes = await measureBun({ saves: SAVES });
const ours = percentile(hotshm, 50);
const theirs = percentile(bunTimes, 50);
record({
  'reload.trivial_p50_ms': { value: ours, unit: 'ms' },
  'reload.trivial_p95_ms': { value: percentile(hotshm, 95), unit: 'ms' },
  'reload.bun_hot_p50_ms': { value: theirs, unit: 'ms' },
  'reload.bun_hot_p95_ms': { value: percentile(bunTimes, 95), unit: 'ms' },
  'reload.vs_bun_hot': {
    value: theirs / ours,
    unit: '×',
    ratio: theirs / ours,
    baseline: `bun --hot ${BUN_VERSION} on the same module, saved the same way: p50 ${theirs.toFixed(1)} ms`,
  },
});
process.exit(0);
