/**
 * A program: the renderer's own modules in the module runner's form, with what each import
 * resolved to. Plain data, one JSON file: the owner builds it (program.ts), a renderer runs it
 * (evaluate.ts) without Node's module loader.
 */

/** What one import specifier of a module resolved to. */
export type ImportTarget =
  /** Another module of the program: its id. */
  | { readonly module: string }
  /** Imported with `import()`: a package's file URL, the library's URL, or `node:…`. */
  | { readonly external: string };

export interface ProgramModule {
  /** Absolute path of the source file. */
  readonly id: string;
  /** Its file URL: the module's `import.meta.url`. */
  readonly url: string;
  /** The module-runner form (`__vite_ssr_import__`, `__vite_ssr_exports__`, …). */
  readonly code: string;
  /** Source map (JSON) from `code` to the original source. */
  readonly map?: string;
  /** Import specifier as written → what it resolved to. */
  readonly imports: Readonly<Record<string, ImportTarget>>;
}

export interface Program {
  /** Module id of the entry. */
  readonly entry: string;
  readonly modules: readonly ProgramModule[];
  /** Every external URL the modules import (standbys preload them). */
  readonly externals: readonly string[];
  /** Identical programs are not reloaded. */
  readonly hash: string;
  /** Files read (the watcher follows them). */
  readonly inputs: readonly string[];
  /** What the entry exports (main must be one). */
  readonly exports: readonly string[];
  /** How long the build took. */
  readonly ms: number;
}
