/**
 * An owner in its own process, for the faults that need one: the harness kills it (owner
 * faults), or runs it with a full /dev/shm, a low file-descriptor limit, or no inotify watches
 * (resource faults). It reports on stdout, one JSON object per line.
 *
 *   node --import tsx owner-child.ts <mode> <entry>
 */
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { HotshmError } from '@hotshm/hot-reload';
import { RegionSystemError } from '@hotshm/hot-reload/errors';
import { createRegion, newRegionName } from '@hotshm/hot-reload/memory';
import { frontPixel, openOwner } from '../fixtures/owners.js';
import { STRESS_SUPERVISOR, sleep, until, writeEntry } from './fixtures.js';
import { addStateField, frameWhole, workspaceOf } from './migration-faults.js';
import { StressSession } from './session.js';
import { StressState } from './stress-state.js';

const [mode, entry] = process.argv.slice(2) as [string, string];
const say = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};
const describeError = (e: unknown): Record<string, unknown> => ({
  name: e instanceof Error ? e.name : typeof e,
  code: (e as { code?: unknown }).code,
  hotshm: e instanceof HotshmError,
  message: e instanceof Error ? e.message : String(e),
});

async function target(): Promise<void> {
  // Killed by the harness at a random moment: before, during or after this start.
  const session = await StressSession.start(entry);
  await session.healthy(60_000);
  say({
    t: 'ready',
    region: session.state.region.name,
    renderer: session.rendererPid,
    standby: session.standbyPid,
  });
  // Keep sending and sampling until killed.
  await new Promise(() => {});
}

async function clean(): Promise<void> {
  // The next start after owners died: it must remove what they left, then leave nothing itself.
  const session = await StressSession.start(entry);
  await session.healthy(60_000);
  say({ t: 'ready', region: session.state.region.name });
  await session.close();
  say({ t: 'closed' });
}

async function shmFull(): Promise<void> {
  // Runs with a 1 MiB tmpfs on /dev/shm (private mount namespace).
  try {
    await StressState.owner({ width: 1024, height: 1024 }, { hot: true, entry, log: false });
    say({ t: 'big-owner', ok: true });
  } catch (e) {
    say({ t: 'big-owner', ok: false, error: describeError(e) });
  }
  // A region that fits has every page reserved: filling the rest of /dev/shm afterwards cannot
  // take them away, so writing all of it is fine (without the reservation: SIGBUS).
  const region = createRegion(newRegionName(), 512 * 1024);
  let filled = 0;
  try {
    for (;;) {
      writeFileSync(`/dev/shm/stress-filler-${filled}`, Buffer.alloc(64 * 1024, 1));
      filled++;
    }
  } catch (e) {
    say({ t: 'filled', chunks: filled, code: (e as NodeJS.ErrnoException).code });
  }
  const bytes = new Uint8Array(region.buffer);
  bytes.fill(0xab);
  let sum = 0;
  for (const b of bytes) sum += b;
  say({ t: 'region-written', ok: sum === 0xab * bytes.length });
  // Still full: a new region is a clear error at creation.
  try {
    createRegion(newRegionName(), 256 * 1024);
    say({ t: 'full-create', ok: true });
  } catch (e) {
    say({ t: 'full-create', ok: false, error: describeError(e) });
  }
  region.unlink();
  region.close();
  for (let i = 0; i < filled + 1; i++) rmSync(`/dev/shm/stress-filler-${i}`, { force: true });
  // With room again, a whole owner with its renderer works in the same small /dev/shm.
  const session = await StressSession.start(entry, { width: 64, height: 64 });
  const pid = await session.healthy(60_000);
  say({ t: 'small-owner', ok: pid !== undefined, torn: session.frames().torn });
  await session.close();
}

async function fdLimit(): Promise<void> {
  // Runs under `prlimit --nofile=…`: the owner works, then every descriptor is taken.
  const session = await StressSession.start(entry);
  const first = await session.healthy(60_000);
  say({ t: 'started', ok: first !== undefined });
  const fds: number[] = [];
  try {
    for (;;) fds.push(openSync('/dev/null', 'r'));
  } catch (e) {
    say({ t: 'exhausted', fds: fds.length, code: (e as NodeJS.ErrnoException).code });
  }
  try {
    const r = createRegion(newRegionName(), 4096);
    r.unlink();
    r.close();
    say({ t: 'create', ok: true });
  } catch (e) {
    say({
      t: 'create',
      ok: false,
      system: e instanceof RegionSystemError,
      error: describeError(e),
    });
  }
  try {
    const other = await StressState.owner(
      { width: 8, height: 8 },
      { hot: true, entry, log: false },
    );
    say({ t: 'second-owner', ok: true });
    await other.close();
  } catch (e) {
    say({ t: 'second-owner', ok: false, error: describeError(e) });
  }
  // The renderer dies while no descriptor is free: the restart cannot spawn yet.
  const victim = session.rendererPid;
  if (victim !== undefined) process.kill(victim, 'SIGKILL');
  await sleep(1500);
  const frames = session.frameCount();
  for (const fd of fds) closeSync(fd);
  say({ t: 'released' });
  const back = await session.healthy(15_000, victim, frames);
  say({
    t: 'recovered',
    ok: back !== undefined,
    warnings: session.warnings,
    crashes: session.crashes.length,
  });
  const acc = await session.settle(20_000);
  say({ t: 'accounting', ...acc, ...session.frames() });
  await session.close();
}

async function inotify(): Promise<void> {
  // Runs in a user namespace whose inotify watch limit is 0: chokidar fails with ENOSPC.
  // The fallback is announced while owner() starts, before a listener can be attached: the
  // supervisor's own report (stderr) is where it shows; the harness reads it there.
  const session = await StressSession.start(entry, undefined, true);
  const first = await session.healthy(60_000);
  say({ t: 'started', ok: first !== undefined, warnings: session.warnings });
  // Give the polling watcher its first scan, then make a real change to the renderer's source.
  await sleep(500);
  const reloadsBefore = session.reloads.length;
  writeEntry(entry, 2);
  const reloaded = await until(
    () =>
      session.reloads.slice(reloadsBefore).find((r) => r.reason === 'change') &&
      session.state.revision.get() === 2,
    20_000,
    20,
  );
  say({ t: 'reloaded', ok: reloaded === true, revision: session.state.revision.get() });
  await session.close();
}

async function migrateFull(): Promise<void> {
  // Runs with a 1 MiB tmpfs on /dev/shm (private mount namespace), on the workspace of `entry`:
  // /dev/shm is filled up, then the state definition is edited, so the new region cannot be made.
  const ws = workspaceOf(entry);
  const owner = await openOwner(ws, { host: { ...STRESS_SUPERVISOR } });
  const warnings: string[] = [];
  owner.host.on('warning', (e) => warnings.push(e.message));
  let migrations = 0;
  owner.host.on('migrate', () => migrations++);
  const colour = await until(() => frontPixel(owner), 60_000);
  const renderer = owner.host.rendererPid;
  const region = owner.region.name;
  say({ t: 'started', ok: colour !== undefined, region });
  let filled = 0;
  try {
    for (;;) {
      writeFileSync(`/dev/shm/stress-filler-${filled}`, Buffer.alloc(4096, 1));
      filled++;
    }
  } catch (e) {
    say({ t: 'filled', chunks: filled, code: (e as NodeJS.ErrnoException).code });
  }
  addStateField(ws.statePath, 'wide');
  const refused = await until(() => warnings.find((w) => /could not migrate/.test(w)), 20_000);
  say({ t: 'refused', message: refused, migrations });
  // The old region and renderer run on: same renderer and region, its frame on screen, and it
  // takes a message.
  owner.input.send(42);
  const took = await until(() => owner.memory.last.get() === 42, 10_000);
  say({
    t: 'kept',
    ok:
      refused !== undefined &&
      migrations === 0 &&
      owner.host.rendererPid === renderer &&
      owner.region.name === region &&
      frontPixel(owner) === colour &&
      took === true,
    torn: frameWhole(owner) ? 0 : 1,
  });
  for (let i = 0; i <= filled; i++) rmSync(`/dev/shm/stress-filler-${i}`, { force: true });
  // With room again, the next save of the definition migrates, the value carried.
  addStateField(ws.statePath, 'wider');
  const migrated = await until(
    () => migrations === 1 && frontPixel(owner) === colour && owner.region.name !== region,
    20_000,
  );
  say({ t: 'after', ok: migrated === true && owner.memory.last.get() === 42 });
  await owner.close();
}

const modes: Record<string, () => Promise<void>> = {
  target,
  clean,
  'shm-full': shmFull,
  'fd-limit': fdLimit,
  inotify,
  'migrate-full': migrateFull,
};
const run = modes[mode];
if (!run) {
  say({ t: 'error', error: `unknown mode ${mode}` });
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (e: unknown) => {
    say({ t: 'error', error: describeError(e), stack: e instanceof Error ? e.stack : undefined });
    process.exit(1);
  },
);
