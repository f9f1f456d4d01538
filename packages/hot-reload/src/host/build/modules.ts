/**
 * The modules of this library a renderer can import, and where each is in the sources (src/) and
 * in the published package (dist/). The owner's library build (library.ts) makes one file per
 * entry here, named after `dist`, and renderer bundles import them by URL.
 */

export const LIBRARY_NAME = '@hotshm/hot-reload';

export interface ModuleFiles {
  readonly src: string;
  readonly dist: string;
  /**
   * False: a standby does not import it while warming up, only when a renderer does. `/canvas`
   * starts CanvasKit when imported (70–90 ms of CPU and about 70 MB a process), which only an app
   * that draws with it should pay for.
   */
  readonly warm?: false;
}

/** The public modules: import specifier → its file in src/ and in dist/ (without extension). */
export const PUBLIC_MODULES: Readonly<Record<string, ModuleFiles>> = {
  [LIBRARY_NAME]: { src: 'index', dist: 'index' },
  [`${LIBRARY_NAME}/memory`]: { src: 'exports/memory', dist: 'memory' },
  [`${LIBRARY_NAME}/sync`]: { src: 'exports/sync', dist: 'sync' },
  [`${LIBRARY_NAME}/schema`]: { src: 'exports/schema', dist: 'schema' },
  [`${LIBRARY_NAME}/canvas`]: { src: 'exports/canvas', dist: 'canvas', warm: false },
};

/** What hosts start: the standby runner and the worker thread's entry. */
export const HOST_MODULES = {
  runner: { src: 'host/runtime/process-entry', dist: 'runner' },
  worker: { src: 'host/runtime/thread-main', dist: 'worker' },
} as const satisfies Record<string, ModuleFiles>;

/** The file the library build writes for warming a standby's module loader up. */
export const WARM_MODULE = 'warm.mjs';
