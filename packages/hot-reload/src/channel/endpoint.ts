/**
 * What a channel needs to know of the side it is bound on, beyond the region's bytes: which side
 * it is, the renderer's writer epoch, whether the owner has stopped or replaced it, and how to wake
 * the region's async receivers. The schema layer's `BindContext` knows none of that; the state
 * layer's context implements this (state/context.ts). A context that is only a `BindContext` (a
 * region used without the state layer) is the owner's side: never retired, epoch 0, and the
 * region's doorbell is rung from here.
 */
import { HeaderOffset } from '../memory/header.js';
import type { BindContext } from '../schema/types.js';
import { ringDoorbell, type SharedWord, sharedWord } from '../sync/index.js';

export interface ProducerGate {
  readonly open: boolean;
  /** Calls `listener` once the gate opens (at once if it is open). */
  whenOpen(listener: () => void): void;
}

export interface ChannelEndpoint {
  /** Which side this process is on. */
  readonly role: 'owner' | 'reloadable';
  /** The renderer's writer epoch (0 for the owner). */
  readonly epoch: number;
  /** Wakes processes that wait on the region's doorbell (async channel receivers). */
  ringDoorbell(): void;
  /**
   * Closed while this renderer may still overlap with the one it replaces: channels are
   * single-producer, so its sends are held in order until the old renderer is gone. Absent (always
   * open) for the owner and for worker threads.
   */
  readonly producerGate?: ProducerGate;
  /**
   * True once the owner has stopped or replaced this renderer: its channels close (receives end,
   * `for await` loops finish) so that its `main()` can return. Absent or false for the owner.
   */
  readonly retired?: boolean;
  /**
   * True while a newer renderer has begun its epoch (it has its state): messages queued from then
   * on are its own, so this one commits no take, and each message is received in order by the
   * current renderer. Not final, unlike `retired`: if the newer one fails to start, the owner
   * gives the floor back and this one takes again. Absent or false for the owner.
   */
  readonly superseded?: boolean;
  /**
   * Owner side only: a field found damaged while in use (a ring index out of range, a message
   * that does not decode) is repaired by its accessor, which reports it here instead of throwing
   * into the owner's frame loop. Absent: accessors throw `CorruptRegionError`.
   */
  readonly onCorrupt?: (what: string) => void;
}

/** A context a channel can be bound on. */
export type ChannelContext = BindContext & ChannelEndpoint;

function isChannelContext(ctx: BindContext): ctx is ChannelContext {
  const c = ctx as Partial<ChannelEndpoint>;
  return (
    (c.role === 'owner' || c.role === 'reloadable') &&
    typeof c.epoch === 'number' &&
    typeof c.ringDoorbell === 'function'
  );
}

/** The owner's side over a plain `BindContext`. */
class OwnerSide implements ChannelContext {
  readonly role = 'owner' as const;
  readonly epoch = 0;
  readonly regionName: string;
  readonly buffer: ArrayBuffer;
  readonly view: DataView;
  readonly address: bigint;
  readonly #ctx: BindContext;
  readonly #doorbell: SharedWord;
  constructor(ctx: BindContext) {
    this.#ctx = ctx;
    this.regionName = ctx.regionName;
    this.buffer = ctx.buffer;
    this.view = ctx.view;
    this.address = ctx.address;
    this.#doorbell = sharedWord(
      ctx.buffer,
      ctx.address,
      HeaderOffset.doorbell,
      HeaderOffset.doorbellWaiters,
    );
  }
  get closed(): boolean {
    return this.#ctx.closed;
  }
  assertOpen(what?: string): void {
    this.#ctx.assertOpen(what);
  }
  ringDoorbell(): void {
    ringDoorbell(this.#doorbell);
  }
}

/** `ctx` as a channel's context: itself when it says which side it is, else the owner's side. */
export function channelContext(ctx: BindContext): ChannelContext {
  return isChannelContext(ctx) ? ctx : new OwnerSide(ctx);
}
