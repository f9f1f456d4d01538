/**
 * reload.vs_bun_hot: hotshm against Bun's in-process re-evaluation (`bun --hot`), side by side in
 * one run, on the same trivial module saved the same way.
 *
 * The module fills a 300×300 buffer with its version and writes the version to a file: under
 * Bun a plain module (re-evaluated in place on each save); under hotshm a renderer whose main()
 * does the same into the shared framebuffer (a new renderer process on each save, the owner and
 * its standbys kept). Each save writes the module in place with a new version; the time is from
 * just before the write until the file says the new version (read every 0.1 ms from this
 * process, the same way for both). Bun comes from the npm registry (`bun`, pinned below),
 * installed into node_modules/.cache on the first run.
 *
 * - reload.bun_hot_p50_ms / _p95_ms: Bun.
 * - reload.trivial_p50_ms / _p95_ms: hotshm (Node, the same owner an app has).
 * - reload.vs_bun_hot: Bun's p50 ÷ hotshm's (above 1 once hotshm is ahead).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, record } from '../../../scripts/bench-record.js';
import { createWorkspace } from '../test/fixtures/workspace.js';

const BUN_VERSION = '1.4.4';
const SAVES = Number(process.env.HOTSHM_BENCH_EDITS ?? 20);
const GAP_MS = 600;
const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cache = join(packageDir, 'node_modules', '.cache', 'hotshm-bench');
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The path of a bun binary of BUN_VERSION, installed from the registry when missing. */
function bun(): string {
  const dir = join(cache, `bun-${BUN_VERSION}`);
  const bin = join(dir, 'node_modules', 'bun', 'bin', 'bun.exe');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    execFileSync('npm', ['install', `bun@${BUN_VERSION}`, '--no-fund', '--no-audit'], {
      cwd: dir,
      stdio: 'ignore',
    });
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (version !== BUN_VERSION) throw new Error(`expected bun ${BUN_VERSION}, got ${version}`);
  return bin;
}

/** Resolves with performance.now() once `file` holds `want` (read every 0.1 ms). */
function waitForFile(file: string, want: string, timeoutMs = 10_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const sliceEnd = performance.now() + 20;
      for (;;) {
        const now = performance.now();
        let got = '';
        try {
          got = readFileSync(file, 'utf8');
        } catch {
          // not written yet
        }
        if (got === want) {
          resolve(now);
          return;
        }
        if (now > deadline) {
          reject(new Error(`${file} never said ${want}`));
          return;
        }
        if (now > sliceEnd) {
          setImmediate(tick);
          return;
        }
        Atomics.wait(sleeper, 0, 0, 0.1);
      }
    };
    tick();
  });
}

async function timeSaves(
  write: (version: number) => void,
  out: string,
  first: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < SAVES; i++) {
    const version = first + i;
    const t0 = performance.now();
    write(version);
    times.push((await waitForFile(out, String(version))) - t0);
    await sleep(GAP_MS);
  }
  return times;
}

const bunModule = (version: number, out: string): string => `
import { writeFileSync } from 'node:fs';
export const VERSION = ${version};
const pixels = new Uint32Array(300 * 300);
pixels.fill(VERSION);
writeFileSync(${JSON.stringify(out)}, String(VERSION));
// Keeps the process alive across re-evaluations (set once).
(globalThis as { keep?: unknown }).keep ??= setInterval(() => {}, 1 << 30);
`;

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

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function measureBun(): Promise<number[]> {
  const ws = createWorkspace('export {}');
  const mod = join(ws.dir, 'mod.ts');
  const out = join(ws.dir, 'bun.out');
  writeFileSync(mod, bunModule(1, out));
  const child = spawn(bun(), ['--hot', mod], { stdio: 'ignore', cwd: ws.dir });
  try {
    await waitForFile(out, '1', 30_000);
    await sleep(1000);
    return await timeSaves((v) => writeFileSync(mod, bunModule(v, out)), out, 2);
  } finally {
    await stop(child);
    ws.remove();
  }
}

async function measureHotshm(): Promise<number[]> {
  const out = join(cache, `hotshm-${process.pid}.out`);
  mkdirSync(cache, { recursive: true });
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
    return await timeSaves((v) => ws.writeRenderer(hotshmRenderer(v, out)), out, 2);
  } finally {
    await stop(child);
    ws.remove();
  }
}

const hotshm = await measureHotshm();
const bunTimes = await measureBun();
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
