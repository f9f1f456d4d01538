/**
 * Renderer faults, against an owner in this process: SIGKILL at random moments (while it draws,
 * presents and acknowledges; its standby while it boots; a renderer in its first milliseconds),
 * then an uncaught exception, an endless loop, and a renderer that allocates until it dies.
 * Messages flow and frames are sampled the whole time.
 */
import { existsSync, rmSync } from 'node:fs';
import { makeEntry, sleep, until, writeEntry } from './fixtures.js';
import { ProcessCensus, type ProcInfo, readProc, stillRunning } from './procs.js';
import { StressSession } from './session.js';
import { Fault } from './stress-state.js';
import type { Row } from './table.js';

export interface RendererFaultCounts {
  readonly kills: number;
  /** Each of: uncaught exception, endless loop, allocation until death. */
  readonly each: number;
}

const RECOVERY_MS = 30_000;

export async function rendererFaults(
  counts: RendererFaultCounts,
  log: (s: string) => void,
): Promise<{
  rows: Row[];
  notes: string[];
}> {
  const { dir, entry } = makeEntry(1);
  // Every process this owner's renderers ever were or started (standbys included): each carries
  // HOTSHM_OWNER_PID. (The esbuild service is this process's own and lives on with it.)
  const census = new ProcessCensus({ name: 'HOTSHM_OWNER_PID', value: String(process.pid) });
  const session = await StressSession.start(entry);
  const notes: string[] = [];
  const seen = new Map<number, ProcInfo>();
  const remember = (pid: number | undefined): void => {
    if (pid === undefined || seen.has(pid)) return;
    const info = readProc(pid);
    if (info) seen.set(pid, info);
  };
  const kinds = ['running', 'running', 'standby', 'early'] as const;
  const killRow: Row = {
    fault: 'renderer SIGKILL',
    injected: 0,
    survived: 0,
    lost: 0,
    torn: 0,
    orphaned: 0,
    leaked: 0,
  };
  const byKind: Record<string, number> = { running: 0, standby: 0, early: 0 };
  let revision = 1;
  try {
    if ((await session.healthy(60_000)) === undefined)
      throw new Error('the first renderer never drew a frame');
    for (let i = 0; i < counts.kills; i++) {
      const kind = kinds[i % kinds.length]!;
      const frames = session.frameCount();
      const victim = session.rendererPid;
      remember(victim);
      remember(session.standbyPid);
      if (kind === 'running') {
        // A random moment of its loop: drawing half a frame, presenting, taking or acknowledging.
        await sleep(Math.random() * 40);
        const pid = session.rendererPid;
        if (pid !== undefined) {
          process.kill(pid, 'SIGKILL');
          killRow.injected++;
          byKind.running!++;
        }
      } else if (kind === 'standby') {
        // The warm standby is booting (or idle): kill it, then the renderer, so the restart has to
        // start a fresh process from nothing.
        const spare = await until(() => session.standbyPid, 5_000);
        await sleep(Math.random() * 100);
        if (spare !== undefined && session.standbyPid === spare) {
          process.kill(spare, 'SIGKILL');
          killRow.injected++;
          byKind.standby!++;
        }
        const pid = session.rendererPid;
        if (pid !== undefined) {
          process.kill(pid, 'SIGKILL');
          killRow.injected++;
          byKind.running!++;
        }
      } else {
        // Kill the renderer, then its successor as soon as it is live, before it draws much.
        if (victim !== undefined) {
          process.kill(victim, 'SIGKILL');
          killRow.injected++;
          byKind.running!++;
        }
        const next = await until(
          () => {
            const pid = session.rendererPid;
            return pid !== undefined && pid !== victim ? pid : undefined;
          },
          RECOVERY_MS,
          1,
        );
        if (next !== undefined) {
          remember(next);
          process.kill(next, 'SIGKILL');
          killRow.injected++;
          byKind.early!++;
        }
      }
      const back = await session.healthy(RECOVERY_MS, undefined, frames);
      // Frames counted after the kills came from a renderer started after them.
      if (back !== undefined) killRow.survived = killRow.injected;
      else {
        log(`renderer SIGKILL #${i + 1} (${kind}): no renderer came back within ${RECOVERY_MS} ms`);
        break;
      }
      remember(back);
      if ((i + 1) % 20 === 0) log(`renderer kills: ${i + 1}/${counts.kills}`);
    }
    notes.push(
      `renderer SIGKILLs: ${byKind.running} of live renderers at random moments (mid-frame, mid-present, mid-send), ${byKind.standby} of standbys while booting or warm, ${byKind.early} of renderers in their first milliseconds`,
    );

    const faultRows: Row[] = [];
    for (const [fault, label] of [
      [Fault.Throw, 'renderer uncaught exception'],
      [Fault.Loop, 'renderer endless loop'],
      [Fault.Allocate, 'renderer allocates until it dies'],
    ] as const) {
      const row: Row = {
        fault: label,
        injected: 0,
        survived: 0,
        lost: 0,
        torn: 0,
        orphaned: 0,
        leaked: 0,
      };
      let slowestDeath = 0;
      for (let k = 0; k < counts.each; k++) {
        const victim = await session.healthy(RECOVERY_MS);
        remember(victim);
        const frames = session.frameCount();
        session.state.faults.send(fault);
        row.injected++;
        if (fault === Fault.Loop) {
          // Stuck: no more frames. The owner's loop still runs (this await returns), and a saved
          // change to the renderer's source replaces it.
          for (let f = -1, tries = 0; f !== session.frameCount() && tries < 20; tries++) {
            f = session.frameCount();
            await sleep(300);
          }
          const before = performance.now();
          await sleep(50);
          const lag = Math.max(0, performance.now() - before - 50);
          writeEntry(entry, ++revision);
          const replaced = await until(
            () =>
              session.state.revision.get() === revision &&
              session.rendererPid !== victim &&
              session.frameCount() > frames,
            RECOVERY_MS,
          );
          const gone = await until(
            () => victim === undefined || !stillRunning(seen.get(victim)!),
            5_000,
          );
          if (replaced && gone) row.survived++;
          else log(`endless loop #${k + 1}: replaced=${String(replaced)} old gone=${String(gone)}`);
          if (k === 0)
            notes.push(
              `endless loop: the owner's event loop answered a 50 ms timer ${lag.toFixed(0)} ms late while the renderer spun; the next saved change replaced it`,
            );
        } else {
          const crashesBefore = session.crashes.length;
          const sentAt = performance.now();
          // Generous: V8 may collect for a long while before it gives up at its heap limit.
          const died = await until(
            () => session.crashes.slice(crashesBefore).find((c) => c.pid === victim),
            4 * RECOVERY_MS,
          );
          if (died) slowestDeath = Math.max(slowestDeath, performance.now() - sentAt);
          const back = await session.healthy(RECOVERY_MS, victim, frames);
          if (died && back !== undefined) row.survived++;
          else {
            log(
              `${label} #${k + 1}: victim ${String(victim)} died=${JSON.stringify(died)} back=${String(back)}; crashes ${JSON.stringify(session.crashes.slice(-4))}; reloads ${JSON.stringify(session.reloads.slice(-4))}; warnings ${JSON.stringify(session.warnings.slice(-3))}`,
            );
          }
          if (k === counts.each - 1 && died) {
            notes.push(
              `${label}: the renderer ended with ${died.signal ?? `exit code ${died.code}`} and was restarted (the slowest died ${(slowestDeath / 1000).toFixed(1)} s after the fault was sent)`,
            );
          }
        }
      }
      faultRows.push(row);
    }

    // Every message: acknowledged once, or held by a renderer that was killed.
    const acc = await session.settle(RECOVERY_MS);
    const frames = session.frames();
    log(`messages: ${JSON.stringify(acc)}; frames: ${JSON.stringify(frames)}`);
    const h = acc.handled;
    // A message acknowledged twice by renderers that both lived, or out of order, is a loss in
    // either mode, and so is a 'handled' message missing but for poison: that mode promises that
    // a dying renderer takes nothing away. What a dying renderer took away is each mode's figure
    // (the delivery columns): with 'handled', only poison (two renderers died holding it).
    const lost = acc.lost + acc.duplicated + acc.outOfOrder + h.lost + h.duplicated + h.outOfOrder;
    const kills = killRow.injected + faultRows.reduce((n, r) => n + r.injected, 0);
    killRow.delivery = {
      taken: { sent: acc.sent, lost: acc.takenByKilled, kills },
      handled: { sent: h.sent, lost: h.lost + h.poisoned, kills },
    };
    notes.push(
      `messages with delivery 'handled', sent beside them: ${h.sent} sent, ${h.acknowledged} acknowledged, ${h.redelivered} acknowledged again by the next renderer after the one handling them was killed before it asked for the next (at least once: the next renderer got them), ${h.poisoned} dropped as poison (two renderers died holding them), ${h.duplicated} duplicated otherwise, ${h.outOfOrder} out of order, ${h.lost} lost; per renderer death (${kills}: SIGKILLs and injected crashes), 'taken' lost ${(acc.takenByKilled / Math.max(1, kills)).toFixed(2)}, 'handled' ${((h.lost + h.poisoned) / Math.max(1, kills)).toFixed(2)} (a renderer that replaced another commits nothing until its sends go out, so one killed in its first milliseconds, after handling the backlog, hands it on)`,
    );
    notes.push(
      `messages: ${acc.sent} sent while renderers were killed, ${acc.acknowledged} acknowledged exactly once, ${acc.takenByKilled} taken by a renderer killed (or stopped after it was replaced) before it could acknowledge (not losses: exactly-once ends where a consumer dies after committing), ${acc.duplicated} duplicated, ${acc.outOfOrder} out of order, ${acc.lost} lost`,
      `frames: ${frames.samples} front frames sampled, ${frames.torn} torn, ${frames.blank} samples with no frame after the first`,
    );
    for (const row of [killRow, ...faultRows]) row.torn = 0;
    killRow.lost = lost;
    killRow.torn = frames.torn + frames.blank;
    remember(session.rendererPid);
    remember(session.standbyPid);
    const region = session.state.region.name;
    await session.close();
    // After a clean close: no renderer or standby of this owner left, and no region.
    const orphans = (await census.left(1_000)).left;
    killRow.orphaned = orphans.length;
    notes.push(`processes of its renderers, each waited for after close: ${census.kinds()}`);
    killRow.leaked = existsRegion(region) ? 1 : 0;
    return { rows: [killRow, ...faultRows], notes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function existsRegion(name: string): boolean {
  return existsSync(`/dev/shm${name}`);
}

/** Processes still running `ms` after now; they are killed afterwards so nothing is left behind. */
export async function waitGone(procs: readonly ProcInfo[], ms: number): Promise<ProcInfo[]> {
  await until(() => procs.every((p) => !stillRunning(p)), ms, 10);
  const left = procs.filter(stillRunning);
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  return left;
}
