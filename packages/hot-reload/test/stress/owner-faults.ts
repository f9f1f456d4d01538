/**
 * Owner faults: an owner process (with its renderer, standby and esbuild service) is killed with
 * SIGKILL or SIGTERM at a random moment, during its start or while it runs. Within a second no
 * process it ever started may be left (a census of its family: below it, or carrying its tag),
 * and the next owner's start must remove the region it left.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDirsOf } from '../fixtures/owners.js';
import { startOwnerChild, TAG_VAR } from './child.js';
import { makeEntry, sleep } from './fixtures.js';
import { ProcessCensus, regionsOf } from './procs.js';
import { waitGone } from './renderer-faults.js';
import type { Row } from './table.js';

const ORPHAN_LIMIT_MS = 1_000;

export async function ownerFaults(
  count: number,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const { dir: entryDir, entry } = makeEntry(1);
  const rows: Record<'SIGKILL' | 'SIGTERM', Row> = {
    SIGKILL: {
      fault: 'owner SIGKILL',
      injected: 0,
      survived: 0,
      lost: 0,
      torn: 0,
      orphaned: 0,
      leaked: 0,
    },
    SIGTERM: {
      fault: 'owner SIGTERM',
      injected: 0,
      survived: 0,
      lost: 0,
      torn: 0,
      orphaned: 0,
      leaked: 0,
    },
  };
  const dead: { pid: number; signal: 'SIGKILL' | 'SIGTERM'; dirs: string[] }[] = [];
  let beforeReady = 0;
  let slowest = 0;
  let tracked = 0;
  const kinds: string[] = [];
  const verbose = process.env.HOTSHM_STRESS_VERBOSE === '1';
  let startMs = 1500;
  let withFolder = 0;
  for (let i = 0; i < count; i++) {
    const signal = i % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
    const child = startOwnerChild('target', entry);
    const spawnedAt = performance.now();
    const census = new ProcessCensus({ name: TAG_VAR, value: child.tag }, child.pid);
    // A third of the kills land during the start (node booting, region being made, first build,
    // processes being spawned); the rest while it runs.
    const early = i % 3 === 2;
    if (early) {
      await Promise.race([sleep(Math.random() * startMs), child.exited]);
    } else {
      const ready = await child.next('ready');
      if (ready === undefined) {
        log(
          `owner #${i + 1} exited before it was ready: ${(await child.exited).stderr.slice(-2000)}`,
        );
        await census.left(0);
        continue;
      }
      startMs = 0.8 * startMs + 0.2 * (performance.now() - spawnedAt);
      await sleep(Math.random() * 300);
    }
    census.look();
    const wasReady = child.messages.some((m) => m.t === 'ready');
    if (!wasReady) beforeReady++;
    // Its temporary folder is named after it: /tmp/hotshm-<pid>-XXXXXX.
    const dirs = tempDirsOf(child.pid);
    if (dirs.length > 0) withFolder++;
    child.proc.kill(signal);
    rows[signal].injected++;
    const exit = await child.exited;
    // Whatever the family started between the last look and the kill carries the tag.
    const gone = await census.left(ORPHAN_LIMIT_MS, exit.at);
    const late = gone.left;
    slowest = Math.max(slowest, gone.slowestMs);
    tracked += census.seen.length;
    kinds.push(census.kinds());
    if (verbose)
      log(
        `owner #${i + 1} ${signal} ${wasReady ? 'running' : 'starting'}: ${census.seen.length} processes it started (${census.kinds()}; owner pid ${child.pid}), last gone after ${gone.slowestMs.toFixed(0)} ms (${gone.slowest.slice(0, 80)})`,
      );
    if (late.length > 0)
      log(
        `owner #${i + 1} (${signal}): left ${late.map((p) => `${p.pid} ${p.command}`).join('; ')}`,
      );
    rows[signal].orphaned += late.length;
    dead.push({ pid: child.pid, signal, dirs });
    // Survived: the machine is usable by the next owner, which must start and clean up. Checked
    // by the next iteration (and by the final clean start below).
    if ((i + 1) % 10 === 0) log(`owner kills: ${i + 1}/${count}`);
  }
  // The next start cleans what the killed owners left.
  const last = startOwnerChild('clean', entry);
  const ready = await last.next('closed');
  const lastExit = await last.exited;
  const cleanStartOk = ready !== undefined && lastExit.code === 0;
  if (!cleanStartOk)
    log(`the clean start after the owner kills failed: ${lastExit.stderr.slice(-2000)}`);
  let tempDirsLeft = 0;
  for (const d of dead) {
    const left = regionsOf(d.pid);
    // A SIGTERM removes the folder on the way out, a SIGKILL leaves it to the next start: either
    // way none may be left now.
    const leftDirs = tempDirsOf(d.pid);
    rows[d.signal].leaked += left.length + leftDirs.length;
    if (cleanStartOk) rows[d.signal].survived++;
    tempDirsLeft += leftDirs.length;
    // Counted; now removed, so the stress run does not litter /tmp.
    for (const dir of leftDirs) rmSync(join(tmpdir(), dir), { recursive: true, force: true });
  }
  rmSync(entryDir, { recursive: true, force: true });
  const notes = [
    `owner kills: ${count} (${rows.SIGKILL.injected} SIGKILL, ${rows.SIGTERM.injected} SIGTERM), ${beforeReady} of them before the owner's first frame; ${tracked} processes the killed owners had started, each counted (${sumKinds(kinds)}); the slowest was gone ${slowest.toFixed(0)} ms after its owner`,
    `temporary folders (/tmp/hotshm-<pid>-*: the runner, the library build, bundles): ${withFolder} of the killed owners had made one; ${tempDirsLeft} left after the next start (counted as leaked)`,
  ];
  return { rows: [rows.SIGKILL, rows.SIGTERM], notes };
}

/** Adds up `census.kinds()` lines: `3 node, 1 esbuild` + `2 node` → `5 node, 1 esbuild`. */
function sumKinds(lines: readonly string[]): string {
  const total = new Map<string, number>();
  for (const line of lines) {
    for (const part of line.split(', ')) {
      const m = /^(\d+) (.+)$/.exec(part);
      if (m) total.set(m[2]!, (total.get(m[2]!) ?? 0) + Number(m[1]));
    }
  }
  return (
    [...total]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${n} ${k}`)
      .join(', ') || 'none'
  );
}

export { waitGone };
