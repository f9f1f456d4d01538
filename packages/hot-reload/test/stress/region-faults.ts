/**
 * Region faults (issue 11, cases 4 and 5): bytes of the region overwritten by another process,
 * through its file in /dev/shm, while an owner in this process sends messages and samples frames.
 *
 *   - the header: its identity bytes (magic … reserved) or its retired word. The owner must say so
 *     once, write it back, and the next save must still reload.
 *   - ring indices: 64 random bytes over a channel's producer line (its write index), in the ring
 *     the owner writes (`messages`, read by the renderer) or one it reads (the renderer's
 *     acknowledgements). Sending pauses until the rings are empty first, so that nothing real is
 *     in them: afterwards every message must still be accounted for. The owner must keep running
 *     and report the repair; a renderer that meets the damage first dies and is restarted.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, rmSync, writeSync } from 'node:fs';
import { makeEntry, sleep, until, writeEntry } from './fixtures.js';
import { ProcessCensus } from './procs.js';
import { StressSession } from './session.js';
import { StressState } from './stress-state.js';
import { blankRow, type Row } from './table.js';

const RECOVERY_MS = 30_000;
const IDENTITY_BYTES = 64;
const RETIRED_OFFSET = 72;

export interface RegionFaultCounts {
  readonly headers: number;
  readonly rings: number;
}

function scribble(region: string, offset: number, bytes: Uint8Array): void {
  const fd = openSync(`/dev/shm${region}`, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

export async function regionFaults(
  counts: RegionFaultCounts,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const { dir, entry } = makeEntry(1);
  const size = { width: 96, height: 64 };
  // Every process this owner's renderers ever were or started (standbys included): each carries
  // HOTSHM_OWNER_PID. (The esbuild service is this process's own and lives on with it.)
  const census = new ProcessCensus({ name: 'HOTSHM_OWNER_PID', value: String(process.pid) });
  const session = await StressSession.start(entry, size);
  const region = session.state.region.name;
  const layout = StressState.layout(size);
  const offsetOf = (field: string): number => {
    const f = layout.fields.find((g) => g.name === field);
    if (!f) throw new Error(`the stress state has no field ${field}`);
    return f.offset;
  };
  const header = blankRow('region header overwritten');
  const rings = blankRow('ring indices overwritten');
  const notes: string[] = [];
  let revision = 1;
  let closed = false;
  const headerRepairs = (): number => session.repairs.filter((r) => r.part === 'header').length;
  try {
    if ((await session.healthy(60_000)) === undefined)
      throw new Error('the first renderer never drew a frame');

    for (let k = 0; k < counts.headers; k++) {
      header.injected++;
      const before = headerRepairs();
      const what = k % 2 === 0 ? 'identity' : 'retired';
      if (what === 'identity') {
        const bytes = randomBytes(IDENTITY_BYTES);
        bytes[0] = bytes[0]! ^ 0x80; // the magic differs, at least
        scribble(region, 0, bytes);
      } else {
        const word = Buffer.alloc(4);
        word.writeInt32LE(0x7fff0000 + k);
        scribble(region, RETIRED_OFFSET, word);
      }
      const reported = await until(() => headerRepairs() > before, RECOVERY_MS);
      // A new renderer runs the save and the supervisor made it the live one (a renderer records
      // its revision a moment before that).
      const live = session.rendererPid;
      writeEntry(entry, ++revision);
      const reloaded = await until(() => {
        const pid = session.rendererPid;
        return (
          session.state.revision.get() === revision &&
          pid !== undefined &&
          pid !== live &&
          session.reloads.at(-1)?.pid === pid
        );
      }, RECOVERY_MS);
      const acked = session.acknowledged();
      const flowing = await until(() => session.acknowledged() > acked + 50, RECOVERY_MS);
      // Reported once: the owner's next checks (every second) find nothing more.
      await sleep(1_200);
      const once = headerRepairs() === before + 1;
      if (reported && reloaded && flowing && once) header.survived++;
      else
        log(
          `header (${what}) #${k + 1}: reported=${String(reported)} reloaded=${String(reloaded)} messages flow=${String(flowing)} reports=${headerRepairs() - before}; warnings ${JSON.stringify(session.warnings.slice(-3))}`,
        );
    }
    notes.push(
      `region header overwritten: ${counts.headers} times from outside (random identity bytes, or a retired word that would close every renderer's channels); each reported once, written back by the owner, and the next save reloaded`,
    );

    const fields = ['messages', 'acks0', 'acks1'] as const;
    const repairedBy: Record<string, number> = {};
    for (let k = 0; k < counts.rings; k++) {
      rings.injected++;
      const field = fields[k % fields.length]!;
      const quiet = await session.pause(RECOVERY_MS);
      const repairs = session.repairs.length;
      const crashes = session.crashes.length;
      const bytes = randomBytes(64);
      bytes[3] = bytes[3]! | 0x80; // a write index far beyond anything a ring can hold
      scribble(region, offsetOf(field), bytes);
      session.resume();
      const reported = await until(
        () => session.repairs.slice(repairs).some((r) => r.message.includes(field)),
        RECOVERY_MS,
      );
      const acked = session.acknowledged();
      const flowing = await until(() => session.acknowledged() > acked + 50, RECOVERY_MS);
      const healthy = await session.healthy(RECOVERY_MS);
      const restarted = session.crashes.length - crashes;
      repairedBy[field] = (repairedBy[field] ?? 0) + 1;
      if (quiet && reported && flowing && healthy !== undefined) rings.survived++;
      else
        log(
          `ring ${field} #${k + 1}: quiet=${quiet} reported=${String(reported)} flowing=${String(flowing)} healthy=${String(healthy)} renderer restarts=${restarted}; repairs ${JSON.stringify(session.repairs.slice(repairs))}`,
        );
    }
    notes.push(
      `ring indices overwritten: ${counts.rings} times 64 random bytes over a ring's write line (${Object.entries(
        repairedBy,
      )
        .map(([f, n]) => `${n}× ${f}`)
        .join(
          ', ',
        )}); the owner kept running and reported each repair; ${session.crashes.length} renderer restarts (a renderer that meets the damage before the owner repairs it throws and is restarted)`,
    );

    const acc = await session.settle(RECOVERY_MS);
    const frames = session.frames();
    for (const row of [header, rings]) {
      row.lost = acc.lost + acc.duplicated + acc.outOfOrder;
      row.torn = frames.torn + frames.blank;
    }
    notes.push(
      `messages during the region faults: ${acc.sent} sent, ${acc.acknowledged} acknowledged, ${acc.takenByKilled} taken by a renderer killed or stopped before it could acknowledge, ${acc.duplicated} duplicated, ${acc.outOfOrder} out of order, ${acc.lost} lost; ${frames.samples} front frames sampled, ${frames.torn} torn`,
    );
    closed = true;
    await session.close();
    const orphans = (await census.left(1_000)).left.length;
    notes.push(`processes of its renderers, each waited for after close: ${census.kinds()}`);
    header.orphaned = orphans;
    rings.orphaned = orphans;
    const leaked = existsSync(`/dev/shm${region}`) ? 1 : 0;
    header.leaked = leaked;
    rings.leaked = leaked;
    return { rows: [header, rings], notes };
  } finally {
    if (!closed) await session.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
