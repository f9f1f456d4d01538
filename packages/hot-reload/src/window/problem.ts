/**
 * What is wrong, as the window says it: the state host's events folded into one phrase for the
 * title (`Demo - build error at src/index.ts:3:9`), or nothing. While there is one, the window
 * also draws its red border. A reducer, so the wording is tested without a window.
 */
import type { HostEvents } from '../host/events.js';

/** The host events that change what the window says. */
export const PROBLEM_EVENTS = ['reload', 'build-done', 'build-error', 'crash', 'repair'] as const;
export type ProblemEvent = (typeof PROBLEM_EVENTS)[number];

/**
 * The problem after `event`, given the one before (undefined: nothing is wrong).
 *
 * @example
 * nextProblem(undefined, 'build-error', { locations: ['a.ts:1:2'], … }) // 'build error at a.ts:1:2'
 */
export function nextProblem<K extends ProblemEvent>(
  current: string | undefined,
  event: K,
  payload: HostEvents[K][0],
): string | undefined {
  switch (event) {
    case 'reload': {
      // A restart after a crash runs the very code that crashed: keep saying so until an edit
      // brings new code, or the note would flash by in the 100 ms before the restart.
      if ((payload as HostEvents['reload'][0]).reason !== 'restart') return undefined;
      return current && !current.endsWith(', restarted') ? `${current}, restarted` : current;
    }
    case 'build-done':
      // An edit undone after a build error builds what already runs: the error is gone.
      return current?.startsWith('build error') ? undefined : current;
    case 'build-error':
      return `build error at ${(payload as HostEvents['build-error'][0]).locations[0] ?? 'unknown place'}`;
    case 'crash': {
      const e = payload as HostEvents['crash'][0];
      // A start that failed is told by what failed, not by the signal the host then sent to
      // stop it (that would read like an outside kill).
      const stage = 'stage' in e.error ? e.error.stage : undefined;
      const how =
        stage === 'timeout'
          ? 'timed out'
          : stage === 'main'
            ? 'threw in main()'
            : stage === 'import'
              ? 'threw at its top level'
              : (e.signal ?? `exit ${e.code}`);
      return `renderer ${e.phase === 'start' ? 'failed to start' : 'crashed'} (${how})`;
    }
    case 'repair': {
      const parts = (payload as HostEvents['repair'][0]).repairs.map((r) => r.part);
      return `repaired a damaged region (${parts.join(', ')})`;
    }
    default:
      return current;
  }
}
