/**
 * The macOS region module cannot run here; what it passes to the kernel can still be checked.
 * Every flag and errno in its table is compared with the XNU header line that defines it (quoted
 * with file and line in test/xnu-headers.ts), and on a Mac also with what Node was compiled with.
 */
import { constants as fs } from 'node:fs';
import { constants as os } from 'node:os';
import { describe, expect, it } from 'vitest';
import { headerRef, headerValue, type XnuName } from '../../test/xnu-headers.js';
import { MAX_NAME_LENGTH, validateRegionName } from './backend.js';
import { DARWIN_CONSTANTS } from './darwin.js';
import { LINUX_CONSTANTS } from './linux.js';
import type { PosixConstants } from './posix.js';

// Which header constant each entry of the module's table must equal.
const FROM_HEADER: readonly [keyof PosixConstants, XnuName][] = [
  ['O_RDWR', 'O_RDWR'],
  ['O_CREAT', 'O_CREAT'],
  ['O_EXCL', 'O_EXCL'],
  ['PROT_READ', 'PROT_READ'],
  ['PROT_WRITE', 'PROT_WRITE'],
  ['MAP_SHARED', 'MAP_SHARED'],
  ['MAP_PRIVATE', 'MAP_PRIVATE'],
  ['MAP_FIXED', 'MAP_FIXED'],
  ['MAP_ANONYMOUS', 'MAP_ANON'], // mman.h: #define MAP_ANONYMOUS MAP_ANON
  ['EEXIST', 'EEXIST'],
  ['ENOENT', 'ENOENT'],
  ['ENOSPC', 'ENOSPC'],
  ['EINTR', 'EINTR'],
];

describe('macOS region constants against XNU headers', () => {
  it.each(FROM_HEADER)('%s is %s as defined at its header line', (key, name) => {
    expect(DARWIN_CONSTANTS[key], `${key} vs ${headerRef(name)}`).toBe(headerValue(name));
  });

  it('every entry of the table is checked against a header, except MAP_NORESERVE', () => {
    const checked = new Set<string>(FROM_HEADER.map(([key]) => key));
    const unchecked = Object.keys(DARWIN_CONSTANTS).filter((key) => !checked.has(key));
    expect(unchecked).toEqual(['MAP_NORESERVE']);
  });

  it(`MAP_NORESERVE is left out on purpose (${headerRef('MAP_NORESERVE')} defines it, kern_mman.c accepts and ignores it)`, () => {
    expect(headerValue('MAP_NORESERVE')).toBe(0x40);
    expect(DARWIN_CONSTANTS.MAP_NORESERVE).toBe(0);
  });

  it(`names are limited to PSHMNAMLEN (${headerRef('PSHMNAMLEN')}) bytes, the '/' included`, () => {
    // posix_shm.c copies at most PSHMNAMLEN + 1 bytes, the terminating NUL included.
    expect(MAX_NAME_LENGTH).toBe(headerValue('PSHMNAMLEN'));
    expect(() => validateRegionName(`/${'a'.repeat(headerValue('PSHMNAMLEN') - 1)}`)).not.toThrow();
    expect(() => validateRegionName(`/${'a'.repeat(headerValue('PSHMNAMLEN'))}`)).toThrow(
      'at most 31 characters',
    );
  });

  it('the flags where a Linux value would silently mean something else do differ', () => {
    // On macOS, Linux's O_CREAT (0o100 = 0x40) is O_ASYNC (bsd/sys/fcntl.h:123), Linux's O_EXCL
    // (0o200 = 0x80) is O_SYNC, and Linux's MAP_ANONYMOUS (0x20) is MAP_RENAME (bsd/sys/mman.h:121).
    for (const key of ['O_CREAT', 'O_EXCL', 'MAP_ANONYMOUS'] as const) {
      expect(DARWIN_CONSTANTS[key], key).not.toBe(LINUX_CONSTANTS[key]);
    }
  });

  // On a Mac (the GitHub workflow's macOS runner) Node's own constants come from the SDK's
  // public headers: a third, independent source for everything but the private ones.
  it.runIf(process.platform === 'darwin')('matches what Node was compiled with on this Mac', () => {
    expect(DARWIN_CONSTANTS).toMatchObject({
      O_RDWR: fs.O_RDWR,
      O_CREAT: fs.O_CREAT,
      O_EXCL: fs.O_EXCL,
      EEXIST: os.errno.EEXIST,
      ENOENT: os.errno.ENOENT,
      ENOSPC: os.errno.ENOSPC,
      EINTR: os.errno.EINTR,
    });
  });
});
