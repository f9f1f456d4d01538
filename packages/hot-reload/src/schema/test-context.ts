/**
 * A `BindContext` over a plain ArrayBuffer, for testing accessors and benchmarking them without
 * the memory layer. Not exported from the package: real contexts come from a mapped region.
 */
import { RegionClosedError } from '../errors.js';
import type { BindContext } from './types.js';

export class TestContext implements BindContext {
  readonly regionName: string;
  readonly buffer: ArrayBuffer;
  readonly view: DataView;
  readonly address: bigint = 0n;
  readonly role: 'owner' | 'reloadable';
  readonly epoch: number = 1;
  /** Set it to simulate the region being closed. */
  closed = false;
  doorbellRings = 0;

  constructor(
    bufferOrSize: ArrayBuffer | number,
    options: { regionName?: string; role?: 'owner' | 'reloadable' } = {},
  ) {
    this.buffer = typeof bufferOrSize === 'number' ? new ArrayBuffer(bufferOrSize) : bufferOrSize;
    this.view = new DataView(this.buffer);
    this.regionName = options.regionName ?? '/hotshm-test';
    this.role = options.role ?? 'owner';
  }

  assertOpen(what?: string): void {
    if (this.closed) throw new RegionClosedError(this.regionName, what);
  }

  ringDoorbell(): void {
    this.doorbellRings++;
  }
}
