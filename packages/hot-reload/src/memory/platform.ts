/**
 * Chooses the platform module once, when this file is first imported. The choice itself is a pure
 * function of the platform string so it can be tested for every platform on any machine; loading
 * the module's native library waits until the first region is used.
 */

import { UnsupportedPlatformError } from '../errors.js';
import type { RegionBackend } from './backend.js';
import { loadDarwinBackend } from './darwin.js';
import { loadLinuxBackend } from './linux.js';
import { loadWindowsBackend } from './windows.js';

export interface BackendChoice {
  readonly platform: 'linux' | 'darwin' | 'win32';
  readonly load: () => RegionBackend;
}

/** The module for `platform` (a `process.platform` value), or UnsupportedPlatformError. */
export function selectBackend(platform: string): BackendChoice {
  switch (platform) {
    case 'linux':
      return { platform, load: loadLinuxBackend };
    case 'darwin':
      return { platform, load: loadDarwinBackend };
    case 'win32':
      return { platform, load: loadWindowsBackend };
    default:
      throw new UnsupportedPlatformError('shared memory regions', platform);
  }
}

// Chosen once. An unsupported platform only fails when a region is actually used, so importing
// the library (for its schemas, say) still works there.
let choice: BackendChoice | UnsupportedPlatformError;
try {
  choice = selectBackend(process.platform);
} catch (error) {
  choice = error as UnsupportedPlatformError;
}
let backend: RegionBackend | undefined;

/** The back end for this process, loading its native library on first use. */
export function currentBackend(): RegionBackend {
  if (backend !== undefined) return backend;
  if (choice instanceof UnsupportedPlatformError) throw choice;
  backend = choice.load();
  return backend;
}
