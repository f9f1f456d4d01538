/**
 * The owner's own record of the regions it created, so that the regions of an owner that died
 * without cleaning up can be found again where the OS cannot list named shared memory (macOS has
 * no /dev/shm). One directory per user, `<os.tmpdir()>/hotshm-regions-<uid>`, mode 0700, and in
 * it one file per region, named after the region without its '/', holding the pid of the process
 * that created it. The POSIX back end writes the record right after `shm_open(O_CREAT|O_EXCL)`
 * succeeds and removes it when it unlinks the name; `removeStaleRegions` reads the records of
 * dead pids and unlinks their regions.
 *
 * It runs on Linux too, beside the /dev/shm listing, so this code is exercised by the Linux tests
 * with real regions and real dead processes, not only on a Mac.
 *
 * Only names of the form `/hotshm-<pid>-<8 hex>` are recorded: those are the only ones stale
 * cleanup ever removes (other names are their creator's business, as on Linux).
 *
 * Security: only this user may add, read or remove records, because a record is a request to
 * unlink a region. The directory must be a real directory (never a symbolic link), owned by this
 * user, with no permission for group or others; anything else is an `UnsafeDirectoryError` and is
 * not used. Files in it are created with O_NOFOLLOW and mode 0600, and a record that is not a
 * regular file owned by this user is ignored. On macOS `os.tmpdir()` is the per-user $TMPDIR
 * (itself 0700); on Linux it is usually the shared, sticky /tmp, where no other user can rename or
 * remove our directory, only squat its name first — then records are refused (with a warning) and
 * the /dev/shm listing still finds stale regions.
 *
 * What it cannot cover: an owner killed between shm_open and the record's write (microseconds),
 * and owners started with different TMPDIRs, which do not see each other's records.
 */

import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnsafeDirectoryError } from '../errors.js';

/** The region names that get a record (and that stale cleanup may remove). */
export const RECORDED_NAME = /^\/hotshm-([1-9][0-9]*)-[0-9a-f]{8}$/;

/** One record: a region name and the pid of the process that created it. */
export interface RegionRecord {
  readonly name: string;
  /** Undefined if the file did not hold a pid (a write cut short); the name's pid still counts. */
  readonly pid: number | undefined;
}

/** The records directory for this user under `base` (default: os.tmpdir()). */
export function recordDirectory(base: string = tmpdir(), uid = process.getuid?.()): string {
  return join(base, `hotshm-regions-${uid ?? 'user'}`);
}

export class RegionRecords {
  readonly directory: string;
  readonly #uid: number | undefined;

  constructor(directory: string = recordDirectory(), uid: number | undefined = process.getuid?.()) {
    this.directory = directory;
    this.#uid = uid;
  }

  /**
   * Records that this process created `name`. Names stale cleanup would never remove are not
   * recorded. Throws UnsafeDirectoryError if the directory is not safe, or the fs error.
   */
  add(name: string, pid: number = process.pid): void {
    if (!RECORDED_NAME.test(name)) return;
    this.#ensureDirectory();
    // O_NOFOLLOW: never write through a link, even one of our own making. O_TRUNC: an old record
    // of this name is obsolete, since O_EXCL has just made the name ours.
    const fd = openSync(
      this.#path(name),
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      writeSync(fd, `${pid}\n`);
    } finally {
      closeSync(fd);
    }
  }

  /** Drops the record of `name`, if there is one. */
  remove(name: string): void {
    if (!RECORDED_NAME.test(name)) return;
    rmSync(this.#path(name), { force: true });
  }

  /**
   * Every record in the directory, or [] if there is no directory yet. Throws
   * UnsafeDirectoryError if the directory exists but is not safe.
   */
  list(): RegionRecord[] {
    if (!this.#checkDirectory(false)) return [];
    const records: RegionRecord[] = [];
    for (const entry of readdirSync(this.directory)) {
      const name = `/${entry}`;
      if (!RECORDED_NAME.test(name)) continue;
      const path = join(this.directory, entry);
      let content: string;
      try {
        const stat = lstatSync(path);
        if (!stat.isFile() || (this.#uid !== undefined && stat.uid !== this.#uid)) continue;
        content = readFileSync(path, 'utf8');
      } catch {
        continue; // removed meanwhile
      }
      const pid = /^[1-9][0-9]*\n?$/.test(content) ? Number(content) : undefined;
      records.push({ name, pid: pid !== undefined && Number.isSafeInteger(pid) ? pid : undefined });
    }
    return records;
  }

  #path(name: string): string {
    return join(this.directory, name.slice(1));
  }

  #ensureDirectory(): void {
    try {
      mkdirSync(this.directory, { mode: 0o700 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    this.#checkDirectory(true);
  }

  /** False if the directory does not exist; throws if it exists and is not safe to use. */
  #checkDirectory(mustExist: boolean): boolean {
    let stat: ReturnType<typeof lstatSync>;
    try {
      // lstat: a symbolic link is judged as a link, not by what it points at.
      stat = lstatSync(this.directory);
    } catch (error) {
      if (!mustExist && (error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    const problem = stat.isSymbolicLink()
      ? 'a symbolic link'
      : !stat.isDirectory()
        ? 'something that is not a directory'
        : this.#uid !== undefined && stat.uid !== this.#uid
          ? `a directory owned by uid ${stat.uid} (this user is ${this.#uid})`
          : (stat.mode & 0o077) !== 0
            ? `mode 0${(stat.mode & 0o777).toString(8)} (chmod 700 it, or remove it)`
            : undefined;
    if (problem !== undefined) throw new UnsafeDirectoryError(this.directory, problem);
    return true;
  }
}

/**
 * Something the region records could not do that did not stop the caller (creating or cleaning
 * up regions must not fail because $TMPDIR is odd): returned to it, for the owner to report as a
 * host `warning` event. `cause` is the error that stopped the records (an UnsafeDirectoryError, a
 * file system error).
 */
export interface RegionDiagnostic {
  readonly code: 'HOTSHM_REGION_RECORDS';
  readonly message: string;
  readonly cause: unknown;
}

export function recordsDiagnostic(what: string, error: unknown): RegionDiagnostic {
  const detail = error instanceof Error ? error.message : String(error);
  return { code: 'HOTSHM_REGION_RECORDS', message: `${what}: ${detail}`, cause: error };
}
