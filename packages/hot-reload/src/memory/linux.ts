/**
 * Linux: POSIX shared memory through glibc, which shows regions as files in /dev/shm (tmpfs).
 * Loaded only on Linux; libc is opened the first time a region is used, not at import.
 * Regions are also recorded (records.ts) as on macOS, so that code path runs here too.
 */

import koffi from 'koffi';
import { loadLibc } from '../native/libc.js';
import type { RegionBackend } from './backend.js';
import { createPosixBackend, type PosixConstants, type PosixLibc } from './posix.js';
import { RegionRecords } from './records.js';

/** Values from the Linux UAPI headers (x86_64 and aarch64 agree on all of them). */
export const LINUX_CONSTANTS: PosixConstants = {
  O_RDWR: 0o2,
  O_CREAT: 0o100,
  O_EXCL: 0o200,
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_ANONYMOUS: 0x20,
  MAP_FIXED: 0x10,
  MAP_NORESERVE: 0x4000,
  EEXIST: 17,
  ENOENT: 2,
  ENOSPC: 28,
  EINTR: 4,
};

export const LINUX_SHM_DIRECTORY = '/dev/shm';

function bindLibc(): PosixLibc {
  const libc = loadLibc('linux');
  // shm_open and shm_unlink moved from librt into libc in glibc 2.34; older systems have them
  // only in librt (which then needs libc loaded first, as it is here).
  let shmLib = libc;
  try {
    libc.func('int shm_open(const char *name, int oflag, uint32_t mode)');
  } catch {
    shmLib = koffi.load('librt.so.1');
  }
  const shmOpen = shmLib.func('int shm_open(const char *name, int oflag, uint32_t mode)');
  const shmUnlink = shmLib.func('int shm_unlink(const char *name)');
  const ftruncate = libc.func('int ftruncate(int fd, int64_t length)');
  const fallocate = libc.func('int posix_fallocate(int fd, int64_t offset, int64_t len)');
  const mmap = libc.func(
    'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)',
  );
  const close = libc.func('int close(int fd)');
  const strerror = libc.func('const char *strerror(int errnum)');
  return {
    shmOpen: (name, flags, mode) => shmOpen(name, flags, mode) as number,
    shmUnlink: (name) => shmUnlink(name) as number,
    ftruncate: (fd, length) => ftruncate(fd, length) as number,
    fallocate: (fd, offset, length) => fallocate(fd, offset, length) as number,
    mmap: (address, length, prot, flags, fd, offset) =>
      mmap(address, length, prot, flags, fd, offset) as bigint,
    close: (fd) => close(fd) as number,
    // koffi saves errno right after each call, so this is the errno of the last call above.
    errno: () => koffi.errno(),
    strerror: (errno) => strerror(errno) as string,
  };
}

export interface LinuxBackendOptions {
  /**
   * Find regions by listing /dev/shm (default true). False makes this back end find stale regions
   * the way macOS must, through `records` alone: how the tests run the macOS path for real.
   */
  readonly listShm?: boolean;
  /** Where created regions are recorded (default: this user's directory under os.tmpdir()). */
  readonly records?: RegionRecords;
}

export function loadLinuxBackend(options: LinuxBackendOptions = {}): RegionBackend {
  return createPosixBackend({
    platform: 'linux',
    constants: LINUX_CONSTANTS,
    libc: bindLibc(),
    shmDirectory: (options.listShm ?? true) ? LINUX_SHM_DIRECTORY : undefined,
    records: options.records ?? new RegionRecords(),
  });
}
