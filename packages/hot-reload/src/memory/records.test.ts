/**
 * Region records: the owner's own list of the regions it created, which is how stale regions are
 * found on macOS (no /dev/shm to list). The same code runs on Linux, so it is tested here with
 * real regions, real owner processes killed with SIGKILL, and a Linux back end that does not list
 * /dev/shm — the way the macOS back end works. On a Mac the same tests drive the macOS back end.
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadPid, RegionTracker, startChildWithEnv } from '../../test/memory-helpers.js';
import { RegionNotFoundError, UnsafeDirectoryError } from '../errors.js';
import type { RegionBackend } from './backend.js';
import { loadDarwinBackend } from './darwin.js';
import { createRegion, unlinkRegion } from './index.js';
import { loadLinuxBackend } from './linux.js';
import { RegionRecords, recordDirectory } from './records.js';
import { removeStaleRegionsOf, staleRegionsOf } from './stale.js';

const isPosix = process.platform === 'linux' || process.platform === 'darwin';
const isRoot = process.getuid?.() === 0;

/** Whether a region of that name exists, asked the way that works on both Linux and macOS. */
function regionExists(backend: RegionBackend, name: string): boolean {
  try {
    backend.open(name).release();
    return true;
  } catch (error) {
    if (error instanceof RegionNotFoundError) return false;
    throw error;
  }
}

let base: string;
const regions = new RegionTracker();
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'hotshm-records-test-'));
});
afterEach(() => {
  regions.cleanup();
  rmSync(base, { recursive: true, force: true });
});

// Records exist only where regions outlive their processes (POSIX); Windows frees them itself.
describe.runIf(isPosix)('the records directory', () => {
  it('is made on first use with mode 0700 whatever the umask, one 0600 file per region', () => {
    const records = new RegionRecords(recordDirectory(base));
    expect(existsSync(records.directory)).toBe(false);
    expect(records.list()).toEqual([]); // reading never creates it
    expect(existsSync(records.directory)).toBe(false);

    const umask = process.umask(0);
    try {
      records.add('/hotshm-4242-0a1b2c3d', 4242);
    } finally {
      process.umask(umask);
    }
    expect(lstatSync(records.directory).mode & 0o777).toBe(0o700);
    const file = join(records.directory, 'hotshm-4242-0a1b2c3d');
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('4242\n');
    expect(records.list()).toEqual([{ name: '/hotshm-4242-0a1b2c3d', pid: 4242 }]);

    records.remove('/hotshm-4242-0a1b2c3d');
    expect(records.list()).toEqual([]);
    records.remove('/hotshm-4242-0a1b2c3d'); // nothing to remove is fine
  });

  it('records only names stale cleanup could remove', () => {
    const records = new RegionRecords(recordDirectory(base));
    records.add('/my-region');
    records.add('/hotshm-12-0A1B2C3D');
    records.add('/hotshm-12-0a1b2c3d');
    expect(records.list().map((r) => r.name)).toEqual(['/hotshm-12-0a1b2c3d']);
  });

  it('refuses a symbolic link, and writes nothing where it points', () => {
    const target = join(base, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    const link = join(base, 'hotshm-regions-link');
    symlinkSync(target, link);
    const records = new RegionRecords(link);
    expect(() => records.add('/hotshm-12-0a1b2c3d')).toThrow(UnsafeDirectoryError);
    expect(() => records.add('/hotshm-12-0a1b2c3d')).toThrow('got a symbolic link');
    expect(() => records.list()).toThrow(UnsafeDirectoryError);
    expect(readdirSync(target)).toEqual([]);
  });

  it('refuses something that is not a directory', () => {
    const path = join(base, 'hotshm-regions-file');
    writeFileSync(path, '');
    expect(() => new RegionRecords(path).add('/hotshm-12-0a1b2c3d')).toThrow(
      'got something that is not a directory',
    );
  });

  it('refuses a directory that group or others may use', () => {
    const path = join(base, 'hotshm-regions-open');
    mkdirSync(path);
    chmodSync(path, 0o755);
    const error = captured(() => new RegionRecords(path).add('/hotshm-12-0a1b2c3d'));
    expect(error).toBeInstanceOf(UnsafeDirectoryError);
    expect(error).toMatchObject({ code: 'HOTSHM_UNSAFE_DIRECTORY', path });
    expect((error as Error).message).toContain('mode 0755');
    expect(readdirSync(path)).toEqual([]);
  });

  it.runIf(isRoot)('refuses a directory owned by another user (needs root to make one)', () => {
    const path = join(base, 'hotshm-regions-other');
    mkdirSync(path, { mode: 0o700 });
    chownSync(path, 65534, 65534);
    expect(() => new RegionRecords(path).add('/hotshm-12-0a1b2c3d')).toThrow(
      'a directory owned by uid 65534 (this user is 0)',
    );
    expect(() => new RegionRecords(path).list()).toThrow(UnsafeDirectoryError);
  });

  it('lists only regular files with our names, owned by this user', () => {
    const records = new RegionRecords(recordDirectory(base));
    records.add('/hotshm-12-0a1b2c3d', 12);
    const dir = records.directory;
    writeFileSync(join(dir, 'not-a-region'), '13\n');
    writeFileSync(join(dir, 'hotshm-14-0a1b2c3d'), 'garbage');
    symlinkSync(join(dir, 'hotshm-12-0a1b2c3d'), join(dir, 'hotshm-15-0a1b2c3d'));
    mkdirSync(join(dir, 'hotshm-16-0a1b2c3d'));
    if (isRoot) {
      writeFileSync(join(dir, 'hotshm-17-0a1b2c3d'), '17\n');
      chownSync(join(dir, 'hotshm-17-0a1b2c3d'), 65534, 65534);
    }
    const listed = records.list().sort((a, b) => a.name.localeCompare(b.name));
    expect(listed).toEqual([
      { name: '/hotshm-12-0a1b2c3d', pid: 12 },
      // A record cut short still names its region: the name's pid decides alone.
      { name: '/hotshm-14-0a1b2c3d', pid: undefined },
    ]);
  });
});

describe.runIf(isPosix)('stale regions found through records alone (the macOS path)', () => {
  /**
   * A back end that finds stale regions only as macOS can, through records in `base`: on Linux,
   * the Linux module told not to list /dev/shm; on a Mac, the macOS module itself.
   */
  function macLike() {
    const records = new RegionRecords(recordDirectory(base));
    const backend =
      process.platform === 'darwin'
        ? loadDarwinBackend({ records })
        : loadLinuxBackend({ listShm: false, records });
    expect(backend.listNames()).toBeUndefined();
    return { backend, records };
  }

  /** A real owner process, its records under `base`, that created `/hotshm-<its pid>-…`. */
  async function owner() {
    const child = startChildWithEnv({ TMPDIR: base }, 'owner', 'auto', 'wait');
    const [word, name = ''] = (await child.line()).split(' ');
    expect(word).toBe('ready');
    regions.add(name);
    expect(name).toMatch(new RegExp(`^/hotshm-${child.process.pid}-[0-9a-f]{8}$`));
    return { child, name, record: join(recordDirectory(base), name.slice(1)) };
  }

  it('a killed owner’s region: found by its record, unlinked, and the record dropped', async () => {
    const { backend } = macLike();
    const { child, name, record } = await owner();
    expect(readFileSync(record, 'utf8')).toBe(`${child.process.pid}\n`);
    child.process.kill('SIGKILL');
    expect(await child.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(existsSync(record)).toBe(true); // SIGKILL: no exit hook ran

    // Only our scan reads these records, so it must find the region. (Another process's /dev/shm
    // scan may unlink the region itself meanwhile; the record stays until our scan.)
    expect(staleRegionsOf(backend).stale).toContain(name);
    const { removed } = removeStaleRegionsOf(backend);
    expect(removed.filter((n) => n !== name)).toEqual([]);
    expect(existsSync(record)).toBe(false);
    expect(regionExists(backend, name)).toBe(false);
    expect(staleRegionsOf(backend).stale).not.toContain(name);
  });

  it('without its record, the same kind of region is invisible to it (records are the source)', async () => {
    const { backend } = macLike();
    const { child, name, record } = await owner();
    child.process.kill('SIGKILL');
    await child.exited;
    rmSync(record);
    expect(staleRegionsOf(backend).stale).not.toContain(name);
  });

  it('keeps a live owner’s region; the owner’s own unlink at exit drops its record', async () => {
    const { backend } = macLike();
    const { child, name, record } = await owner();
    expect(staleRegionsOf(backend).stale).not.toContain(name);
    expect(removeStaleRegionsOf(backend).removed).not.toContain(name);
    expect(regionExists(backend, name)).toBe(true);
    child.send('end');
    expect(await child.exited).toMatchObject({ code: 0 });
    expect(regionExists(backend, name)).toBe(false);
    expect(existsSync(record)).toBe(false);
  });

  it('keeps a region whose name’s pid is dead while the process that created it lives', async () => {
    const { backend, records } = macLike();
    const name = regions.name(await deadPid());
    backend.create(name, 4096, false).release();
    expect(records.list()).toEqual([{ name, pid: process.pid }]);
    expect(staleRegionsOf(backend).stale).not.toContain(name);
    expect(backend.unlink(name)).toBe(true);
    expect(records.list()).toEqual([]);
  });

  it('createRegion and unlinkRegion keep this user’s default records', () => {
    const name = regions.name();
    regions.track(createRegion(name, 4096));
    const record = join(recordDirectory(), name.slice(1));
    expect(readFileSync(record, 'utf8')).toBe(`${process.pid}\n`);
    expect(lstatSync(recordDirectory()).mode & 0o777).toBe(0o700);
    unlinkRegion(name);
    expect(existsSync(record)).toBe(false);
  });

  it('an unsafe records directory is a diagnostic returned with the region; it is still made and nothing is written', () => {
    const target = join(base, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    const link = join(base, 'hotshm-regions-link');
    symlinkSync(target, link);
    const records = new RegionRecords(link);
    const backend =
      process.platform === 'darwin'
        ? loadDarwinBackend({ records })
        : loadLinuxBackend({ records });
    // Nothing goes out as a process warning any more: the caller gets it.
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning);
    };
    process.on('warning', onWarning);
    try {
      const name = regions.name();
      const mapping = backend.create(name, 4096, false);
      mapping.release();
      expect(regionExists(backend, name)).toBe(true);
      expect(readdirSync(target)).toEqual([]);
      expect(mapping.diagnostics).toHaveLength(1);
      const [diagnostic] = mapping.diagnostics ?? [];
      expect(diagnostic).toMatchObject({ code: 'HOTSHM_REGION_RECORDS' });
      expect(diagnostic?.cause).toBeInstanceOf(UnsafeDirectoryError);
      expect(diagnostic?.message).toContain(`could not record region ${name}`);
      expect(diagnostic?.message).toContain('symbolic link');
      // The stale scan cannot read the same directory: it says so, and still scans /dev/shm.
      const scan = staleRegionsOf(backend);
      expect(scan.diagnostics).toHaveLength(1);
      expect(scan.diagnostics[0]?.message).toContain('could not read the region records');
      expect(scan.diagnostics[0]?.cause).toBeInstanceOf(UnsafeDirectoryError);
      expect(removeStaleRegionsOf(backend).diagnostics).toHaveLength(1);
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('a region made with records that work has no diagnostics', () => {
    const region = regions.track(createRegion(regions.name(), 4096));
    expect(region.diagnostics).toEqual([]);
    region.close();
  });
});

function captured(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error, got none');
}
