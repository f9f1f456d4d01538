/**
 * What a renderer process (supervisor/runner-main.ts) and a renderer thread
 * (worker/worker-entry.ts) both do with a bundle — import it, check that it exports `main`, run
 * `main()` — and the report each sends when that fails before the renderer had its state.
 */
import { pathToFileURL } from 'node:url';
import { HotshmError } from '../errors.js';

/** Where a start failed: loading the bundle, or in its `main()`. */
export type FailStage = 'import' | 'main';

/** The bundle threw while loading, or `main` is missing or threw before it was ready. */
export interface StartFailure {
  readonly type: 'failed';
  readonly stage: FailStage;
  readonly message: string;
  readonly stack: string;
  readonly code?: string;
}

/**
 * Imports `bundle`, calls `onImported` (the stage is 'main' from then on), then runs and awaits the
 * bundle's `main()`. Throws what the import or `main()` threw, or a `TypeError` when there is no
 * function `main` to call.
 */
export async function runBundle(bundle: string, onImported: () => void): Promise<void> {
  const mod = (await import(pathToFileURL(bundle).href)) as { main?: unknown };
  onImported();
  if (typeof mod.main !== 'function') {
    throw new TypeError(
      `the reloadable entry must export a function main(), got ${mod.main === undefined ? 'no main export' : typeof mod.main}`,
    );
  }
  await (mod.main as () => unknown)();
}

/** The report of a start that failed at `stage` with `error`. */
export function startFailure(stage: FailStage, error: unknown): StartFailure {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    type: 'failed',
    stage,
    message: err.message,
    stack: err.stack ?? err.message,
    ...(err instanceof HotshmError ? { code: err.code } : {}),
  };
}
