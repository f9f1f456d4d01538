/**
 * The POSIX back end shared by Linux and macOS: shm_open → ftruncate → (reserve) → mmap → close.
 * The platform modules supply the libc bindings and the constant table; this file holds the
 * order of the calls, the error mapping, and the remap-on-close that keeps stale views safe.
 */

import { fstatSync, readdirSync, statSync } from 'node:fs';
import {
  RegionExistsError,
  RegionNotFoundError,
  RegionNotReadyError,
  RegionSystemError,
} from '../errors.js';
import type { NativeMapping, RegionBackend } from './backend.js';
import { type RegionDiagnostic, type RegionRecords, recordsDiagnostic } from './records.js';

/** Flag and errno values that differ between POSIX systems. */
export interface PosixConstants {
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  readonly PROT_READ: number;
  readonly PROT_WRITE: number;
  readonly MAP_SHARED: number;
  readonly MAP_PRIVATE: number;
  readonly MAP_ANONYMOUS: number;
  readonly MAP_FIXED: number;
  /** 0 where the flag does not exist or means nothing. */
  readonly MAP_NORESERVE: number;
  readonly EEXIST: number;
  readonly ENOENT: number;
  readonly ENOSPC: number;
  readonly EINTR: number;
}

/** The libc calls the back end needs, already bound through koffi by the platform module. */
export interface PosixLibc {
  shmOpen(name: string, flags: number, mode: number): number;
  shmUnlink(name: string): number;
  ftruncate(fd: number, length: number): number;
  /** posix_fallocate: returns the error number itself (it does not set errno). Absent on macOS. */
  fallocate: ((fd: number, offset: number, length: number) => number) | undefined;
  mmap(
    address: bigint | null,
    length: number,
    prot: number,
    flags: number,
    fd: number,
    offset: number,
  ): bigint;
  close(fd: number): number;
  errno(): number;
  strerror(errno: number): string;
}

/** mmap's MAP_FAILED, (void *)-1, as koffi hands it back on 64-bit systems. */
export const MAP_FAILED = 0xffffffffffffffffn;
/** Owner read/write only: other users must not read or scribble on a region. */
export const REGION_MODE = 0o600;

export interface PosixBackendOptions {
  readonly platform: 'linux' | 'darwin';
  readonly constants: PosixConstants;
  readonly libc: PosixLibc;
  /** Where named shm shows up as files (Linux: /dev/shm); undefined where it cannot be listed. */
  readonly shmDirectory: string | undefined;
  /**
   * Where created regions are recorded so stale ones can be found again (records.ts); the only
   * source on macOS, a second one beside /dev/shm on Linux. Undefined: no records.
   */
  readonly records: RegionRecords | undefined;
}

export function createPosixBackend(options: PosixBackendOptions): RegionBackend {
  const { constants: c, libc, platform, shmDirectory, records } = options;

  function record(name: string): RegionDiagnostic[] {
    try {
      records?.add(name);
      return [];
    } catch (error) {
      return [
        recordsDiagnostic(
          `could not record region ${name} (where shared memory cannot be listed, as on macOS, a start after this process is killed will not find it to remove it)`,
          error,
        ),
      ];
    }
  }

  function forget(name: string): void {
    try {
      records?.remove(name);
    } catch {
      // Left for the next stale scan: it drops the record of a region that is gone, or reports
      // the directory it cannot use.
    }
  }

  function fail(syscall: string, errno: number, name: string): never {
    if (errno === c.EEXIST) throw new RegionExistsError(name);
    if (errno === c.ENOENT) throw new RegionNotFoundError(name);
    throw new RegionSystemError(syscall, errno, `${libc.strerror(errno)} (region ${name})`);
  }

  /** Retries a call that returns -1/errno while a signal (SIGCHLD from a child…) interrupts it. */
  function retry(call: () => number): { result: number; errno: number } {
    for (;;) {
      const result = call();
      if (result !== -1) return { result, errno: 0 };
      const errno = libc.errno();
      if (errno !== c.EINTR) return { result, errno };
    }
  }

  function map(fd: number, size: number, name: string): NativeMapping {
    const address = libc.mmap(null, size, c.PROT_READ | c.PROT_WRITE, c.MAP_SHARED, fd, 0);
    if (address === MAP_FAILED || address === null) fail('mmap', libc.errno(), name);
    let released = false;
    return {
      address,
      size,
      release() {
        if (released) return;
        // Never munmap: any ArrayBuffer or typed array still pointing here would kill the process
        // with SIGSEGV on its next access. Instead swap the shared pages for private zero pages in
        // one atomic mmap(MAP_FIXED): the address stays valid (stale views read zeros and their
        // writes go nowhere), the shared pages are released, and MAP_NORESERVE keeps the
        // placeholder from counting against memory until something actually writes to it. The
        // price is address space, never given back for the life of the process.
        const placeholder = libc.mmap(
          address,
          size,
          c.PROT_READ | c.PROT_WRITE,
          c.MAP_PRIVATE | c.MAP_ANONYMOUS | c.MAP_FIXED | c.MAP_NORESERVE,
          -1,
          0,
        );
        if (placeholder === MAP_FAILED || placeholder !== address) {
          // The shared mapping is still in place, which is safe; report rather than munmap.
          const errno = libc.errno();
          throw new RegionSystemError(
            'mmap',
            errno,
            `could not replace region ${name} with a placeholder on close: ${libc.strerror(errno)}`,
          );
        }
        released = true;
      },
    };
  }

  function closeFd(fd: number): void {
    // close() is never retried on EINTR: on Linux the descriptor is gone even then.
    libc.close(fd);
  }

  return {
    platform,

    create(name, size, reserve) {
      const opened = retry(() => libc.shmOpen(name, c.O_RDWR | c.O_CREAT | c.O_EXCL, REGION_MODE));
      if (opened.result < 0) fail('shm_open', opened.errno, name);
      const fd = opened.result;
      // From here on the name is ours: any failure removes it so nothing half-made is left.
      // Recorded first thing, so an owner killed from here on leaves a record to find it by.
      const diagnostics = record(name);
      try {
        const truncated = retry(() => libc.ftruncate(fd, size));
        if (truncated.result < 0) fail('ftruncate', truncated.errno, name);
        if (reserve && libc.fallocate !== undefined) {
          // tmpfs hands out pages lazily: without this a full /dev/shm shows up later as SIGBUS
          // on some write. Reserving now turns it into an error here, at creation.
          let error = libc.fallocate(fd, 0, size);
          while (error === c.EINTR) error = libc.fallocate(fd, 0, size);
          if (error === c.ENOSPC) {
            throw new RegionSystemError(
              'posix_fallocate',
              error,
              `${shmDirectory ?? 'shared memory'} is full: needed ${size} bytes for region ${name} (${libc.strerror(error)})`,
            );
          }
          if (error !== 0) fail('posix_fallocate', error, name);
        }
        return { ...map(fd, size, name), diagnostics };
      } catch (error) {
        libc.shmUnlink(name);
        forget(name);
        throw error;
      } finally {
        // The mapping keeps the memory alive; the descriptor is no longer needed.
        closeFd(fd);
      }
    },

    open(name) {
      const opened = retry(() => libc.shmOpen(name, c.O_RDWR, 0));
      if (opened.result < 0) fail('shm_open', opened.errno, name);
      const fd = opened.result;
      try {
        const { size } = fstatSync(fd);
        // The owner creates the name before it sets the size: seeing 0 means we raced it.
        if (size === 0) throw new RegionNotReadyError(name);
        return map(fd, size, name);
      } finally {
        closeFd(fd);
      }
    },

    unlink(name) {
      if (libc.shmUnlink(name) === 0) {
        forget(name);
        return true;
      }
      const errno = libc.errno();
      // Gone already (another process's cleanup, a reboot on macOS): the record is obsolete too.
      if (errno === c.ENOENT) {
        forget(name);
        return false;
      }
      return fail('shm_unlink', errno, name);
    },

    records,

    listNames() {
      if (shmDirectory === undefined) return undefined;
      const uid = process.getuid?.();
      const names: string[] = [];
      for (const entry of readdirSync(shmDirectory, { withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.startsWith('hotshm-')) continue;
        // Only this user's regions: even root must not clean up after other users.
        if (uid !== undefined) {
          try {
            if (statSync(`${shmDirectory}/${entry.name}`).uid !== uid) continue;
          } catch {
            continue; // removed meanwhile
          }
        }
        names.push(`/${entry.name}`);
      }
      return names;
    },
  };
}
