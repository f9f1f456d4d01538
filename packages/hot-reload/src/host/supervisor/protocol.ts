/**
 * Messages between the supervisor and a standby runner, over the IPC channel of the child
 * process. Control only: no frame or state data ever crosses here (that is in shared memory).
 */
import type { StartFailure } from '../run-bundle.js';

export type ToRunner =
  /** Import this bundle and run its `main()` as the renderer of `epoch`. */
  | { readonly type: 'load'; readonly bundle: string; readonly epoch: number }
  /** The renderer this one replaced is gone: it is now the only producer on its channels. */
  | { readonly type: 'exclusive' };

export type FromRunner =
  /** Node, koffi, the library and the region are loaded: ready to take a bundle. */
  | { readonly type: 'warm'; readonly ms: number }
  /**
   * The renderer has its state (`State.reloadable()` returned), or its `main()` settled.
   * `receivedAt` is when `load` arrived (performance.timeOrigin + now(), comparable across
   * processes of one machine); `importMs` the bundle's import; `stateMs` import → state.
   */
  | {
      readonly type: 'ready';
      readonly ms: number;
      readonly receivedAt: number;
      readonly importMs: number;
      readonly stateMs: number;
    }
  /** The bundle threw while loading, or `main` is missing or threw before it was ready. */
  | StartFailure;

export function isFromRunner(m: unknown): m is FromRunner {
  if (typeof m !== 'object' || m === null) return false;
  const t = (m as { type?: unknown }).type;
  return t === 'warm' || t === 'ready' || t === 'failed';
}

export function isToRunner(m: unknown): m is ToRunner {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as Partial<{ type: string; bundle: unknown; epoch: unknown }>;
  if (x.type === 'exclusive') return true;
  return x.type === 'load' && typeof x.bundle === 'string' && typeof x.epoch === 'number';
}
