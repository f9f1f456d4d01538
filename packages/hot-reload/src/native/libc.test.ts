import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RegionSystemError, UnsupportedPlatformError } from '../errors.js';
import { LIBC_PATHS, libcPath, loadLibc } from './libc.js';

const SRC = fileURLToPath(new URL('..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('the C library loader', () => {
  it('names libSystem by its full path, never a leaf name dlopen would search the cwd for', () => {
    expect(libcPath('darwin')).toBe('/usr/lib/libSystem.B.dylib');
    expect(libcPath('linux')).toBe('libc.so.6');
    expect(() => libcPath('win32')).toThrow(UnsupportedPlatformError);
  });

  it.runIf(process.platform === 'linux')('loads this platform’s libc once and shares it', () => {
    const libc = loadLibc();
    expect(loadLibc()).toBe(libc);
    expect(loadLibc('linux')).toBe(libc);
    const getpid = libc.func('int getpid(void)');
    expect(getpid()).toBe(process.pid);
  });

  it.runIf(process.platform === 'linux')(
    'a library that cannot be loaded is a RegionSystemError naming it',
    () => {
      let caught: unknown;
      try {
        loadLibc('darwin');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(RegionSystemError);
      expect((caught as Error).message).toContain('/usr/lib/libSystem.B.dylib');
    },
  );

  // The macOS modules (memory/darwin.ts, sync/darwin.ts) must load libSystem the same way, and
  // the Linux ones libc: through the loader, never with a koffi.load of their own.
  it('memory and sync load the C library only through the loader', () => {
    const names = Object.values(LIBC_PATHS).flatMap((path) => [path, path.split('/').pop()]);
    const offenders = ['memory', 'sync']
      .flatMap((dir) => sources(join(SRC, dir)))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return names.some((name) => text.includes(`koffi.load('${name}'`));
      })
      .map((file) => relative(SRC, file));
    expect(offenders).toEqual([]);
    for (const file of ['memory/darwin.ts', 'sync/darwin.ts', 'memory/linux.ts', 'sync/linux.ts']) {
      expect(readFileSync(join(SRC, file), 'utf8'), file).toContain("from '../native/libc.js'");
    }
  });
});
