import { constants as fs } from 'node:fs';
import { constants as os } from 'node:os';
import { describe, expect, it } from 'vitest';
import { UnsupportedPlatformError } from '../errors.js';
import { MAX_NAME_LENGTH, validateRegionName, validateRegionSize } from './backend.js';
import { loadDarwinBackend } from './darwin.js';
import { LINUX_CONSTANTS, loadLinuxBackend } from './linux.js';
import { currentBackend, selectBackend } from './platform.js';
import { MAP_FAILED, REGION_MODE } from './posix.js';
import { loadWindowsBackend, splitSize, toWindowsName } from './windows.js';

describe('platform selection', () => {
  it('picks one module per supported platform', () => {
    expect(selectBackend('linux')).toEqual({ platform: 'linux', load: loadLinuxBackend });
    expect(selectBackend('darwin')).toEqual({ platform: 'darwin', load: loadDarwinBackend });
    expect(selectBackend('win32')).toEqual({ platform: 'win32', load: loadWindowsBackend });
  });

  it.each(['freebsd', 'aix', 'android', ''])('refuses %j with UnsupportedPlatformError', (p) => {
    expect(() => selectBackend(p)).toThrow(UnsupportedPlatformError);
    expect(() => selectBackend(p)).toThrow(
      `shared memory regions is not supported on ${p}: expected linux, darwin or win32`,
    );
  });

  it('loads the module of this platform, once', () => {
    const backend = currentBackend();
    expect(backend.platform).toBe(process.platform);
    expect(currentBackend()).toBe(backend);
  });
});

describe('constant tables', () => {
  // On the platform the tests run on, the table must agree with what Node itself was built with.
  it.runIf(process.platform === 'linux')('Linux values match this system', () => {
    expect(LINUX_CONSTANTS).toMatchObject({
      EEXIST: os.errno.EEXIST,
      ENOENT: os.errno.ENOENT,
      ENOSPC: os.errno.ENOSPC,
      EINTR: os.errno.EINTR,
    });
    expect(LINUX_CONSTANTS.O_RDWR).toBe(fs.O_RDWR);
    expect(LINUX_CONSTANTS.O_CREAT).toBe(fs.O_CREAT);
    expect(LINUX_CONSTANTS.O_EXCL).toBe(fs.O_EXCL);
  });

  it('Linux flags are the UAPI values', () => {
    expect(LINUX_CONSTANTS).toEqual({
      O_RDWR: 2,
      O_CREAT: 0o100,
      O_EXCL: 0o200,
      PROT_READ: 1,
      PROT_WRITE: 2,
      MAP_SHARED: 1,
      MAP_PRIVATE: 2,
      MAP_ANONYMOUS: 0x20,
      MAP_FIXED: 0x10,
      MAP_NORESERVE: 0x4000,
      EEXIST: 17,
      ENOENT: 2,
      ENOSPC: 28,
      EINTR: 4,
    });
  });

  // macOS values are checked against the XNU header lines that define them in darwin.test.ts.

  // The Windows values are checked by running them: scripts/windows-lane.mjs (test/windows/
  // memory.check.ts) reaches each error code through the OS and sizes a view with VirtualQuery.

  it('POSIX shared values', () => {
    expect(MAP_FAILED).toBe(2n ** 64n - 1n);
    expect(REGION_MODE).toBe(0o600);
  });
});

describe('Windows name and size translation', () => {
  it('puts the POSIX name in the session-local namespace', () => {
    expect(toWindowsName('/hotshm-1234-0a1b2c3d')).toBe('Local\\hotshm-1234-0a1b2c3d');
  });

  it('splits a size into the two DWORDs CreateFileMappingW takes', () => {
    expect(splitSize(4096)).toEqual({ high: 0, low: 4096 });
    expect(splitSize(2 ** 32 - 1)).toEqual({ high: 0, low: 2 ** 32 - 1 });
    expect(splitSize(2 ** 32)).toEqual({ high: 1, low: 0 });
  });
});

describe('name and size rules', () => {
  it('accepts the longest portable name and refuses one more character', () => {
    const longest = `/${'a'.repeat(MAX_NAME_LENGTH - 1)}`;
    expect(() => validateRegionName(longest)).not.toThrow();
    expect(() => validateRegionName(`${longest}a`)).toThrow('at most 31 characters');
  });

  it('accepts every allowed character', () => {
    expect(() => validateRegionName('/Az09._-')).not.toThrow();
    expect(() => validateRegionName('/a\\b')).toThrow('[A-Za-z0-9._-]');
    expect(() => validateRegionName('/é')).toThrow('[A-Za-z0-9._-]');
  });

  it('sizes: 1 byte to 4 GiB', () => {
    expect(() => validateRegionSize(1)).not.toThrow();
    expect(() => validateRegionSize(2 ** 32)).not.toThrow();
    expect(() => validateRegionSize(2 ** 32 + 1)).toThrow('expected at most 4294967296 bytes');
    expect(() => validateRegionSize(10n)).toThrow('got 10n');
    expect(() => validateRegionSize(null)).toThrow('got null');
  });
});
