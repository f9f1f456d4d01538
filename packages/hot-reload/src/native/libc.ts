/**
 * The C library, loaded one way for every module that calls into it (memory and sync), once per
 * process. Linux: glibc's `libc.so.6`. macOS: `/usr/lib/libSystem.B.dylib`, always by its full
 * path: given a bare leaf name, dlopen(3) searches $DYLD_LIBRARY_PATH and the current working
 * directory before the system (dlopen(3), "SEARCHING"), so a `libSystem.B.dylib` lying in the
 * directory an app is started from would be loaded instead. Since macOS 11 the file is not on
 * disk at all; dyld serves that exact path from its shared cache.
 */

import koffi from 'koffi';
import { NativeCallError, RegionSystemError, UnsupportedPlatformError } from '../errors.js';

export type LibraryHandle = ReturnType<typeof koffi.load>;

/** What each platform's C library is loaded as. */
export const LIBC_PATHS = {
  linux: 'libc.so.6',
  darwin: '/usr/lib/libSystem.B.dylib',
} as const;

const loaded = new Map<string, LibraryHandle>();

/** The path `loadLibc` opens on `platform` (a `process.platform` value). */
export function libcPath(platform: string): string {
  if (platform === 'linux' || platform === 'darwin') return LIBC_PATHS[platform];
  throw new UnsupportedPlatformError('the C library (libc / libSystem)', platform);
}

/**
 * The C library of this platform, loaded on first use and shared by every caller.
 *
 * @example
 * const strerror = loadLibc().func('const char *strerror(int errnum)');
 */
export function loadLibc(platform: string = process.platform): LibraryHandle {
  const path = libcPath(platform);
  const cached = loaded.get(path);
  if (cached !== undefined) return cached;
  let lib: LibraryHandle;
  try {
    lib = koffi.load(path);
  } catch (error) {
    throw new RegionSystemError(
      'dlopen',
      0,
      `could not load ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  loaded.set(path, lib);
  return lib;
}

/**
 * Binds C functions through koffi (`bind` calls `lib.func(...)`); one koffi cannot bind (a symbol
 * missing, a prototype it cannot parse) is a `NativeCallError` naming `call`, not koffi's plain
 * Error.
 *
 * @example
 * const futex = bindNative('syscall', () => loadLibc().func('long syscall(long nr, ...)'));
 */
export function bindNative<T>(call: string, bind: () => T): T {
  try {
    return bind();
  } catch (error) {
    throw new NativeCallError(call, error);
  }
}
