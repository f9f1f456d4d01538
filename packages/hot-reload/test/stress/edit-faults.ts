/**
 * Editing faults (issue 11, cases 1 and 2), against an owner in this process while messages flow
 * and frames are sampled: the entry deleted and restored, renamed away and back, swapped for a
 * symlink and then for a file again, its folder renamed away and back; and a save whose top level never returns. Each must end with
 * the last save running, the old renderer presenting throughout, and nothing lost or torn.
 */
import { existsSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeEntry, until, writeEntry } from './fixtures.js';
import { ProcessCensus, readProc } from './procs.js';
import { StressSession } from './session.js';
import { blankRow, type Row } from './table.js';

const RECOVERY_MS = 30_000;
/** Short, so that the stress run does not wait long for each hung start. */
const START_TIMEOUT_MS = 1_000;

export interface EditFaultCounts {
  /** Rounds of (delete, rename, symlink, folder), each a removal of the entry and its return. */
  readonly removals: number;
  readonly hangs: number;
}

export async function editFaults(
  counts: EditFaultCounts,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const { dir, entry } = makeEntry(1);
  // Every process this owner's renderers ever were or started (standbys included): each carries
  // HOTSHM_OWNER_PID. (The esbuild service is this process's own and lives on with it.)
  const census = new ProcessCensus({ name: 'HOTSHM_OWNER_PID', value: String(process.pid) });
  const session = await StressSession.start(entry, undefined, false, {
    startTimeoutMs: START_TIMEOUT_MS,
  });
  const removal = blankRow('entry removed or renamed');
  const hang = blankRow('renderer start hangs');
  const folder = blankRow("entry's folder renamed away and back");
  const notes: string[] = [];
  let revision = 1;
  let closed = false;
  /**
   * Revision `r` runs in a renderer other than `before` (the live one when it was saved), and the
   * supervisor has made it the live one (its reload event). A renderer records its revision as it
   * starts, a moment before it is made live: the revision alone does not say the swap is done.
   */
  const landed = (r: number, before: number | undefined): Promise<boolean | undefined> =>
    until(() => {
      const pid = session.rendererPid;
      return (
        session.state.revision.get() === r &&
        pid !== undefined &&
        pid !== before &&
        session.reloads.at(-1)?.pid === pid
      );
    }, RECOVERY_MS);
  try {
    if ((await session.healthy(60_000)) === undefined)
      throw new Error('the first renderer never drew a frame');
    const kinds = ['delete', 'rename', 'symlink', 'folder'] as const;
    const byKind = { delete: 0, rename: 0, symlink: 0, folder: 0 };
    for (let i = 0; i < counts.removals * kinds.length; i++) {
      const kind = kinds[i % kinds.length]!;
      const row = kind === 'folder' ? folder : removal;
      row.injected++;
      byKind[kind]++;
      const errors = session.buildErrors.length;
      let ok = false;
      if (kind === 'delete') {
        const before = session.rendererPid;
        rmSync(entry);
        const reported = await until(() => session.buildErrors.length > errors, RECOVERY_MS);
        writeEntry(entry, ++revision);
        ok = reported === true && (await landed(revision, before)) === true;
      } else if (kind === 'rename') {
        const before = session.rendererPid;
        const away = `${entry}.away`;
        renameSync(entry, away);
        const reported = await until(() => session.buildErrors.length > errors, RECOVERY_MS);
        writeEntry(away, ++revision);
        renameSync(away, entry);
        ok = reported === true && (await landed(revision, before)) === true;
      } else if (kind === 'folder') {
        // The entry's folder renamed away for a moment and back, as `mv`, an editor's "rename
        // folder" or a git checkout does it: the watcher must see the folder return, so that a
        // save after it reloads (issue 20, item 1: every later save used to be ignored).
        const before = session.rendererPid;
        const away = `${dir}-away`;
        renameSync(dir, away);
        const reported = await until(() => session.buildErrors.length > errors, RECOVERY_MS);
        renameSync(away, dir);
        writeEntry(entry, ++revision);
        ok = reported === true && (await landed(revision, before)) === true;
      } else {
        // A link to a new file, renamed over the entry; then a file renamed over the link.
        const before = session.rendererPid;
        const target = join(dirname(entry), `entry-v${revision + 1}.ts`);
        writeEntry(target, ++revision);
        symlinkSync(target, `${entry}.link`);
        renameSync(`${entry}.link`, entry);
        const viaLink = await landed(revision, before);
        const linked = session.rendererPid;
        writeEntry(`${entry}.file`, ++revision);
        renameSync(`${entry}.file`, entry);
        ok = viaLink === true && (await landed(revision, linked)) === true;
        rmSync(target, { force: true });
      }
      // And a save in place afterwards still lands.
      const restored = session.rendererPid;
      writeEntry(entry, ++revision);
      if (ok && (await landed(revision, restored)) === true) row.survived++;
      else
        log(
          `entry ${kind} #${i + 1}: revision ${session.state.revision.get()} (expected ${revision}); build errors ${session.buildErrors.length - errors}; warnings ${JSON.stringify(session.warnings.slice(-3))}`,
        );
    }
    notes.push(
      `entry removed or renamed: ${byKind.delete} deleted then restored, ${byKind.rename} renamed away and back, ${byKind.symlink} swapped for a symlink then for a file, ${byKind.folder} with its folder renamed away and back (mv); each reported a build error while gone (delete, rename, folder), then ran the restored content, then a save in place`,
    );

    let hungFrames = 0;
    for (let k = 0; k < counts.hangs; k++) {
      hang.injected++;
      const old = session.rendererPid;
      const pidFile = join(dir, `hung-${k}.pid`);
      const crashes = session.crashes.length;
      const hungRevision = ++revision;
      writeFileSync(
        entry,
        [
          "import { writeFileSync } from 'node:fs';",
          `writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));`,
          'for (;;) {}',
          `export async function main(): Promise<void> {}`,
          `export const REVISION = ${hungRevision};`,
          '',
        ].join('\n'),
      );
      const hungPid = await until(
        () =>
          existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) || undefined : undefined,
        RECOVERY_MS,
      );
      const framesAtHang = session.frameCount();
      const reported = await until(
        () =>
          session.crashes
            .slice(crashes)
            .find((c) => c.pid === hungPid && c.phase === 'start' && c.stage === 'timeout'),
        RECOVERY_MS,
      );
      // The old renderer presented while the new one spun.
      const framesDuring = session.frameCount() - framesAtHang;
      hungFrames += framesDuring;
      const stillOld = session.rendererPid === old && old !== undefined;
      writeEntry(entry, ++revision);
      const applied = await landed(revision, old);
      const gone = await until(
        () => hungPid !== undefined && readProc(hungPid) === undefined,
        5_000,
      );
      if (reported && framesDuring > 0 && stillOld && applied && gone) hang.survived++;
      else
        log(
          `hung start #${k + 1}: reported=${JSON.stringify(reported)} frames during=${framesDuring} old kept=${stillOld} (old ${old}, now ${session.rendererPid}) next applied=${String(applied)} hung gone=${String(gone)}; crashes ${JSON.stringify(session.crashes.slice(crashes))}; reloads ${JSON.stringify(session.reloads.slice(-3))}; warnings ${JSON.stringify(session.warnings.slice(-3))}`,
        );
    }
    notes.push(
      `renderer start hangs: ${counts.hangs} saves whose top level never returns, each killed after startTimeoutMs (${START_TIMEOUT_MS} ms) and reported as a start that timed out; the old renderer presented ${hungFrames} frames meanwhile; the next save was applied each time`,
    );

    const acc = await session.settle(RECOVERY_MS);
    const frames = session.frames();
    removal.lost = acc.lost + acc.duplicated + acc.outOfOrder;
    removal.torn = frames.torn + frames.blank;
    notes.push(
      `messages during the editing faults: ${acc.sent} sent, ${acc.acknowledged} acknowledged, ${acc.takenByKilled} taken by a renderer killed or stopped before it could acknowledge, ${acc.duplicated} duplicated, ${acc.outOfOrder} out of order, ${acc.lost} lost; ${frames.samples} front frames sampled, ${frames.torn} torn`,
    );
    const region = session.state.region.name;
    closed = true;
    await session.close();
    // The session's messages, frames, processes and region are counted once, on the first row.
    removal.orphaned = (await census.left(1_000)).left.length;
    notes.push(`processes of its renderers, each waited for after close: ${census.kinds()}`);
    removal.leaked = existsSync(`/dev/shm${region}`) ? 1 : 0;
    return { rows: [removal, folder, hang], notes };
  } finally {
    if (!closed) await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
