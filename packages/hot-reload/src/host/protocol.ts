/**
 * What an owner and one of its renderers say to each other, the same in both hosts: over a raw
 * pipe to a renderer process (one JSON message per line; see process/transport.ts) and over a
 * MessagePort to a worker thread. Control only: no frame or state data crosses here (that lives in
 * shared memory).
 *
 *   owner → renderer                               renderer → owner
 *   load    run this program as epoch E on R        warm    booted: runtime, library, region mapped
 *   region  migrated: your region is now R'         layout  my state's layout differs from R's
 *   abort   no migration: end                       ready   I have my state (my epoch began)
 *   exclusive  the renderer you replaced is gone    frame   my first frame is presented
 *   preload    import these packages ahead          failed  I failed before I had my state
 *                                                   crashed an error nobody caught, after ready (threads)
 */
/** The descriptor of the control pipe in a renderer process (POSIX). */
export const CONTROL_FD = 3;

/** Why a start failed: loading the program, before `main()` got its state, or in `main()`. */
export type FailStage = 'import' | 'main' | 'state' | 'timeout' | 'exit';

export type ToRenderer =
  | {
      readonly type: 'load';
      /** The program file (a bundle or a program JSON) to run. */
      readonly program: string;
      readonly epoch: number;
      /** The region to run on (the standby may have another mapped: a migration happened since). */
      readonly region: string;
      /** The state's arguments, as JSON. */
      readonly args: string;
      /** Packages the program imports (file URLs) that the renderer may load ahead of its main(). */
      readonly externals?: readonly string[];
    }
  | { readonly type: 'region'; readonly region: string }
  | { readonly type: 'abort'; readonly reason: string }
  | { readonly type: 'exclusive' }
  | { readonly type: 'preload'; readonly urls: readonly string[] };

export type FromRenderer =
  | { readonly type: 'warm'; readonly ms: number }
  | {
      readonly type: 'layout';
      /** The new definition's layout as data (checked by the state layer when it arrives). */
      readonly descriptor: unknown;
      /** load received → the program was evaluated and its layout computed. */
      readonly ms: number;
    }
  | {
      readonly type: 'ready';
      /** performance.timeOrigin + now() when `load` arrived: comparable across processes. */
      readonly receivedAt: number;
      /** load received → the program evaluated. */
      readonly evalMs: number;
      /** evaluated → `main()` has its state. */
      readonly stateMs: number;
    }
  | { readonly type: 'frame'; readonly at: number }
  | {
      readonly type: 'failed';
      readonly stage: FailStage;
      readonly message: string;
      readonly stack: string;
      readonly code?: string;
    }
  | { readonly type: 'crashed'; readonly message: string; readonly stack: string };

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;
const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/** Whether `m` is a well-formed message from a renderer (anything else is ignored and reported). */
export function isFromRenderer(m: unknown): m is FromRenderer {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'warm':
      return isNumber(m.ms);
    case 'layout':
      return isObject(m.descriptor) && isNumber(m.ms);
    case 'ready':
      return isNumber(m.receivedAt) && isNumber(m.evalMs) && isNumber(m.stateMs);
    case 'frame':
      return isNumber(m.at);
    case 'failed':
      return isString(m.stage) && isString(m.message) && isString(m.stack);
    case 'crashed':
      return isString(m.message) && isString(m.stack);
    default:
      return false;
  }
}

/** Whether `m` is a well-formed message from the owner. */
export function isToRenderer(m: unknown): m is ToRenderer {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'load':
      return (
        isString(m.program) &&
        isNumber(m.epoch) &&
        isString(m.region) &&
        isString(m.args) &&
        (m.externals === undefined || isStrings(m.externals))
      );
    case 'region':
      return isString(m.region);
    case 'abort':
      return isString(m.reason);
    case 'exclusive':
      return true;
    case 'preload':
      return isStrings(m.urls);
    default:
      return false;
  }
}
