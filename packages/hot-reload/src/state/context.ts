/**
 * The context every accessor of a state is built on: the region's bytes, its address and whether
 * it is still open (the schema layer's `BindContext`), and what the channel and frames layers ask
 * of the side they are bound on (`ChannelEndpoint`, `FrameEndpoint`): this side's role and writer
 * epoch, the header words that say whether the owner retired or superseded it, and the region's
 * doorbell (one word in the header that async receivers of any channel park on, so a process
 * needs one parked wait, not one per channel).
 *
 * A class, not an object literal: accessors read `closed` on every call, and V8 keeps literals
 * with getters in dictionary mode, which made a u32 field access 10–30× slower than a plain
 * typed array (a class getter keeps it within 2×).
 */

import type { ChannelEndpoint, ProducerGate } from '../channel/index.js';
import { RegionClosedError } from '../errors.js';
import type { FrameEndpoint } from '../frames/index.js';
import { HEADER_SIZE, HeaderOffset, HeaderSlot } from '../memory/header.js';
import type { Region } from '../memory/index.js';
import type { BindContext } from '../schema/types.js';
import { ringDoorbell, type SharedWord, sharedWord } from '../sync/index.js';

export class RegionContext implements BindContext, ChannelEndpoint, FrameEndpoint {
  readonly regionName: string;
  readonly buffer: ArrayBuffer;
  readonly view: DataView;
  readonly address: bigint;
  readonly role: 'owner' | 'reloadable';
  readonly epoch: number;
  readonly producerGate?: ProducerGate;
  /** The region this context reads (tests unlink it through here). */
  readonly region: Region;
  readonly onCorrupt?: (what: string) => void;
  readonly #doorbell: SharedWord;
  readonly #header: Int32Array;

  constructor(
    region: Region,
    role: 'owner' | 'reloadable',
    epoch: number,
    gate?: ProducerGate,
    onCorrupt?: (what: string) => void,
  ) {
    this.region = region;
    if (gate) this.producerGate = gate;
    if (onCorrupt) this.onCorrupt = onCorrupt;
    this.#header = new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
    this.regionName = region.name;
    this.buffer = region.buffer;
    this.view = new DataView(region.buffer);
    this.address = region.address;
    this.role = role;
    this.epoch = epoch;
    this.#doorbell = sharedWord(
      region.buffer,
      region.address,
      HeaderOffset.doorbell,
      HeaderOffset.doorbellWaiters,
    );
  }

  get closed(): boolean {
    return this.region.closed;
  }

  get retired(): boolean {
    return (
      this.role === 'reloadable' &&
      !this.region.closed &&
      Atomics.load(this.#header, HeaderSlot.retired) >= this.epoch
    );
  }

  get superseded(): boolean {
    return (
      this.role === 'reloadable' &&
      !this.region.closed &&
      Atomics.load(this.#header, HeaderSlot.epoch) > this.epoch
    );
  }

  assertOpen(what?: string): void {
    if (this.region.closed) throw new RegionClosedError(this.region.name, what);
  }

  ringDoorbell(): void {
    // The increment publishes "something happened"; a parked receiver re-checks every channel
    // it waits on. The waiter count is read after the increment, so no wake-up is lost.
    ringDoorbell(this.#doorbell);
  }
}

export function createBindContext(
  region: Region,
  role: 'owner' | 'reloadable',
  epoch: number,
  gate?: ProducerGate,
  onCorrupt?: (what: string) => void,
): RegionContext {
  return new RegionContext(region, role, epoch, gate, onCorrupt);
}
