/**
 * Migration faults (issue 20, item 6), on the supervisor tests' workspace (a state definition and
 * a renderer in a temporary folder, fixtures/workspace.ts): a save of the state definition makes
 * the owner migrate its region to the new layout, and a fault lands while it does.
 *   - A renderer SIGKILLed during a migration (the one the migration is for, or the old one it
 *     stops), seen from /dev/shm: the new region exists and the old one is not gone yet.
 *   - The owner SIGKILLed during a migration (an owner process of its own): within a second no
 *     process it started is left, and the next owner's start removes both regions and runs.
 *   - /dev/shm full when the new region is made (a small tmpfs in a private mount namespace, as
 *     for the resource faults): the old region and its renderer keep running, the error says how
 *     many bytes were needed, and the next save migrates once there is room again.
 *   - A state edit in the middle of a burst of renderer saves: the last save lands, and the
 *     region migrates once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MigrateEvent } from '../../src/index.js';
import { frontPixel, type Owner, openOwner, startOwnerProcess } from '../fixtures/owners.js';
import { createWorkspace, rendererSource, type TempWorkspace } from '../fixtures/workspace.js';
import { SMALL_SHM, startOwnerChild, TAG_VAR } from './child.js';
import { STRESS_SUPERVISOR, sleep, until } from './fixtures.js';
import { ProcessCensus, readProc, regionsOf, taggedProcesses } from './procs.js';
import { waitGone } from './renderer-faults.js';
import { canRun } from './resource-faults.js';
import { blankRow, type Row } from './table.js';

const RECOVERY_MS = 30_000;
const ORPHAN_LIMIT_MS = 1_000;
const COLOUR = 0xff2050a0;

export interface MigrationFaultCounts {
  /** Renderer kills during a migration, and owner kills during one. */
  readonly migrations: number;
  /** Bursts of renderer saves with a state edit in the middle. */
  readonly bursts: number;
}

/**
 * Adds `name: u32` to the workspace state's `memory` struct: a real edit of the definition the
 * renderer imports, which the next build sees as a new layout.
 */
export function addStateField(statePath: string, name: string): void {
  const text = readFileSync(statePath, 'utf8');
  if (!text.includes('last: u32')) throw new Error(`${statePath} has no memory.last`);
  writeFileSync(statePath, text.replace('last: u32', `last: u32, ${name}: u32`));
}

/** The workspace of a renderer at `entry` (fixtures/workspace.ts lays them side by side). */
export function workspaceOf(entry: string): TempWorkspace {
  const dir = dirname(entry);
  return {
    dir,
    statePath: join(dir, 'state.ts'),
    rendererPath: entry,
    writeRenderer: (source) => writeFileSync(entry, source),
    remove: () => {},
  };
}

/** Every pixel of the frame on screen is the same opaque value (none shown yet counts as whole). */
export function frameWhole(owner: Owner): boolean {
  const f = owner.framebuffer.acquireFront();
  try {
    if (f === null) return true;
    const px = f.pixels;
    for (let i = 1; i < px.length; i++) if (px[i] !== px[0]) return false;
    return true;
  } finally {
    owner.framebuffer.releaseFront();
  }
}

/**
 * A renderer that fills the frame with `colour` and counts its starts, and takes 150 ms to end
 * when stopped (it finishes its work first, as an app that saves something may): a migration
 * stops the old renderer before it copies, so this keeps both regions in /dev/shm long enough
 * for a fault to land between the new region's creation and the old one's removal.
 */
const slowToStop = (colour: number): string =>
  rendererSource(colour, {
    onStart: "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 150));",
  });

const saveRenderer = (ws: TempWorkspace, colour: number): void =>
  ws.writeRenderer(slowToStop(colour));

/** /dev/shm names of this process's regions, with their '/'. */
const ownRegions = (): string[] => regionsOf(process.pid).map((n) => `/${n}`);

export async function migrationFaults(
  counts: MigrationFaultCounts,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];
  const r = await inProcess(counts, log);
  rows.push(...r.rows);
  notes.push(...r.notes);
  const o = await ownerKills(counts.migrations, log);
  rows.push(o.row);
  notes.push(o.note);
  const f = await shmFull(log);
  if (f) {
    rows.push(f.row);
    notes.push(f.note);
  } else notes.push('/dev/shm full during a migration: skipped, `unshare -m` is not allowed here');
  return { rows, notes };
}

/** Renderer kills during a migration, then the bursts, against one owner in this process. */
async function inProcess(
  counts: MigrationFaultCounts,
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const killRow = blankRow('renderer SIGKILL during a migration');
  const burstRow = blankRow('state edit during a burst of renderer saves');
  const notes: string[] = [];
  const ws = createWorkspace(slowToStop(COLOUR));
  const census = new ProcessCensus({ name: 'HOTSHM_OWNER_PID', value: String(process.pid) });
  const before = new Set(ownRegions());
  const owner = await openOwner(ws, { host: { ...STRESS_SUPERVISOR } });
  const migrations: MigrateEvent[] = [];
  owner.host.on('migrate', (e) => migrations.push(e));
  const warnings: string[] = [];
  owner.host.on('warning', (e) => warnings.push(e.message));
  const events: string[] = [];
  owner.host.on('crash', (e) =>
    events.push(
      `crash ${e.pid} epoch ${e.epoch} ${e.phase}: ${e.error.message.slice(0, 200)}; restart ${String(e.willRestart)} in ${String(e.restartInMs)}`,
    ),
  );
  owner.host.on('reload', (e) => events.push(`reload ${e.pid} epoch ${e.epoch} ${e.reason}`));
  owner.host.on('build-error', (e) => events.push(`build-error ${e.messages.join(' ')}`));
  const regions = new Set<string>([owner.region.name]);
  let samples = 0;
  let torn = 0;
  const sampler = setInterval(() => {
    samples++;
    if (!frameWhole(owner)) torn++;
  }, 2);
  const byKind = { incoming: 0, outgoing: 0 };
  let missed = 0;
  let fields = 0;
  let value = 0;
  try {
    if ((await until(() => frontPixel(owner) === COLOUR, 60_000)) === undefined)
      throw new Error('the first renderer never drew a frame');
    // Each edit adds a field; the kill lands once the new region exists and before the old one
    // goes (between prepare and release): while the old renderers are being stopped and the
    // values copied. An edit whose migration ended before the kill could land is not counted.
    for (let tries = 0; killRow.injected < counts.migrations && tries < 4 * counts.migrations; ) {
      tries++;
      const kind = killRow.injected % 2 === 0 ? 'incoming' : 'outgoing';
      owner.input.send(++value);
      await until(() => owner.memory.last.get() === value, RECOVERY_MS);
      const from = owner.region.name;
      const done = migrations.length;
      const old = owner.host.rendererPid;
      // The warm standby takes the new build; the migration is for it.
      const incoming = owner.host.mode === 'process' ? owner.host.standbyPid : undefined;
      addStateField(ws.statePath, `f${++fields}`);
      const mid = await until(
        () =>
          migrations.length > done
            ? 'over'
            : ownRegions().some((n) => n !== from && !before.has(n) && !regions.has(n)) &&
              ownRegions().includes(from) &&
              'now',
        RECOVERY_MS,
        1,
      );
      const victim = kind === 'incoming' ? incoming : old;
      let killed = false;
      if (mid === 'now' && victim !== undefined && readProc(victim) !== undefined) {
        try {
          process.kill(victim, 'SIGKILL');
          killed = migrations.length === done;
        } catch {}
      }
      if (!killed) {
        missed++;
        // Let this migration finish before the next edit.
        await until(() => migrations.length > done, RECOVERY_MS);
        for (const m of migrations.slice(done)) regions.add(m.to);
        continue;
      }
      killRow.injected++;
      byKind[kind]++;
      // The state migrated (again, if the kill aborted it), the renderer runs on the new region
      // with the values carried, and takes messages there.
      const landed = await until(
        () =>
          migrations.length > done &&
          owner.region.name === migrations.at(-1)!.to &&
          owner.host.rendererPid !== undefined &&
          owner.host.rendererPid !== victim &&
          frontPixel(owner) === COLOUR,
        RECOVERY_MS,
      );
      for (const m of migrations.slice(done)) regions.add(m.to);
      const carried = owner.memory.last.get() === value;
      if (!carried) killRow.lost++;
      owner.input.send(++value);
      const flows = await until(() => owner.memory.last.get() === value, RECOVERY_MS);
      if (landed && carried && flows) killRow.survived++;
      else
        log(
          `renderer SIGKILL during migration #${killRow.injected} (${kind}): landed=${String(landed)} carried=${String(carried)} flows=${String(flows)}; migrations ${migrations.length - done}; renderer ${owner.host.rendererPid} (old ${old}, killed ${victim}); warnings ${JSON.stringify(warnings.slice(-3))}; events ${JSON.stringify(events.slice(-6))}`,
        );
    }
    notes.push(
      `renderer SIGKILL during a migration: ${byKind.incoming} of the renderer the migration was for, ${byKind.outgoing} of the old renderer it was stopping, each while both regions were in /dev/shm (${missed} edits migrated before the kill could land, not counted); each time the state migrated and the next renderer ran on the new region with the last value carried (counted as lost when not) and took messages`,
    );

    // A burst of renderer saves, 20 ms apart, with a state edit in the middle.
    for (let b = 0; b < counts.bursts; b++) {
      burstRow.injected++;
      const done = migrations.length;
      const saves = 10;
      let last = 0;
      for (let i = 1; i <= saves; i++) {
        last = (0xff000000 | ((b & 0xff) << 16) | (i << 4)) >>> 0;
        saveRenderer(ws, last);
        if (i === saves / 2) addStateField(ws.statePath, `f${++fields}`);
        await sleep(20);
      }
      const shown = await until(
        () =>
          frontPixel(owner) === last &&
          migrations.length > done &&
          owner.region.name === migrations.at(-1)!.to,
        RECOVERY_MS,
      );
      // A second migration would come within a rebuild or two.
      await sleep(500);
      const once = migrations.length - done === 1 && frontPixel(owner) === last;
      for (const m of migrations.slice(done)) regions.add(m.to);
      if (shown && once) burstRow.survived++;
      else
        log(
          `burst #${b + 1}: last save shown=${String(shown)}; migrations ${migrations.length - done}; front ${frontPixel(owner)?.toString(16)} (expected ${last.toString(16)}); warnings ${JSON.stringify(warnings.slice(-3))}`,
        );
      saveRenderer(ws, COLOUR);
      await until(() => frontPixel(owner) === COLOUR, RECOVERY_MS);
    }
    notes.push(
      `state edit during a burst: ${counts.bursts}× ten renderer saves 20 ms apart with the state definition edited after the fifth; each time the last save was on screen and the region had migrated exactly once (migrations counted for 500 ms after)`,
    );
  } finally {
    clearInterval(sampler);
    await owner.close();
    ws.remove();
  }
  killRow.torn = torn;
  notes.push(
    `frames during the migration faults: ${samples} front frames sampled, ${torn} not whole; ${migrations.length} migrations in all`,
  );
  killRow.orphaned = (await census.left(ORPHAN_LIMIT_MS)).left.length;
  // Every region this owner had, the old ones included, is gone after close.
  killRow.leaked = ownRegions().filter((n) => !before.has(n)).length;
  return { rows: [killRow, burstRow], notes };
}

/** Owners in processes of their own, SIGKILLed during a migration. */
async function ownerKills(
  count: number,
  log: (s: string) => void,
): Promise<{ row: Row; note: string }> {
  const row = blankRow('owner SIGKILL during a migration');
  const ws = createWorkspace(slowToStop(COLOUR));
  let missed = 0;
  let fields = 0;
  let tracked = 0;
  const kinds: string[] = [];
  try {
    for (let tries = 0; row.injected < count && tries < 4 * count; tries++) {
      const tag = `migration-${process.pid}-${tries}`;
      const child = startOwnerProcess(ws, 'hot', { [TAG_VAR]: tag });
      const census = new ProcessCensus({ name: TAG_VAR, value: tag }, child.pid);
      const ready = await child.ready.catch((e: Error) => {
        log(`owner for a migration kill: ${e.message.slice(-2000)}`);
        return undefined;
      });
      if (ready === undefined) {
        await census.left(0);
        continue;
      }
      const from = ready.region.slice(1);
      addStateField(ws.statePath, `f${++fields}`);
      const mid = await until(() => {
        const now = regionsOf(child.pid);
        if (!now.includes(from)) return 'over';
        return now.length >= 2 && 'now';
      }, RECOVERY_MS);
      census.look();
      if (mid !== 'now') {
        missed++;
        child.proc.kill('SIGKILL');
        await child.exited;
        await census.left(ORPHAN_LIMIT_MS);
        continue;
      }
      child.proc.kill('SIGKILL');
      row.injected++;
      await child.exited;
      const gone = await census.left(ORPHAN_LIMIT_MS);
      row.orphaned += gone.left.length;
      tracked += census.seen.length;
      kinds.push(census.kinds());
      if (gone.left.length > 0)
        log(
          `owner SIGKILL during migration #${row.injected}: left ${gone.left.map((p) => `${p.pid} ${p.command}`).join('; ')}`,
        );
      // The next start is clean: it removes both regions the dead owner left, runs, and closes.
      const next = startOwnerProcess(ws, 'hot');
      const nextReady = await next.ready.catch((e: Error) => {
        log(`the start after owner SIGKILL during migration: ${e.message.slice(-2000)}`);
        return undefined;
      });
      const left = regionsOf(child.pid);
      row.leaked += left.length;
      next.command('close');
      const exit = await next.exited;
      if (nextReady !== undefined && left.length === 0 && exit.code === 0) row.survived++;
      else
        log(
          `after owner SIGKILL during migration #${row.injected}: next ready=${String(nextReady !== undefined)} regions left ${JSON.stringify(left)} exit ${exit.code ?? exit.signal}`,
        );
    }
  } finally {
    ws.remove();
  }
  return {
    row,
    note: `owner SIGKILL during a migration: ${row.injected} owners killed while both regions were in /dev/shm (${missed} migrated before the kill could land, not counted); ${tracked} processes they had started, each counted (${kinds.join('; ') || 'none'}); the next owner's start removed what each left and closed cleanly`,
  };
}

/** /dev/shm full when the new region is made, in an owner process with a small /dev/shm. */
async function shmFull(log: (s: string) => void): Promise<{ row: Row; note: string } | undefined> {
  if (!canRun('unshare', ['-m', 'true'])) return undefined;
  const row = blankRow('/dev/shm full during a migration');
  const ws = createWorkspace(slowToStop(COLOUR));
  try {
    const c = startOwnerChild('migrate-full', ws.rendererPath, SMALL_SHM);
    const exit = await c.exited;
    const find = (t: string): Record<string, unknown> | undefined =>
      c.messages.find((m) => m.t === t);
    const refused = find('refused');
    const kept = find('kept');
    const after = find('after');
    row.injected = refused === undefined ? 0 : 1;
    const ok =
      exit.code === 0 &&
      refused !== undefined &&
      /needed \d+ bytes/.test(String(refused.message)) &&
      kept?.ok === true &&
      after?.ok === true;
    if (ok) row.survived = 1;
    else
      log(
        `/dev/shm full during a migration: ${JSON.stringify(c.messages)}\n${exit.stderr.slice(-3000)}`,
      );
    row.torn = Number(kept?.torn ?? 0);
    row.orphaned = (await waitGone(taggedProcesses(TAG_VAR, c.tag), ORPHAN_LIMIT_MS)).length;
    row.leaked = regionsOf(c.pid).length;
    return {
      row,
      note: `/dev/shm full during a migration: in a 1 MiB /dev/shm filled up, a save of the state definition was refused with "${String(refused?.message)}"; the old region and renderer ran on (same renderer, frames presented, messages taken: ${String(kept?.ok)}); with room again the next save migrated: ${String(after?.ok)}`,
    };
  } finally {
    ws.remove();
  }
}
