/**
 * How a reloadable finds its region. The owner hands three things to each renderer: the region
 * name, the arguments (JSON), and the writer epoch. A standby process gets them from its
 * environment and from the supervisor's `load` message, and keeps the region already mapped under
 * a global key, so `State.reloadable()` in a freshly imported bundle (which carries its own copy
 * of this library) finds it without mapping again. A worker thread gets them in `workerData`.
 * Nothing here is trusted: the name is checked, the args are validated against the state's args
 * schema, the epoch must be a positive integer.
 */
import { workerData } from 'node:worker_threads';
import type { ProducerGate } from '../channel/index.js';
import { InvalidArgumentError, NotReloadableError } from '../errors.js';
import type { Region } from '../memory/index.js';

export const ENV = {
  region: 'HOTSHM_REGION',
  args: 'HOTSHM_ARGS',
  epoch: 'HOTSHM_EPOCH',
  ownerPid: 'HOTSHM_OWNER_PID',
} as const;

export const RUNTIME_KEY: unique symbol = Symbol.for('hotshm.runtime') as never;

/** What a standby runner leaves for the bundle it imports. */
export interface RuntimeHandoff {
  readonly regionName: string;
  readonly argsJson: string;
  epoch: number;
  readonly ownerPid: number;
  /** The region, already mapped and its header checked by the runner. */
  readonly region?: Region;
  /** Called once the reloadable has its state (with it): lets the runner report "ready". */
  onReloadable?: (state: object) => void;
  /** Open once the renderer this one replaces is gone (see ProducerGate). */
  producerGate?: ProducerGate;
}

export interface WorkerHandoff {
  readonly hotshm: {
    readonly regionName: string;
    readonly argsJson: string;
    readonly epoch: number;
    readonly ownerPid: number;
  };
}

export function findHandoff(): RuntimeHandoff {
  const g = (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] as RuntimeHandoff | undefined;
  if (g) return g;
  const wd = workerData as Partial<WorkerHandoff> | null | undefined;
  if (wd && typeof wd === 'object' && wd.hotshm) {
    const h = wd.hotshm;
    return {
      regionName: checkRegionName(h.regionName, 'workerData.hotshm.regionName'),
      argsJson: String(h.argsJson),
      epoch: checkEpoch(h.epoch, 'workerData.hotshm.epoch'),
      ownerPid: checkPid(h.ownerPid, 'workerData.hotshm.ownerPid'),
    };
  }
  const name = process.env[ENV.region];
  if (name === undefined) {
    throw new NotReloadableError(
      `State.reloadable() found no region: expected to run in a process or worker started by State.owner() (env ${ENV.region} is not set)`,
    );
  }
  return {
    regionName: checkRegionName(name, ENV.region),
    argsJson: process.env[ENV.args] ?? 'null',
    epoch: checkEpoch(Number(process.env[ENV.epoch] ?? '1'), ENV.epoch),
    ownerPid: checkPid(Number(process.env[ENV.ownerPid]), ENV.ownerPid),
  };
}

export function installHandoff(h: RuntimeHandoff): void {
  (globalThis as Record<symbol, unknown>)[RUNTIME_KEY] = h;
}

const NAME = /^\/[A-Za-z0-9._-]{1,30}$/;
export function checkRegionName(value: unknown, where: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidArgumentError(
      `${where}: expected a region name like /hotshm-123-0a1b2c3d, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkEpoch(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value >= 2 ** 29) {
    throw new InvalidArgumentError(
      `${where}: expected an epoch in [1, 2^29), got ${String(value)}`,
    );
  }
  return value;
}

export function checkPid(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2 ** 22) {
    throw new InvalidArgumentError(`${where}: expected a process id, got ${String(value)}`);
  }
  return value;
}
