/**
 * What the example costs while nobody edits or touches it: `hotshm dev` as the reload bench starts
 * it (SDL in a real window under Xvfb, a copy of example-impl), its first frame shown, then
 * SETTLE_MS for the standbys to warm up; then the CPU time (utime + stime of /proc/<pid>/stat,
 * every thread) each process used over IDLE_MS with no save and no input, as a percentage of one
 * core.
 *
 * - owner.idle_cpu_percent: the owner (the window, the watcher, the standby pool).
 * - renderer.idle_cpu_percent: the renderer that drew the frame (parked in `for await` on its
 *   input; the frames it published meanwhile are in its baseline, 0 for a static frame);
 *   renderer.standbys_idle_cpu_percent: the standby processes, together.
 * - owner.launcher_idle_cpu_percent: the `hotshm dev` launcher above the owner.
 */
import { percentile, record } from '../../../scripts/bench-record.js';
import { cpuSecondsOf } from '../../hot-reload/src/native/proc.js';
import { startXvfb } from '../../hot-reload/test/x11.js';
import { processesOwnedBy } from '../test/e2e/harness.js';
import { close, launch, sleep } from './app.js';

const SETTLE_MS = Number(process.env.HOTSHM_BENCH_SETTLE_MS ?? 5000);
const IDLE_MS = Number(process.env.HOTSHM_BENCH_IDLE_MS ?? 10_000);
const STARTED_LINE = /renderer started \(pid (\d+)/;

/** CPU seconds of each pid now (a pid that is gone is left out). */
function cpuTimes(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = cpuSecondsOf(pid);
    if (s !== undefined) out.set(pid, s);
  }
  return out;
}

const xvfb = await startXvfb('640x480x24');
try {
  const r = await launch(xvfb.display);
  try {
    await sleep(SETTLE_MS);
    const owner = r.app.pid;
    const renderer = Number(
      STARTED_LINE.exec(r.app.stdout.findLast((l) => STARTED_LINE.test(l)) ?? '')?.[1],
    );
    if (!Number.isInteger(renderer)) {
      throw new Error(`no "renderer started" line:\n${r.app.stdout.join('\n')}`);
    }
    const standbys = processesOwnedBy(owner).filter((pid) => pid !== renderer);
    const pids = [owner, r.app.launcherPid, renderer, ...standbys];
    const before = cpuTimes(pids);
    const frames = r.observer.frames();
    const t0 = performance.now();
    await sleep(IDLE_MS);
    const after = cpuTimes(pids);
    const published = r.observer.frames() - frames;
    const wall = (performance.now() - t0) / 1000;
    const percent = (pid: number): number => {
      const a = after.get(pid);
      const b = before.get(pid);
      if (a === undefined || b === undefined) throw new Error(`pid ${pid} ended while idle`);
      return (100 * (a - b)) / wall;
    };
    const standbyPercents = standbys.map(percent);
    const ownerCpu = percent(owner);
    record({
      'owner.idle_cpu_percent': {
        value: ownerCpu,
        unit: '%',
        baseline: `${(ownerCpu * wall * 10).toFixed(0)} ms of CPU in ${wall.toFixed(1)} s with no edits and no input, after the first frame and ${SETTLE_MS / 1000} s`,
      },
      'owner.launcher_idle_cpu_percent': { value: percent(r.app.launcherPid), unit: '%' },
      'renderer.idle_cpu_percent': {
        value: percent(renderer),
        unit: '%',
        baseline: `frames published meanwhile: ${published}`,
      },
      'renderer.standbys_idle_cpu_percent': {
        value: standbyPercents.reduce((a, b) => a + b, 0),
        unit: '%',
        baseline: `${standbys.length} standbys, the busiest ${percentile(standbyPercents, 100).toFixed(2)} %`,
      },
    });
  } finally {
    await close(r);
  }
} finally {
  await xvfb.stop();
}
process.exit(0);
