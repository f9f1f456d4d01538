/**
 * Resource faults, each in an owner process of its own: /dev/shm full (a 1 MiB tmpfs mounted in a
 * private mount namespace), the file-descriptor limit reached (prlimit), and no inotify watch left
 * (a user namespace whose max_inotify_watches is 0, so the machine's own limit is never touched).
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { type OwnerChild, SMALL_SHM, startOwnerChild, TAG_VAR } from './child.js';
import { makeEntry } from './fixtures.js';
import { regionsOf, taggedProcesses } from './procs.js';
import { waitGone } from './renderer-faults.js';
import { blankRow, type Row } from './table.js';

type Msg = Record<string, unknown>;
const find = (c: OwnerChild, t: string): Msg | undefined => c.messages.find((m) => m.t === t);
const err = (m: Msg | undefined): Msg => (m?.error ?? {}) as Msg;

/** Whether `cmd args` runs and exits 0 here (a namespace this machine allows, say). */
export function canRun(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

async function finish(
  c: OwnerChild,
  row: Row,
  passed: (exitCode: number | null) => boolean,
  log: (s: string) => void,
): Promise<void> {
  const exit = await c.exited;
  row.injected++;
  if (passed(exit.code)) row.survived++;
  else log(`${row.fault}: ${JSON.stringify(c.messages)}\n${exit.stderr.slice(-3000)}`);
  row.orphaned += (await waitGone(taggedProcesses(TAG_VAR, c.tag), 1_000)).length;
  row.leaked += regionsOf(c.pid).length;
}

export async function resourceFaults(
  log: (s: string) => void,
): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [];
  const notes: string[] = [];

  // /dev/shm full.
  if (canRun('unshare', ['-m', 'true'])) {
    const { dir, entry } = makeEntry(1);
    const row = blankRow('/dev/shm full');
    const c = startOwnerChild('shm-full', entry, SMALL_SHM);
    await finish(
      c,
      row,
      (code) => {
        const big = find(c, 'big-owner');
        const full = find(c, 'full-create');
        return (
          code === 0 &&
          big?.ok === false &&
          err(big).name === 'RegionSystemError' &&
          /is full/.test(String(err(big).message)) &&
          find(c, 'region-written')?.ok === true &&
          full?.ok === false &&
          err(full).name === 'RegionSystemError' &&
          find(c, 'small-owner')?.ok === true &&
          find(c, 'small-owner')?.torn === 0
        );
      },
      log,
    );
    notes.push(
      `/dev/shm full: State.owner() of a 1024×1024 state in a 1 MiB /dev/shm threw ${String(err(find(c, 'big-owner')).name)}: "${String(err(find(c, 'big-owner')).message)}"; a region made before /dev/shm filled up was written end to end without SIGBUS (its pages were reserved at creation)`,
    );
    rows.push(row);
    rmSync(dir, { recursive: true, force: true });
  } else {
    notes.push('/dev/shm full: skipped, `unshare -m` is not allowed here');
  }

  // File descriptors exhausted.
  {
    const { dir, entry } = makeEntry(1);
    const row = blankRow('file-descriptor limit');
    const c = startOwnerChild('fd-limit', entry, ['prlimit', '--nofile=512:512']);
    await finish(
      c,
      row,
      (code) => {
        const create = find(c, 'create');
        const acc = find(c, 'accounting');
        return (
          code === 0 &&
          create?.ok === false &&
          create.system === true &&
          find(c, 'second-owner')?.ok === false &&
          err(find(c, 'second-owner')).hotshm === true &&
          find(c, 'recovered')?.ok === true &&
          acc?.lost === 0 &&
          acc.duplicated === 0 &&
          acc.torn === 0
        );
      },
      log,
    );
    const acc = find(c, 'accounting');
    row.lost = acc ? Number(acc.lost) + Number(acc.duplicated) : 0;
    row.torn = acc ? Number(acc.torn) + Number(acc.blank) : 0;
    notes.push(
      `file-descriptor limit: with every descriptor taken, createRegion threw ${String(err(find(c, 'create')).name)} ("${String(err(find(c, 'create')).message)}"), a second State.owner() threw ${String(err(find(c, 'second-owner')).name)}; a renderer killed meanwhile came back after the descriptors were released: ${String(find(c, 'recovered')?.ok)}`,
    );
    rows.push(row);
    rmSync(dir, { recursive: true, force: true });
  }

  // inotify watches exhausted.
  if (canRun('unshare', ['-U', '-r', 'sh', '-c', 'echo 0 > /proc/sys/user/max_inotify_watches'])) {
    const { dir, entry } = makeEntry(1);
    const row = blankRow('inotify watch limit');
    let warning: string | undefined;
    const c = startOwnerChild('inotify', entry, [
      'unshare',
      '-U',
      '-r',
      'sh',
      '-c',
      'echo 0 > /proc/sys/user/max_inotify_watches && exec "$@"',
      'sh',
    ]);
    void c.exited.then((e) => {
      warning = /warning: (file watching[^\n]*polling[^\n]*)/.exec(e.stderr)?.[1];
    });
    await finish(
      c,
      row,
      (code) =>
        code === 0 &&
        find(c, 'started')?.ok === true &&
        find(c, 'reloaded')?.ok === true &&
        warning !== undefined,
      log,
    );
    notes.push(
      `inotify watch limit: in a user namespace allowed 0 watches, the supervisor warned "${String(warning)}" and a saved change was still picked up and reloaded: ${String(find(c, 'reloaded')?.ok)}`,
    );
    rows.push(row);
    rmSync(dir, { recursive: true, force: true });
  } else {
    notes.push('inotify watch limit: skipped, user namespaces are not allowed here');
  }
  return { rows, notes };
}
