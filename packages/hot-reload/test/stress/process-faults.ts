/**
 * Process-lifetime faults, each with owners in processes of their own (test/fixtures/
 * owner-process.ts):
 *
 *   - no-hot exits (issue 11, case 3): an owner whose renderer runs on a worker thread gets a
 *     burst of input and ends right away (closing first, or process.exit() without closing),
 *     again and again, two at a time while another process keeps a core busy. Terminating a
 *     worker inside a koffi call used to kill the owner with SIGSEGV now and then. Every exit
 *     must be code 0, and leave no region and no temporary folder.
 *   - a renderer's grandchildren (issue 11, case 6): the renderer starts `sleep` itself. After a
 *     reload, a crash of the renderer, and the owner's end (exit, SIGTERM, SIGINT, close), no such
 *     process may be left a second later. A SIGKILL of the owner is measured too, and reported
 *     in the notes: nothing in the owner runs then, so the renderer's own children outlive it
 *     until the next owner's start (see the README's limits).
 */

import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { processesRunning, startOwnerProcess, tempDirsOf } from '../fixtures/owners.js';
import { createWorkspace, rendererSource } from '../fixtures/workspace.js';
import { TAG_VAR } from './child.js';
import { until } from './fixtures.js';
import { kindOf, ProcessCensus, readProc } from './procs.js';
import { blankRow, type Row } from './table.js';

const RED = 0xffff0000;
const ORPHAN_LIMIT_MS = 1_000;
const READY_MS = 60_000;

const regionsOf = (pid: number): string[] =>
  readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${pid}-`));

/** An owner process of `ws` and the census of every process it starts (esbuild's service too). */
function tracedOwner(
  ws: Parameters<typeof startOwnerProcess>[0],
  mode: 'hot' | 'nohot',
): { owner: ReturnType<typeof startOwnerProcess>; census: ProcessCensus } {
  const tag = randomBytes(6).toString('hex');
  const owner = startOwnerProcess(ws, mode, { [TAG_VAR]: tag });
  return { owner, census: new ProcessCensus({ name: TAG_VAR, value: tag }, owner.pid) };
}

export async function noHotExits(
  count: number,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const row = blankRow('no-hot exit after input');
  const ws = createWorkspace(rendererSource(RED));
  // Another job on the cores, as when the crash was seen.
  const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  const outcomes: Record<string, number> = {};
  const kinds = new Map<string, number>();
  try {
    for (let i = 0; i < count; i += 2) {
      const pair = [0, 1]
        .filter((j) => i + j < count)
        .map((j) => ({
          command: (i + j) % 2 === 0 ? 'burst-close' : 'burst-exit',
          ...tracedOwner(ws, 'nohot'),
        }));
      try {
        for (const { owner } of pair) await owner.ready;
        for (const { owner, command } of pair) owner.command(command);
        for (const { owner, command, census } of pair) {
          row.injected++;
          const e = await owner.exited;
          // Every process it started (the esbuild service that built the worker's bundle) must be
          // gone within the limit of its end.
          const { left } = await census.left(ORPHAN_LIMIT_MS);
          row.orphaned += left.length;
          for (const p of census.seen) {
            const kind = kindOf(p.command);
            kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          }
          if (left.length > 0) {
            log(
              `no-hot ${command} #${row.injected}: left ${left.map((p) => `${p.pid} ${p.command}`).join('; ')}`,
            );
          }
          const key = e.code !== null ? `exit ${e.code}` : `${e.signal}`;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          if (e.code === 0) row.survived++;
          else log(`no-hot ${command} #${row.injected}: ${key}\n${e.stderr.slice(0, 4000)}`);
          row.leaked += regionsOf(owner.pid).length + tempDirsOf(owner.pid).length;
        }
      } catch (e) {
        log(`no-hot owner failed to start: ${String(e)}`);
      } finally {
        for (const { owner, census } of pair) {
          census.stop();
          owner.proc.kill('SIGKILL');
        }
      }
    }
  } finally {
    hog.kill('SIGKILL');
    ws.remove();
  }
  return {
    rows: [row],
    notes: [
      `no-hot exits: ${row.injected} owners with the renderer on a worker thread, each ending right after 64 messages (half closing first, half calling process.exit() without closing), two at a time beside a busy-looping process: ${Object.entries(
        outcomes,
      )
        .map(([k, n]) => `${n}× ${k}`)
        .join(
          ', ',
        )}; none left a region or a temporary folder (counted as leaked); processes they started, each waited for (counted as orphaned): ${
        [...kinds].map(([k, n]) => `${n} ${k}`).join(', ') || 'none'
      }`,
    ],
  };
}

/** A renderer that starts `sleep 987.<tag>` first: its own child, which must not outlive it. */
function spawning(argv: readonly string[]): string {
  return rendererSource(RED, {
    onStart: `(await import('node:child_process')).spawn(${JSON.stringify(argv[0])}, ${JSON.stringify(argv.slice(1))}, { stdio: 'ignore' });`,
  });
}

const sleepArgv = (): string[] => ['sleep', `987.${randomInt(1e9)}`];

/** Waits up to ORPHAN_LIMIT_MS for `pids` to be gone; returns (and kills) those left. */
async function leftAfter(pids: readonly number[]): Promise<number> {
  await until(() => pids.every((p) => readProc(p) === undefined), ORPHAN_LIMIT_MS, 10);
  const left = pids.filter((p) => readProc(p) !== undefined);
  for (const p of left) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {}
  }
  return left.length;
}

export async function grandchildFaults(
  rounds: number,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const row = blankRow('renderer grandchildren');
  const endings = ['exit', 'SIGTERM', 'SIGINT', 'close'] as const;
  const byEvent: Record<string, number> = {};
  const count = (event: string): void => {
    row.injected++;
    byEvent[event] = (byEvent[event] ?? 0) + 1;
  };
  for (let r = 0; r < rounds; r++) {
    const first = sleepArgv();
    const ws = createWorkspace(spawning(first));
    const { owner, census } = tracedOwner(ws, 'hot');
    try {
      await owner.ready;
      const a = await until(() => processesRunning(first)[0], READY_MS);
      // A reload: the replaced renderer's sleep goes with it.
      const second = sleepArgv();
      ws.writeRenderer(spawning(second));
      count('reload');
      const b = await until(() => processesRunning(second)[0], READY_MS);
      const reloadLeft = a === undefined ? 1 : await leftAfter([a]);
      row.orphaned += reloadLeft;
      if (a !== undefined && b !== undefined && reloadLeft === 0) row.survived++;
      else
        log(`grandchildren, reload #${r + 1}: first sleep ${a}, second ${b}, left ${reloadLeft}`);

      // A crash of the renderer (SIGKILL from outside): its sleep goes, the restart starts another.
      count('renderer crash');
      const renderer = b === undefined ? undefined : readProc(b)?.ppid;
      if (renderer !== undefined) process.kill(renderer, 'SIGKILL');
      const again = await until(() => processesRunning(second).find((p) => p !== b), READY_MS);
      const crashLeft = b === undefined ? 1 : await leftAfter([b]);
      row.orphaned += crashLeft;
      if (renderer !== undefined && again !== undefined && crashLeft === 0) row.survived++;
      else
        log(
          `grandchildren, crash #${r + 1}: renderer ${renderer}, restarted sleep ${again}, left ${crashLeft}`,
        );

      // The owner ends.
      const ending = endings[r % endings.length]!;
      count(`owner ${ending}`);
      const sleeping = processesRunning(second);
      if (ending === 'SIGTERM' || ending === 'SIGINT') owner.proc.kill(ending);
      else owner.command(ending);
      const exit = await owner.exited;
      const expected = ending === 'SIGTERM' || ending === 'SIGINT' ? ending : 0;
      // Every process the owner ever started (renderers, standbys, esbuild, the sleeps).
      const endLeft = (await census.left(ORPHAN_LIMIT_MS)).left.length;
      row.orphaned += endLeft;
      row.leaked += regionsOf(owner.pid).length + tempDirsOf(owner.pid).length;
      if ((exit.code ?? exit.signal) === expected && sleeping.length > 0 && endLeft === 0)
        row.survived++;
      else
        log(
          `grandchildren, owner ${ending} #${r + 1}: exit ${exit.code ?? exit.signal}, sleeps ${sleeping.length}, left ${endLeft}\n${exit.stderr.slice(-1000)}`,
        );
    } catch (e) {
      log(`grandchildren round #${r + 1} failed: ${String(e)}`);
    } finally {
      census.stop();
      owner.proc.kill('SIGKILL');
      ws.remove();
    }
  }

  // Measured, not counted in the row: what a SIGKILL of the owner leaves, and what the next
  // owner's start does about it.
  const argv = sleepArgv();
  const ws = createWorkspace(spawning(argv));
  const owner = startOwnerProcess(ws, 'hot');
  let killNote = 'owner SIGKILL: not measured (the owner did not start)';
  try {
    const info = await owner.ready;
    const sleeping = await until(() => processesRunning(argv)[0], READY_MS);
    owner.proc.kill('SIGKILL');
    await owner.exited;
    await until(() => info.renderer === null || readProc(info.renderer) === undefined, 5_000);
    await until(() => sleeping === undefined || readProc(sleeping) === undefined, ORPHAN_LIMIT_MS);
    const survived = sleeping !== undefined && readProc(sleeping) !== undefined;
    // The next owner's start looks for processes whose environment names a dead owner.
    const next = startOwnerProcess(ws, 'hot');
    await next.ready;
    const reaped = sleeping === undefined || readProc(sleeping) === undefined;
    next.command('close');
    await next.exited;
    killNote = `owner SIGKILL (not in the row): the renderer died with its owner (PR_SET_PDEATHSIG); its own child was ${survived ? 'still running a second later (nothing in the owner runs on SIGKILL, and the kernel does not tell a renderer’s children)' : 'gone within a second (any owner starting on this machine meanwhile stops such processes)'}, and ${reaped ? 'gone after the next owner’s start' : 'still running after the next owner’s start'}`;
  } catch (e) {
    log(`grandchildren after owner SIGKILL: ${String(e)}`);
  } finally {
    owner.proc.kill('SIGKILL');
    for (const p of processesRunning(argv)) process.kill(p, 'SIGKILL');
    ws.remove();
  }
  return {
    rows: [row],
    notes: [
      `renderer grandchildren: a renderer that starts \`sleep\` itself; after ${Object.entries(
        byEvent,
      )
        .map(([k, n]) => `${n}× ${k}`)
        .join(
          ', ',
        )}, no such process was left ${ORPHAN_LIMIT_MS} ms later (each renderer leads its own process group, and the group is signalled)`,
      killNote,
    ],
  };
}
