/**
 * macOS: POSIX shared memory through libSystem. Written from XNU's headers and sources
 * (bsd/sys/fcntl.h, bsd/sys/mman.h, bsd/sys/errno.h, bsd/sys/posix_shm.h, bsd/kern/posix_shm.c,
 * bsd/kern/kern_mman.c; each value is checked against the header line in darwin.test.ts) and the
 * shm_open(2) and mmap(2) man pages; loaded only on macOS, and never run by this project's own CI
 * (the GitHub workflow's macOS runner is where it first can).
 *
 * Differences from Linux that matter here:
 * - The open flags differ: O_CREAT is 0x200 and O_EXCL 0x800 (Linux: 0o100 and 0o200); MAP_ANON
 *   is 0x1000 (Linux: 0x20). A Linux value here would silently mean another flag.
 * - `shm_open(const char *, int, ...)` is variadic: the mode travels as a variadic int. On arm64
 *   variadic arguments go on the stack, not in registers, so declaring a fixed third parameter
 *   would pass garbage as the mode. It is declared with `...` and called with ('int', mode).
 *   The kernel keeps the mode as given (`cmode &= ALLPERMS`, no umask), so regions are 0600.
 * - There is no posix_fallocate, so creation cannot reserve pages (`reserve` is ignored); memory
 *   pressure then shows up as the kernel's usual paging, not as SIGBUS as on a full tmpfs.
 * - Names are at most PSHMNAMLEN (31) bytes, the leading '/' included (the kernel copies at most
 *   32 bytes with the NUL, ENAMETOOLONG past it); `validateRegionName` enforces that everywhere.
 * - Named shm does not appear in the file system and cannot be listed, so the owner records
 *   each region it creates in a private directory (records.ts) and `removeStaleRegions` reads
 *   those records to find the regions of dead owners.
 * - ftruncate on a shm object works once, right after creation ("We only allow one ftruncate()
 *   per lifetime of the shm object", posix_shm.c), which is all we do.
 * - fstat reports the size rounded up to a page (16 KiB on Apple silicon), so
 *   `openRegion(...).size` may exceed the size given to `createRegion`; the header's totalSize
 *   holds the exact figure.
 * - MAP_NORESERVE (0x40) is accepted and ignored by XNU's mmap: the table leaves it out.
 */

import koffi from 'koffi';
import { loadLibc } from '../native/libc.js';
import type { RegionBackend } from './backend.js';
import { createPosixBackend, type PosixConstants, type PosixLibc } from './posix.js';
import { RegionRecords } from './records.js';

/** Values from XNU's headers (the same on x86_64 and arm64); darwin.test.ts names each line. */
export const DARWIN_CONSTANTS: PosixConstants = {
  O_RDWR: 0x0002,
  O_CREAT: 0x0200,
  O_EXCL: 0x0800,
  PROT_READ: 0x1,
  PROT_WRITE: 0x2,
  MAP_SHARED: 0x0001,
  MAP_PRIVATE: 0x0002,
  MAP_ANONYMOUS: 0x1000, // MAP_ANON
  MAP_FIXED: 0x0010,
  // MAP_NORESERVE (0x40) is accepted but ignored by XNU: leave it out.
  MAP_NORESERVE: 0,
  EEXIST: 17,
  ENOENT: 2,
  ENOSPC: 28,
  EINTR: 4,
};

function bindLibc(): PosixLibc {
  const lib = loadLibc('darwin');
  const shmOpen = lib.func('int shm_open(const char *name, int oflag, ...)');
  const shmUnlink = lib.func('int shm_unlink(const char *name)');
  const ftruncate = lib.func('int ftruncate(int fd, int64_t length)');
  const mmap = lib.func(
    'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)',
  );
  const close = lib.func('int close(int fd)');
  const strerror = lib.func('const char *strerror(int errnum)');
  return {
    // Variadic call: koffi takes a (type, value) pair for each variadic argument.
    shmOpen: (name, flags, mode) => shmOpen(name, flags, 'int', mode) as number,
    shmUnlink: (name) => shmUnlink(name) as number,
    ftruncate: (fd, length) => ftruncate(fd, length) as number,
    fallocate: undefined,
    mmap: (address, length, prot, flags, fd, offset) =>
      mmap(address, length, prot, flags, fd, offset) as bigint,
    close: (fd) => close(fd) as number,
    errno: () => koffi.errno(),
    strerror: (errno) => strerror(errno) as string,
  };
}

export interface DarwinBackendOptions {
  /** Where created regions are recorded (default: this user's directory under $TMPDIR). */
  readonly records?: RegionRecords;
}

export function loadDarwinBackend(options: DarwinBackendOptions = {}): RegionBackend {
  return createPosixBackend({
    platform: 'darwin',
    constants: DARWIN_CONSTANTS,
    libc: bindLibc(),
    // Named shm cannot be listed on macOS: the records are the only way back to a dead owner's.
    shmDirectory: undefined,
    records: options.records ?? new RegionRecords(),
  });
}
