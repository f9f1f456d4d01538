/**
 * What the launcher (`hotshm dev` / `hotshm start`) and the owner processes it starts say to each
 * other, over the owner's Node IPC channel. Control only: the state itself never crosses here, it
 * stays in shared memory and only its region's name is handed on.
 *
 * A restart, as the messages go (the old owner keeps its region alive until the new one has it,
 * so no other owner's stale-region cleanup can remove it in between):
 *
 *   launcher                old owner                          new owner
 *      │── spawn ──────────────────────────────────────────────────▶│ loads its code
 *      │◀────────────────────────────────────────────── take(state) │ State.owner(): region created
 *      │── release ──────────▶│ stops its renderers; its windows   │
 *      │                      │ keep showing the last frame        │
 *      │◀── released(states) ─│ keeps the regions mapped           │
 *      │── give(state, region, window) ──────────────────────────────▶│ adopts the region
 *      │◀─────────────────────────────────────────── adopted(state) │ starts its renderer
 *      │── adopted(region) ──▶│ unlinks it                         │
 *      │◀──────────────────────────────────────────── window(state) │ its window opened where the
 *      │── close-windows ────▶│ closes its windows, exits          │ old one is
 *
 * Every message carries `hotshm: PROTOCOL`, so an app's own IPC messages never look like ours.
 */

/** Bumped when a message changes meaning. */
export const PROTOCOL = 1;

/** The variable the launcher sets for the owner process's boot module (which removes it). */
export const LAUNCH_ENV = 'HOTSHM_LAUNCHER';

/** Where the boot module (or `hotshm start`, in its own process) leaves what it knows. */
export const LAUNCH_KEY: unique symbol = Symbol.for('hotshm.launcher') as never;

export type LaunchMode = 'dev' | 'start';

/** What the owner's copy of this library finds under LAUNCH_KEY. */
export interface LaunchInfo {
  readonly protocol: number;
  readonly mode: LaunchMode;
  /** True when messages go to a launcher over this process's IPC channel (`dev`). */
  readonly ipc: boolean;
}

/** Where a window was on screen, in screen pixels; what a restarted owner reopens it at. */
export interface WindowGeometry {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** One state an owner handed over: its definition's name, its region, its window if it had one. */
export interface ReleasedState {
  readonly state: string;
  readonly region: string;
  readonly window: WindowGeometry | null;
}

type Tagged<T> = T & { readonly hotshm: typeof PROTOCOL };

export type FromOwner = Tagged<
  /**
   * The files the renderer's last good build read. `reloads`: the renderer reloads itself when
   * they change (hot); otherwise only a new owner runs their new version (a worker's one build).
   */
  | { readonly type: 'inputs'; readonly files: readonly string[]; readonly reloads: boolean }
  /** State.owner() of `state` is about to start its renderer: give it the predecessor's region. */
  | { readonly type: 'take'; readonly state: string }
  /** Answer to `release`: renderers and windows are stopped, the regions are still mapped. */
  | { readonly type: 'released'; readonly states: readonly ReleasedState[] }
  /** The region handed over for `state` has been carried into this owner's own. */
  | {
      readonly type: 'adopted';
      readonly state: string;
      readonly from: string;
      readonly ok: boolean;
      readonly summary: string;
    }
  /** The owner cannot go on with the code it runs (its state's layout changed under it). */
  | { readonly type: 'restart'; readonly reason: string }
  /** A window on `state` has opened: the old owner's may go. */
  | { readonly type: 'window'; readonly state: string }
>;

export type ToOwner = Tagged<
  /** Stop your renderers, keep your regions and your windows' last frames, answer `released`. */
  | { readonly type: 'release' }
  /** The new owner's window is up: close yours. */
  | { readonly type: 'close-windows' }
  /** The answer to `take`: the region to adopt (null: start fresh) and where its window was. */
  | {
      readonly type: 'give';
      readonly state: string;
      readonly region: string | null;
      readonly window: WindowGeometry | null;
    }
  /** The new owner has carried `region` into its own: unlink it; once none is left, exit. */
  | { readonly type: 'adopted'; readonly region: string }
>;

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;
const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === 'string');

export function isGeometry(v: unknown): v is WindowGeometry {
  return (
    isObject(v) &&
    [v.x, v.y, v.width, v.height].every((n) => typeof n === 'number' && Number.isFinite(n))
  );
}

export function isFromOwner(m: unknown): m is FromOwner {
  if (!isObject(m) || m.hotshm !== PROTOCOL) return false;
  switch (m.type) {
    case 'inputs':
      return isStrings(m.files) && typeof m.reloads === 'boolean';
    case 'take':
      return typeof m.state === 'string';
    case 'released':
      return (
        Array.isArray(m.states) &&
        m.states.every(
          (s: unknown) =>
            isObject(s) &&
            typeof s.state === 'string' &&
            typeof s.region === 'string' &&
            (s.window === null || isGeometry(s.window)),
        )
      );
    case 'adopted':
      return (
        typeof m.state === 'string' &&
        typeof m.from === 'string' &&
        typeof m.ok === 'boolean' &&
        typeof m.summary === 'string'
      );
    case 'restart':
      return typeof m.reason === 'string';
    case 'window':
      return typeof m.state === 'string';
    default:
      return false;
  }
}

export function isToOwner(m: unknown): m is ToOwner {
  if (!isObject(m) || m.hotshm !== PROTOCOL) return false;
  switch (m.type) {
    case 'release':
    case 'close-windows':
      return true;
    case 'give':
      return (
        typeof m.state === 'string' &&
        (m.region === null || typeof m.region === 'string') &&
        (m.window === null || isGeometry(m.window))
      );
    case 'adopted':
      return typeof m.region === 'string';
    default:
      return false;
  }
}

/** `LAUNCH_ENV`'s value: `<protocol>:<mode>:<launcher pid>`. */
export function launchEnvValue(mode: LaunchMode, launcherPid: number): string {
  return `${PROTOCOL}:${mode}:${launcherPid}`;
}

export function parseLaunchEnv(
  value: string | undefined,
): { readonly mode: LaunchMode; readonly launcherPid: number } | undefined {
  const m = /^(\d+):(dev|start):(\d+)$/.exec(value ?? '');
  if (!m || Number(m[1]) !== PROTOCOL) return undefined;
  return { mode: m[2] as LaunchMode, launcherPid: Number(m[3]) };
}
