/**
 * The owner's health while a renderer presents at 60 fps: the example's owner (its state and the
 * library's window, SDL back end, hot reload on) in this process under a private Xvfb, its renderer a temporary entry that
 * redraws every 16 ms. Over a 5 s window after warm-up it records the event-loop delay p99
 * (monitorEventLoopDelay) and, after the run, the RSS of the owner as `pnpm dev` runs it.
 * Baselines, measured in the same run: the loop delay of an idle Node process paced by the same
 * drift-corrected 60 Hz timers (run during the measured window, so it sees the same machine
 * load), and the RSS of a bare `node` that has loaded koffi.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { percentile, record } from '../../../scripts/bench-record.js';
import { startXvfb } from '../../hot-reload/test/x11.js';
import { appDir, cliScript, createTempImpl, mainModule, ownerUnder } from '../test/e2e/harness.js';

const WINDOW_MS = 5000;
const WARMUP_MS = 1000;

/** A renderer that presents a new frame every 16 ms, whatever the input. */
const RENDERER = `
import { State } from 'hot-reloaded-state';
export async function main() {
  const s = State.reloadable();
  let i = 0;
  setInterval(() => {
    s.framebuffer.back().fill((0xff000000 | ((i++ * 0x010305) & 0xffffff)) >>> 0);
    s.framebuffer.present();
  }, 16);
  for await (const _event of s.toRenderer) {
    // input is read and ignored: the queue never fills
  }
}
`;

/** The same pacing as the app's frame loop, doing nothing, in a fresh Node process. */
const IDLE_LOOP = `
const { monitorEventLoopDelay } = require('node:perf_hooks');
const FRAME_MS = 1000 / 60;
const lag = monitorEventLoopDelay({ resolution: 5 });
let next = performance.now();
let frames = 0;
const frame = () => {
  frames++;
  next += FRAME_MS;
  const now = performance.now();
  if (next < now - FRAME_MS) next = now;
  timer = setTimeout(frame, Math.max(0, next - now));
};
let timer = setTimeout(frame, 0);
setTimeout(() => lag.enable(), ${WARMUP_MS});
setTimeout(() => {
  clearTimeout(timer);
  lag.disable();
  console.log(JSON.stringify({ p99: lag.percentile(99) / 1e6, frames }));
}, ${WARMUP_MS + WINDOW_MS});
`;

const KOFFI_RSS = `
const koffi = require('koffi');
koffi.sizeof('int');
console.log(process.memoryUsage().rss);
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the idle loop in a fresh process; resolves with its figures. */
function idleLoop(): Promise<{ p99: number; frames: number }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', IDLE_LOOP], { encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout) as { p99: number; frames: number });
    });
  });
}

/** The largest mappings of a process by resident size, to say where the RSS goes. */
function largestMappings(count: number, pid: number | 'self' = 'self'): string {
  const bySource = new Map<string, number>();
  let source = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      source = (header[1] || '[anonymous]').replace(/^.*\//, '');
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) bySource.set(source, (bySource.get(source) ?? 0) + Number(rss[1]));
  }
  return [...bySource]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, kb]) => `${name} ${(kb / 1024).toFixed(1)} MB`)
    .join(', ');
}
/**
 * The owner as users run it (`pnpm dev` → `hotshm dev src/main.ts`: no TypeScript loader in the
 * owner), on the same display with the same renderer: its resident set after warm-up and a window
 * of frames (the owner process, not the launcher beside it).
 */
async function launchedOwnerRss(): Promise<{ rss: number; mappings: string }> {
  const child = spawn(process.execPath, [cliScript, 'dev', mainModule], {
    cwd: appDir,
    env: { ...process.env, HOTSHM_EXAMPLE_ENTRY: impl.entry },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  try {
    for (let i = 0; i < 600 && !out.includes('hotshm: region'); i++) await sleep(50);
    if (!out.includes('hotshm: region'))
      throw new Error(`the launched owner did not start: ${out}`);
    await sleep(WARMUP_MS + WINDOW_MS);
    const owner = ownerUnder(child.pid as number);
    if (owner === undefined) throw new Error('the launcher runs no owner');
    const status = readFileSync(`/proc/${owner}/status`, 'utf8');
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    return { rss: kb / 1024, mappings: largestMappings(6, owner) };
  } finally {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

// From the app's folder, so koffi resolves as it does for the owner.
const bareRss =
  Number(execFileSync(process.execPath, ['-e', KOFFI_RSS], { cwd: appDir, encoding: 'utf8' })) /
  2 ** 20;

const xvfb = await startXvfb();
process.env.DISPLAY = xvfb.display;
process.env.HOTSHM_BACKEND = 'sdl';
delete process.env.WAYLAND_DISPLAY;
const impl = createTempImpl();
impl.write(RENDERER);
const { State } = await import('hot-reloaded-state');
const { openWindow } = await import('@hotshm/hot-reload/window');

try {
  const log = (line: string): void => console.log(`  ${line}`);
  const state = await State.owner({ width: 300, height: 300 }, { entry: impl.entry, log });
  const window = await openWindow(state, {
    title: 'Hot Reload Demo',
    input: 'toRenderer',
    titles: 'fromRenderer',
    log,
  });
  const app = { state, stats: () => window.stats() };
  try {
    // The baseline runs at the same time as the measured window, so both see the same load on
    // this shared machine (its own warm-up overlaps the app's).
    const idleRun = idleLoop();
    await sleep(WARMUP_MS);
    const fb = app.state.framebuffer;
    const presentedBefore = fb.frameCount();
    const ownerFramesBefore = app.stats().frames;
    const uploadsBefore = app.stats().uploads;
    const workBefore = app.stats().workMs.length;
    const lag = monitorEventLoopDelay({ resolution: 5 });
    lag.enable();
    await sleep(WINDOW_MS);
    lag.disable();
    const stats = app.stats();
    const presented = fb.frameCount() - presentedBefore;
    const ownerFrames = stats.frames - ownerFramesBefore;
    const work = stats.workMs.slice(workBefore);
    const p99 = lag.percentile(99) / 1e6;
    const inProcessRss = process.memoryUsage().rss / 2 ** 20;
    const launched = await launchedOwnerRss();
    const rss = launched.rss;
    const idle = await idleRun;
    console.log(
      `${WINDOW_MS / 1000} s at 300×300: renderer presented ${presented} frames, owner ticked ${ownerFrames} times and uploaded ${stats.uploads - uploadsBefore} frames (idle loop: ${idle.frames} ticks incl. warm-up); owner work p50 ${percentile(work, 50).toFixed(3)} ms, p99 ${percentile(work, 99).toFixed(3)} ms; loop delay p99 ${p99.toFixed(2)} ms, idle baseline ${idle.p99.toFixed(2)} ms; RSS of the owner as \`pnpm dev\` runs it ${rss.toFixed(1)} MB (this bench process, which also carries tsx and vitest-free tooling: ${inProcessRss.toFixed(1)} MB), bare node + koffi ${bareRss.toFixed(1)} MB`,
    );
    console.log(
      `  load average ${loadavg()[0]?.toFixed(2)}; the owner's largest mappings: ${launched.mappings}`,
    );
    if (presented === 0 || ownerFrames === 0) {
      throw new Error(
        'the renderer presented nothing or the owner showed nothing: figures invalid',
      );
    }
    record({
      'owner.loop_delay_p99_ms': {
        value: p99,
        unit: 'ms',
        baseline: 'idle Node process, same 60 Hz timer pacing',
        ratio: p99 / idle.p99,
      },
      'owner.rss_mb': {
        value: rss,
        unit: 'MB',
        baseline: 'bare node with koffi loaded',
        ratio: rss / bareRss,
      },
    });
    for (const [id, value, target] of [
      ['owner.loop_delay_p99_ms', p99, 20],
      ['owner.rss_mb', rss, 150],
    ] as const) {
      if (value >= target) console.log(`  ${id}: ${value.toFixed(1)} is over the target ${target}`);
    }
  } finally {
    await window.close();
    await state.close();
  }
} finally {
  await xvfb.stop();
  impl.remove();
}
