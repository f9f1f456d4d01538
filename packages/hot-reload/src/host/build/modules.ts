/**
 * The modules of this library a renderer can import, and where each is in the sources (src/) and
 * in the published package (dist/). The owner's library build (library.ts) makes one file per
 * entry here, named after `dist` (or, running from the published package, uses its dist files
 * as they are), and renderer programs import them by URL.
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
  [`${LIBRARY_NAME}/errors`]: { src: 'exports/errors', dist: 'errors' },
  [`${LIBRARY_NAME}/window`]: { src: 'exports/window', dist: 'window' },
  [`${LIBRARY_NAME}/canvas`]: { src: 'exports/canvas', dist: 'canvas', warm: false },
};

/** What hosts start (the standby runner, the worker thread's entry) and what a standby warms up on. */
export const HOST_MODULES = {
  runner: { src: 'host/runtime/process-entry', dist: 'runner' },
  worker: { src: 'host/runtime/thread-main', dist: 'worker' },
  warm: { src: 'host/build/warm', dist: 'warm' },
} as const satisfies Record<string, ModuleFiles>;

/** The module a standby imports to warm its module loader up (see warm.ts). */
export const WARM_MODULE = HOST_MODULES.warm.dist;

/**
 * The URL of the library module `name` (a `dist` name) beside `base`, the URL of a module of the
 * same build: the owner's library build names its files `.mjs`, the published dist `.js`.
 *
 * @example
 * await import(libraryModuleUrl(WARM_MODULE, import.meta.url));
 */
export function libraryModuleUrl(name: string, base: string): string {
  const ext = /\.[cm]?[jt]s$/.exec(new URL(base).pathname)?.[0] ?? '.mjs';
  return new URL(`./${name}${ext}`, base).href;
}
