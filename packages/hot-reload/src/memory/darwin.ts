/**
 * macOS: POSIX shared memory through libSystem. Written from the macOS headers and man pages
 * (shm_open(2), mmap(2), <sys/fcntl.h>, <sys/mman.h>, <sys/errno.h>); loaded only on macOS.
 *
 * Differences from Linux that matter here:
 * - `shm_open(const char *, int, ...)` is variadic: the mode travels as a variadic int. On arm64
 *   variadic arguments go on the stack, not in registers, so declaring a fixed third parameter
 *   would pass garbage as the mode. It is declared with `...` and called with ('int', mode).
 * - There is no posix_fallocate, so creation cannot reserve pages (`reserve` is ignored); memory
 *   pressure then shows up as the kernel's usual paging, not as SIGBUS as on a full tmpfs.
 * - Names are limited to 31 bytes (PSHMNAMLEN); `validateRegionName` enforces that everywhere.
 * - Named shm does not appear in the file system and cannot be listed, so stale regions of dead
 *   owners cannot be found: `listStaleRegions` returns [] here. Each region is small and the
 *   kernel frees it at reboot.
 * - ftruncate on a shm object works once, right after creation, which is all we do.
 * - fstat reports the size rounded up to a page, so `openRegion(...).size` may exceed the size
 *   given to `createRegion`; the header's totalSize holds the exact figure.
 */

import koffi from 'koffi';
import type { RegionBackend } from './backend.js';
import { createPosixBackend, type PosixConstants, type PosixLibc } from './posix.js';

/** Values from the macOS SDK headers (the same on x86_64 and arm64). */
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
  const lib = koffi.load('/usr/lib/libSystem.B.dylib');
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

export function loadDarwinBackend(): RegionBackend {
  return createPosixBackend({
    platform: 'darwin',
    constants: DARWIN_CONSTANTS,
    libc: bindLibc(),
    shmDirectory: undefined,
  });
}
