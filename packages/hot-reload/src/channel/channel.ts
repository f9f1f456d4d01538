/**
 * A typed single-producer, single-consumer queue in shared memory, declared as a state field:
 * `channel(struct({ x: f32, y: f32 }), { capacity: 64 })`.
 *
 * Ring layout (offsets from the field; every hot word on its own 64-byte line):
 *   0   writeIndex u32 (producer's)   4   consumers parked on writeIndex
 *   64  readIndex u32 (consumers')
 *   68  claimer   72  claim waiters   76  claimEnd   80  suspectEnd   84  poisoned   88  handledEnd
 *       (68–91: `delivery: 'handled'` only, see below; zero otherwise)
 *   128 capacity slots of the message schema's size
 * Indices count messages since creation and wrap as u32; capacity is a power of two, so
 * `index & (capacity - 1)` names the same slot before and after a wrap.
 *
 * Orderings (all Atomics are sequentially consistent):
 *   - The producer encodes the whole message into its slot BEFORE the store of writeIndex that
 *     publishes it. A producer killed before that store leaves a half-written slot nobody can see.
 *   - A consumer decodes the slot into a fresh JS value, and only THEN commits with a CAS of
 *     readIndex from r to r + 1. The slot is the producer's again only after the commit, so the
 *     decoded copy is complete. A consumer killed before its commit leaves the message to the next
 *     consumer; a consumer whose CAS fails (an old renderer still draining during a reload took the
 *     message first) drops its copy and retries. Hence: every message accepted by send is received
 *     exactly once, in order, unless a consumer dies after committing it.
 *   - After publishing, the producer wakes consumers parked on writeIndex (the syscall only if
 *     their counter says someone sleeps, see sync/wait.ts) and rings the region's doorbell, which
 *     async receivers of this process sleep on.
 *
 * Delivery. By default (`delivery: 'taken'`) a message is committed when it is taken, as above: a
 * renderer killed after a take and before it used the message takes it along. With
 * `delivery: 'handled'` a message is committed only when its consumer asks for the next one (any
 * receive) or acknowledges it (`ack()`), so the message a crashed renderer was handling goes to
 * the next one. The consumers' line then holds a claim:
 *   - claimer: the epoch + 1 of the consumer that holds the messages from readIndex to claimEnd
 *     (taken, not committed), 0 for none. It is a lock on readIndex: a consumer takes only after
 *     its CAS of claimer from 0 to its own value, and while it holds it nobody else moves
 *     readIndex (but the owner repairing damage, after which the holder's commit CAS fails and it
 *     drops what it held). A newer renderer therefore never takes a message that an older one,
 *     still alive, is handling, and takes stay in order across a hand-over: the superseded check
 *     comes after the claim, so a renderer that began its epoch before it took nothing since.
 *   - claimEnd is stored after the copies and before they are returned: a consumer killed earlier
 *     held nothing. The holder commits (CAS of readIndex) BEFORE it clears claimer, so a claim
 *     that is gone with readIndex short of claimEnd can only be the owner's release.
 *   - claim waiters: consumers that found the claim taken park on the claimer word; whoever clears
 *     it (the holder, or the owner releasing a gone renderer's claim) wakes them after the clear.
 *   - The owner releases the claim of a renderer that exited (`releaseClaims`): that renderer is
 *     gone, so while its value is still in claimer the owner holds the lock. If it crashed, the
 *     messages it held become suspects (suspectEnd: those from readIndex up to it), which are then
 *     delivered one at a time; a suspect whose holder crashes too is poison: dropped (readIndex
 *     moves past it) and counted in `poisoned`. suspectEnd, claimEnd and the count are written
 *     BEFORE claimer is cleared, so the next consumer sees them.
 *   - A renderer that has just replaced another holds its sends until the old one is gone (its
 *     producer gate, see endpoint.ts): what it does with a message in that time has no effect the
 *     owner can see yet. So it commits nothing until the gate opens either: a message it handled
 *     meanwhile is kept under its claim (handledEnd: one past the last of them), and committed
 *     once its held sends have gone to their rings. Killed before that, it hands those messages
 *     to the next renderer as if it had never taken them (they are no suspects: it did not crash
 *     on them), with their replies, which died with it, still to come.
 *
 * With `latest: true` the field is one slot under a seqlock instead, for values where only the
 * newest matters (a window title): send overwrites and never fails, and the last sequence a
 * consumer took is kept in shared memory so a new consumer does not receive it again:
 *   0   seq u32 (odd while the producer writes)   4   consumers parked on seq
 *   64  seen u32 (seq of the value consumers last took)
 *   128 the slot
 */

import {
  ChannelClosedError,
  ChannelFullError,
  CorruptRegionError,
  InvalidArgumentError,
  SchemaError,
  TimeoutError,
  ValueError,
} from '../errors.js';
import { HeaderOffset } from '../memory/header.js';
import { alignUp, assertNestable, describe } from '../schema/shared.js';
import type { BindContext, Infer, Schema } from '../schema/types.js';
import type { SharedWord } from '../sync/index.js';
import { checkTimeout, sharedWord, waitAsync, waitSync, wake } from '../sync/index.js';
import { type ChannelContext, channelContext } from './endpoint.js';

/** Largest capacity accepted: far more than a frame loop drains, small enough to catch a typo. */
export const MAX_CHANNEL_CAPACITY = 2 ** 20;
const LINE = 64;
/** Where the slots start: after the producer's and the consumers' lines. */
const SLOTS_OFFSET = 2 * LINE;

/** Index of each control word in the field's Int32Array. */
const Slot = {
  /** Ring: messages published so far (u32, wrapping). Latest: the seqlock's sequence. */
  write: 0,
  /** Consumers parked on `write`. */
  writeWaiters: 1,
  /** Ring: messages consumed so far (u32, wrapping). Latest: the last sequence taken. */
  read: LINE / 4,
  /** Handled delivery: epoch + 1 of the consumer holding messages from `read`; 0: nobody. */
  claimer: LINE / 4 + 1,
  /** Consumers parked on `claimer` until the claim is released. */
  claimWaiters: LINE / 4 + 2,
  /** Handled delivery: one past the last message the claimer took. */
  claimEnd: LINE / 4 + 3,
  /** Handled delivery: messages from `read` up to this one were held by a renderer that crashed. */
  suspectEnd: LINE / 4 + 4,
  /** Handled delivery: messages dropped as poison since the channel was created (u32). */
  poisoned: LINE / 4 + 5,
  /**
   * Handled delivery: messages from `read` up to this one were handled by the claimer while its
   * producer gate was closed, and wait for it to open to be committed.
   */
  handledEnd: LINE / 4 + 6,
} as const;
/** The claimer word when no consumer holds a message. */
const NO_CLAIM = 0;
const CONTROL_WORDS = SLOTS_OFFSET / 4;

/** How long one async or sync sleep lasts at most, so a closed region is noticed. */
const CLOSED_CHECK_MS = 1000;

/**
 * When a message counts as delivered:
 *   - `'taken'` (the default): as the consumer takes it. A renderer killed before it used it
 *     takes it along (`drain()`: the whole batch).
 *   - `'handled'`: when the consumer asks for the next one (any receive call) or calls `ack()`.
 *     The message a renderer was handling when it crashed goes to the next renderer, which never
 *     takes a message that a still-running renderer holds; one that crashes two renderers is
 *     dropped and reported (see `Channel.releaseClaims`). Rings only.
 */
export type Delivery = 'taken' | 'handled';

export interface ChannelOptions {
  /** How many messages the ring holds: a power of two in [1, 2^20]. Ignored with `latest`. */
  readonly capacity: number;
  /** Keep only the newest value: send overwrites and never fails. */
  readonly latest?: boolean;
  /** When a message counts as delivered (see `Delivery`); part of the layout's signature. */
  readonly delivery?: Delivery;
  /** Used in error messages; defaults to the field's path. */
  readonly name?: string;
}

export interface SendOptions {
  /** What a full channel does: return false (the default) or throw ChannelFullError. */
  readonly onFull?: 'return-false' | 'throw';
}

export interface RecvOptions {
  /** Rejects with `signal.reason` when aborted (e.g. `AbortSignal.timeout(ms)`). */
  readonly signal?: AbortSignal;
  /** Rejects with a `TimeoutError` (code HOTSHM_TIMEOUT) after this many milliseconds. */
  readonly timeoutMs?: number;
  /**
   * Microseconds to poll the ring before sleeping (default 20). A reply that comes that fast
   * skips the ~50 µs trip through the pool thread; the event loop is held at most that long.
   */
  readonly spinMicros?: number;
}

/** Default for `RecvOptions.spinMicros`. */
export const RECV_SPIN_MICROS = 20;

export interface ReleaseOptions {
  /**
   * True when the renderer died of a fault (a signal, an uncaught exception, a non-zero exit)
   * rather than being stopped or returning: the messages it held count a crash against them.
   */
  readonly crashed: boolean;
}

/** What `releaseClaims` did. */
export interface ReleasedClaims<T> {
  /**
   * Messages the renderer had taken and not committed: they are queued again, first and in
   * order, for the next consumer.
   */
  readonly released: number;
  /** The message dropped because the renderers that held it crashed twice, if one was. */
  readonly poison?: PoisonMessage<T>;
}

export interface PoisonMessage<T> {
  /** Its index in the channel (messages since creation, wrapping at 2^32). */
  readonly index: number;
  /** The message, or undefined when its bytes do not decode. */
  readonly message: T | undefined;
  /** Messages this channel has dropped as poison, this one included (counted in shared memory). */
  readonly total: number;
  /** One line for a log or a host event. */
  readonly report: string;
}

/**
 * The accessor of a channel field.
 *
 * In a renderer its owner has stopped or replaced ("retired"), every receive ends: `for await`
 * loops finish, and `recv`, `recvSync`, `tryRecv` and `drain` throw `ChannelClosedError`, so the
 * messages sent from then on are left for the renderer that replaces it. Sends still work.
 */
export interface Channel<T> extends AsyncIterable<T> {
  readonly name: string;
  /** Messages the ring holds (1 with `latest`). */
  readonly capacity: number;
  readonly latest: boolean;
  readonly delivery: Delivery;
  /**
   * Messages waiting now (0 or 1 with `latest`); with `delivery: 'handled'` the ones taken and
   * not yet committed included (they still hold their slots).
   */
  readonly length: number;
  /**
   * Queues a message. When the ring is full: returns false, or throws ChannelFullError with
   * `{ onFull: 'throw' }`. Never drops a message silently. Throws ValueError/CapacityError when
   * the message does not fit the schema (nothing is published then).
   */
  send(message: T, options?: SendOptions): boolean;
  /** Queues a message if there is room; false otherwise. */
  trySend(message: T): boolean;
  /** The next message, or undefined at once if there is none. Never blocks. */
  tryRecv(): T | undefined;
  /** The next message; waits without blocking the event loop. */
  recv(options?: RecvOptions): Promise<T>;
  /** The next message, blocking this thread (spin, then park) up to `timeoutMs`; undefined on timeout. */
  recvSync(timeoutMs?: number): T | undefined;
  /**
   * Every message waiting now, oldest first. With `delivery: 'handled'`, the whole batch is
   * committed by the next receive call, or message by message with `ack()`; after a crash, the
   * messages the crashed renderer held come one per call.
   */
  drain(): T[];
  /**
   * `delivery: 'handled'`: commits the oldest message this consumer has taken and not committed
   * (so a crash from here on does not hand it to the next renderer). Returns false when it held
   * none (always, with `delivery: 'taken'`). Any receive call commits every message taken before.
   * Leaving a `for await` loop early (`break`) commits nothing: call `ack()` first if the last
   * message was handled.
   */
  ack(): boolean;
  /**
   * The owner's side, `delivery: 'handled'`: gives back the messages a renderer of `epoch` had
   * taken and not committed, once that renderer has exited (the host calls it on every renderer
   * exit, before the epoch is handed to another renderer). Messages a crashed renderer held are
   * then delivered one at a time; one whose holder crashes too is dropped, counted in shared
   * memory and returned as `poison`. A no-op for a renderer that held nothing, and with
   * `delivery: 'taken'`. Never call it for a renderer that still runs.
   */
  releaseClaims(epoch: number, options: ReleaseOptions): ReleasedClaims<T>;
}

const EMPTY: unique symbol = Symbol('empty');
type Taken<T> = T | typeof EMPTY;

function timeoutError(name: string, ms: number): TimeoutError {
  return new TimeoutError(`channel ${name}: no message within ${ms} ms`, ms);
}

const RETIRED = 'its owner stopped or replaced this renderer';

abstract class ChannelBase<T> implements Channel<T> {
  readonly name: string;
  abstract readonly capacity: number;
  abstract readonly latest: boolean;
  readonly delivery: Delivery = 'taken';
  protected readonly ctx: ChannelContext;
  protected readonly schema: Schema<T, unknown>;
  protected readonly i32: Int32Array;
  protected readonly view: DataView;
  protected readonly slotsOffset: number;
  /** The word consumers wait on. */
  protected readonly ready: SharedWord;
  /** The region's doorbell: one async sleep per process serves every channel of the region. */
  protected readonly doorbell: SharedWord;
  /**
   * Handled delivery: messages this consumer has taken and not committed. Every receive call
   * settles them first (commits them: the consumer asked for the next one).
   */
  protected uncommitted = 0;
  /**
   * Handled delivery: the claimer value that made the last take come back empty-handed while
   * messages were queued (0: none); the receive then waits on `claimWord` for its release.
   */
  protected blockedBy = 0;
  protected claimWord: SharedWord;

  constructor(ctx: ChannelContext, offset: number, schema: Schema<T, unknown>, name: string) {
    this.ctx = ctx;
    this.schema = schema;
    this.name = name;
    this.view = ctx.view;
    this.i32 = new Int32Array(ctx.buffer, offset, CONTROL_WORDS);
    this.slotsOffset = offset + alignUp(SLOTS_OFFSET, schema.align);
    this.ready = sharedWord(ctx.buffer, ctx.address, offset + Slot.write * 4);
    this.claimWord = this.ready;
    this.doorbell = sharedWord(
      ctx.buffer,
      ctx.address,
      HeaderOffset.doorbell,
      HeaderOffset.doorbellWaiters,
    );
  }

  abstract get length(): number;
  protected abstract take(): Taken<T>;
  protected abstract put(message: T): boolean;

  protected open(): void {
    this.ctx.assertOpen(`channel ${this.name}`);
  }

  /** Commits the messages taken before (handled delivery; see `uncommitted`). */
  protected settle(): void {}

  ack(): boolean {
    this.open();
    return false;
  }

  releaseClaims(epoch: number, options: ReleaseOptions): ReleasedClaims<T> {
    this.open();
    if (this.ctx.role !== 'owner') {
      throw new InvalidArgumentError(
        `channel ${this.name}: releaseClaims is the owner's, called in a renderer (epoch ${this.ctx.epoch})`,
      );
    }
    if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 1 || epoch > 2 ** 31 - 2) {
      throw new InvalidArgumentError(
        `channel ${this.name}: releaseClaims: expected a renderer's epoch (an integer ≥ 1), got ${describe(epoch)}`,
      );
    }
    const crashed: unknown = (options as Partial<ReleaseOptions> | undefined)?.crashed;
    if (typeof crashed !== 'boolean') {
      throw new InvalidArgumentError(
        `channel ${this.name}: releaseClaims: expected options { crashed: boolean }, got ${describe(options)}`,
      );
    }
    return this.release(epoch, crashed);
  }

  /** What `releaseClaims` does once its arguments are checked. */
  protected release(_epoch: number, _crashed: boolean): ReleasedClaims<T> {
    return { released: 0 };
  }

  /** After a publish: wake sync receivers if any sleep, and ring the region's doorbell. */
  protected published(): void {
    wake(this.ready);
    this.ctx.ringDoorbell();
  }

  /**
   * Wakes every receiver parked on this channel, in any process, without publishing anything:
   * they look again and see that they were retired (see ChannelEndpoint.retired).
   */
  interruptWaiters(): void {
    wake(this.ready, Number.POSITIVE_INFINITY);
    this.ctx.ringDoorbell();
  }

  send(message: T, options?: SendOptions): boolean {
    this.open();
    const onFull = options?.onFull ?? 'return-false';
    if (onFull !== 'return-false' && onFull !== 'throw') {
      throw new InvalidArgumentError(
        `channel ${this.name}: send's onFull: expected 'return-false' or 'throw', got ${describe(onFull)}`,
      );
    }
    if (this.#send(message)) return true;
    if (onFull === 'throw') throw new ChannelFullError(this.name, this.capacity);
    return false;
  }

  trySend(message: T): boolean {
    this.open();
    return this.#send(message);
  }

  /** Messages sent while the producer gate was closed, oldest first. */
  #held: T[] = [];

  /** Ends a parked receive when the owner retires this renderer (see interruptWaiters). */
  readonly #retired = (): boolean => this.ctx.retired === true;
  readonly #interrupted = { until: this.#retired };

  /**
   * A renderer that has just replaced another may overlap with it for a few milliseconds, and a
   * ring has one producer: until the supervisor says the old renderer is gone, messages wait here,
   * checked and in order, then go to the ring in one go.
   */
  #send(message: T): boolean {
    const gate = this.ctx.producerGate;
    if (this.#held.length > 0 || (gate && !gate.open)) {
      if (gate && !gate.open) {
        if (this.#held.length + this.length >= this.capacity) return false;
        this.schema.check(message, `channel ${this.name}`);
        if (this.#held.length === 0) gate.whenOpen(() => this.#flush());
        this.#held.push(message);
        return true;
      }
      this.#flush();
      if (this.#held.length > 0) return false;
    }
    return this.put(message);
  }

  #flush(): void {
    if (this.ctx.closed) return;
    while (this.#held.length > 0 && this.put(this.#held[0] as T)) this.#held.shift();
  }

  tryRecv(): T | undefined {
    this.open();
    // Asking for the next message commits the last one, also in a renderer that was retired.
    if (this.uncommitted !== 0) this.settle();
    if (this.ctx.retired) throw new ChannelClosedError(this.name, RETIRED);
    const taken = this.take();
    return taken === EMPTY ? undefined : taken;
  }

  drain(): T[] {
    this.open();
    if (this.uncommitted !== 0) this.settle();
    if (this.ctx.retired) throw new ChannelClosedError(this.name, RETIRED);
    return this.takeAll();
  }

  /**
   * Messages one by one, at most `limit` of them: a producer that keeps up with this loop must
   * not keep it going forever (drain() is called from frame loops).
   */
  protected takeAll(limit = this.capacity): T[] {
    const out: T[] = [];
    for (let i = 0; i < limit; i++) {
      const taken = this.take();
      if (taken === EMPTY) break;
      out.push(taken);
    }
    return out;
  }

  recvSync(timeoutMs?: number): T | undefined {
    const timeout = checkTimeout(timeoutMs, `channel ${this.name}: recvSync`);
    const deadline = performance.now() + timeout;
    this.open();
    if (this.uncommitted !== 0) this.settle();
    for (;;) {
      this.open();
      if (this.ctx.retired) throw new ChannelClosedError(this.name, RETIRED);
      const seen = Atomics.load(this.i32, Slot.write);
      // Read the word we would sleep on BEFORE looking for a message: a publish after this look
      // changes it, so the wait below returns at once instead of sleeping through the message.
      const taken = this.take();
      if (taken !== EMPTY) return taken;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      const wait = Math.min(remaining, CLOSED_CHECK_MS);
      // Messages are queued but another consumer holds them: wait for its claim to go instead.
      if (this.blockedBy !== 0) waitSync(this.claimWord, this.blockedBy, wait, this.#interrupted);
      else waitSync(this.ready, seen, wait, this.#interrupted);
    }
  }

  async recv(options?: RecvOptions): Promise<T> {
    const timeout = checkTimeout(options?.timeoutMs, `channel ${this.name}: recv's timeoutMs`);
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) {
      throw new InvalidArgumentError(
        `channel ${this.name}: recv's signal: expected an AbortSignal, got ${describe(signal)}`,
      );
    }
    const spinMicros = options?.spinMicros ?? RECV_SPIN_MICROS;
    if (typeof spinMicros !== 'number' || !(spinMicros >= 0)) {
      throw new InvalidArgumentError(
        `channel ${this.name}: recv's spinMicros: expected a number ≥ 0, got ${describe(spinMicros)}`,
      );
    }
    const start = performance.now();
    const deadline = start + timeout;
    this.open();
    if (this.uncommitted !== 0) this.settle();
    if (this.ctx.retired) throw new ChannelClosedError(this.name, RETIRED);
    const spinEnd = start + Math.min(timeout, spinMicros / 1000);
    while (performance.now() < spinEnd) {
      const taken = this.take();
      if (taken !== EMPTY) return taken;
    }
    for (;;) {
      this.open();
      signal?.throwIfAborted();
      if (this.ctx.retired) throw new ChannelClosedError(this.name, RETIRED);
      const seen = Atomics.load(this.i32, Slot.write);
      const taken = this.take();
      if (taken !== EMPTY) return taken;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw timeoutError(this.name, timeout);
      const wait = Math.min(remaining, CLOSED_CHECK_MS);
      if (this.blockedBy !== 0) {
        // Another consumer holds the queued messages: its release changes the claimer word and
        // wakes its waiters (no doorbell is rung for it).
        const blockedOptions =
          signal === undefined ? { until: this.#retired } : { until: this.#retired, signal };
        await waitAsync(this.claimWord, this.blockedBy, wait, blockedOptions);
        continue;
      }
      const waitOptions =
        signal === undefined
          ? { doorbell: this.doorbell, until: this.#retired }
          : { doorbell: this.doorbell, until: this.#retired, signal };
      await waitAsync(this.ready, seen, wait, waitOptions);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      // A renderer its owner stopped or replaced ends its loop instead of throwing: `main()`
      // returns and the renderer exits on its own.
      next: async (): Promise<IteratorResult<T>> => {
        try {
          return { value: await this.recv(), done: false };
        } catch (error) {
          if (error instanceof ChannelClosedError) return { value: undefined, done: true };
          throw error;
        }
      },
      return: async (): Promise<IteratorResult<T>> => ({ value: undefined, done: true }),
    };
  }
}

/** What `moveMessages` did. */
export interface MovedMessages {
  /** Messages now queued in the new ring, oldest first. */
  readonly moved: number;
  /** Pending messages taken from the old ring that the new one had no room for (the newest). */
  readonly dropped: number;
}

const MOVE: unique symbol = Symbol('hotshm.channel.move');

/**
 * State layer only (a migration, once no consumer runs on `from`): takes every message pending
 * in `from` and queues their bytes, in order, in `to`, a ring of the same message type in a fresh
 * region with nothing queued yet. Undefined when the two are not such rings (latest channels,
 * another message type): the caller carries values instead.
 *
 * The take is the consumers' own commit, one CAS of readIndex over all of them, so a consumer
 * still taking from `from` gets each message or the move does, never both (with handled delivery
 * a consumer must be gone: what gone consumers held and did not commit is moved too, and messages
 * a crashed one held stay suspects in `to`). No message is decoded: this costs a copy of the bytes.
 */
export function moveMessages(
  from: Channel<unknown>,
  to: Channel<unknown>,
): MovedMessages | undefined {
  if (!(from instanceof RingChannel) || !(to instanceof RingChannel)) return undefined;
  return from[MOVE](to);
}

class RingChannel<T> extends ChannelBase<T> {
  readonly capacity: number;
  readonly latest = false;
  readonly #mask: number;
  readonly #slotSize: number;
  /**
   * Last values seen of the other side's index. Reading the other side's line costs a cache-line
   * transfer between cores; the producer only needs a fresh readIndex when the ring looks full,
   * the consumer a fresh writeIndex when it looks empty. Both indices only grow, so a stale copy
   * only ever under-estimates room or messages, never over-estimates them.
   */
  #readSeen = 0;
  #writeSeen = 0;

  constructor(
    ctx: ChannelContext,
    offset: number,
    schema: Schema<T, unknown>,
    name: string,
    capacity: number,
  ) {
    super(ctx, offset, schema, name);
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#slotSize = schema.size;
  }

  get length(): number {
    this.open();
    return this.used(Atomics.load(this.i32, Slot.write), Atomics.load(this.i32, Slot.read));
  }

  /** See `moveMessages`. */
  [MOVE](to: RingChannel<unknown>): MovedMessages | undefined {
    if (to.schema.signature !== this.schema.signature) return undefined;
    this.open();
    to.open();
    const size = this.#slotSize;
    const src = new Uint8Array(this.view.buffer, this.view.byteOffset);
    const dst = new Uint8Array(to.view.buffer, to.view.byteOffset);
    for (;;) {
      const read = Atomics.load(this.i32, Slot.read);
      const n = this.used(Atomics.load(this.i32, Slot.write), read);
      const k = Math.min(n, to.capacity);
      // Slot i of the fresh ring gets message read + i, in at most two runs on each side.
      for (let i = 0; i < k; ) {
        const from = (read + i) & this.#mask;
        const run = Math.min(k - i, this.capacity - from);
        const at = this.slotsOffset + from * size;
        dst.set(src.subarray(at, at + run * size), to.slotsOffset + i * size);
        i += run;
      }
      // Committed AFTER the copy (see the module comment); a consumer that moved meanwhile
      // makes us copy again from where it left off.
      if (n > 0 && Atomics.compareExchange(this.i32, Slot.read, read, (read + n) | 0) !== read) {
        continue;
      }
      const suspects = (Atomics.load(this.i32, Slot.suspectEnd) - read) >>> 0;
      if (suspects !== 0 && suspects <= this.capacity) {
        Atomics.store(to.i32, Slot.suspectEnd, Math.min(suspects, k));
      }
      Atomics.store(to.i32, Slot.write, k);
      if (k > 0) to.published();
      return { moved: k, dropped: n - k };
    }
  }

  /**
   * Messages between the two indices; out of range, the owner empties the ring (and reports it)
   * and a renderer throws CorruptRegionError.
   */
  protected used(write: number, read: number): number {
    const used = (write - read) >>> 0;
    if (used > this.capacity) {
      const what = `channel ${this.name}: expected at most ${this.capacity} queued messages, got write index ${write >>> 0} and read index ${read >>> 0} in region ${this.ctx.regionName}`;
      const report = this.ctx.onCorrupt;
      if (report === undefined) throw new CorruptRegionError(what);
      // The owner repairs instead of throwing into its frame loop: the queued messages cannot be
      // told from garbage, so the ring starts empty again from the producer's index.
      Atomics.compareExchange(this.i32, Slot.read, read, write);
      this.#readSeen = write;
      this.#writeSeen = write;
      report(`${what}; the ring was emptied`);
      return 0;
    }
    return used;
  }

  /** Byte offset of the slot of message `index`. */
  protected slotAt(index: number): number {
    return this.slotsOffset + (index & this.#mask) * this.#slotSize;
  }

  /** Owner side: a queued message that does not decode is dropped (and reported), not thrown. */
  protected skipCorrupt(read: number, error: unknown): boolean {
    const report = this.ctx.onCorrupt;
    if (report === undefined) return false;
    if (Atomics.compareExchange(this.i32, Slot.read, read, (read + 1) | 0) === read) {
      report(
        `channel ${this.name}: message ${read >>> 0} does not decode (${error instanceof Error ? error.message : String(error)}); it was dropped`,
      );
    }
    return true;
  }

  protected put(message: T): boolean {
    // Only this process writes writeIndex, so this load is just our own last store.
    const write = Atomics.load(this.i32, Slot.write);
    if ((write - this.#readSeen) >>> 0 >= this.capacity) {
      this.#readSeen = Atomics.load(this.i32, Slot.read);
      if (this.used(write, this.#readSeen) === this.capacity) return false;
    }
    // Encode first (it validates and may throw: nothing is published then)…
    this.schema.write(this.view, this.slotsOffset + (write & this.#mask) * this.#slotSize, message);
    // …and only then publish it.
    Atomics.store(this.i32, Slot.write, (write + 1) | 0);
    this.published();
    return true;
  }

  protected take(): Taken<T> {
    for (;;) {
      const read = Atomics.load(this.i32, Slot.read);
      let write = this.#writeSeen;
      // A cached writeIndex behind readIndex (another consumer went further) is as good as equal.
      if (read === write || (write - read) >>> 0 > this.capacity) {
        write = Atomics.load(this.i32, Slot.write);
        this.#writeSeen = write;
        if (read === write) return EMPTY;
        this.used(write, read);
      }
      let value: T;
      try {
        value = this.schema.read(
          this.view,
          this.slotsOffset + (read & this.#mask) * this.#slotSize,
        );
      } catch (error) {
        // Another consumer took this slot and the producer is already rewriting it: our copy
        // is torn, so it may not even decode. Look again; if nobody moved, it is real corruption.
        if (Atomics.load(this.i32, Slot.read) !== read) continue;
        if (this.skipCorrupt(read, error)) continue;
        throw error;
      }
      // Checked after readIndex was loaded: a newer renderer that began its epoch before this
      // load has committed nothing this load did not see, so no take of ours lands after one of
      // its takes (messages stay in order across a hand-over).
      if (this.ctx.superseded === true) return EMPTY;
      // Commit AFTER the copy is complete (see the module comment).
      if (Atomics.compareExchange(this.i32, Slot.read, read, (read + 1) | 0) === read) return value;
    }
  }

  /**
   * Every waiting message with ONE commit: copies them all, then moves readIndex past all of them
   * with a single CAS (one cache-line transfer instead of one per message). A consumer killed
   * before the CAS has taken none of them; a failed CAS (another consumer took some) drops the
   * copies and starts again.
   */
  protected override takeAll(): T[] {
    for (;;) {
      const read = Atomics.load(this.i32, Slot.read);
      const write = Atomics.load(this.i32, Slot.write);
      this.#writeSeen = write;
      const n = this.used(write, read);
      if (n === 0) return [];
      const out = new Array<T>(n);
      try {
        for (let i = 0; i < n; i++) {
          out[i] = this.schema.read(
            this.view,
            this.slotsOffset + ((read + i) & this.#mask) * this.#slotSize,
          );
        }
      } catch (error) {
        if (Atomics.load(this.i32, Slot.read) !== read) continue;
        // The owner takes them one by one instead, dropping those that do not decode.
        if (this.ctx.onCorrupt !== undefined) return super.takeAll(n);
        throw error;
      }
      if (this.ctx.superseded === true) return [];
      if (Atomics.compareExchange(this.i32, Slot.read, read, (read + n) | 0) === read) return out;
    }
  }
}

/**
 * A ring with `delivery: 'handled'`: a take claims messages (see the module comment) and the next
 * receive, or `ack()`, commits them. Only the take paths differ from RingChannel's; sending is the
 * same.
 */
class HandledRingChannel<T> extends RingChannel<T> {
  override readonly delivery = 'handled';
  /** This side's value in the claimer word: its epoch + 1 (the owner's epoch is 0). */
  readonly #code: number;
  /** Index of the oldest message this consumer holds (`uncommitted` of them). */
  #uncommittedFrom = 0;
  /**
   * Of those, the ones handled (asked past or acknowledged) while the producer gate was closed:
   * they are committed when it opens (see the module comment).
   */
  #deferred = 0;

  constructor(
    ctx: ChannelContext,
    offset: number,
    schema: Schema<T, unknown>,
    name: string,
    capacity: number,
  ) {
    super(ctx, offset, schema, name, capacity);
    this.#code = (ctx.epoch + 1) | 0;
    this.claimWord = sharedWord(
      ctx.buffer,
      ctx.address,
      offset + Slot.claimer * 4,
      offset + Slot.claimWaiters * 4,
    );
  }

  protected override take(): Taken<T> {
    const taken = this.#claim(1);
    return taken === undefined ? EMPTY : (taken[0] as T);
  }

  protected override takeAll(): T[] {
    return this.#claim(this.capacity) ?? [];
  }

  /**
   * Takes up to `limit` messages under the claim: undefined when none is queued, when another
   * consumer holds the claim (then `blockedBy` says whose), or when this renderer is superseded.
   */
  #claim(limit: number): T[] | undefined {
    const i32 = this.i32;
    this.blockedBy = 0;
    // Nothing queued: leave the claimer word alone (a spinning or parked recv looks here often).
    if (Atomics.load(i32, Slot.read) === Atomics.load(i32, Slot.write)) return undefined;
    const holder = Atomics.compareExchange(i32, Slot.claimer, NO_CLAIM, this.#code);
    // Still ours while it holds handled messages that wait for the producer gate.
    if (holder !== NO_CLAIM && !(holder === this.#code && this.#deferred > 0)) {
      // Held by another consumer, alive, or gone and not yet released by the owner.
      this.blockedBy = holder;
      return undefined;
    }
    try {
      return this.#takeClaimed(limit);
    } finally {
      if (this.uncommitted === 0) this.#unclaim();
    }
  }

  #takeClaimed(limit: number): T[] | undefined {
    const i32 = this.i32;
    for (;;) {
      const committed = Atomics.load(i32, Slot.read);
      // Takes go on after the handled messages that wait for the gate (all it holds, then: every
      // receive settles what was taken before).
      const read = (committed + this.#deferred) | 0;
      const used = this.used(Atomics.load(i32, Slot.write), read);
      if (used === 0) return undefined;
      // The messages a crashed renderer held go out one at a time, so that a second crash names
      // the one message that caused it.
      let n = this.#suspect(read) ? 1 : Math.min(used, limit);
      const out = new Array<T>(n);
      let i = 0;
      try {
        for (; i < n; i++) out[i] = this.schema.read(this.view, this.slotAt(read + i));
      } catch (error) {
        // Only the owner moves readIndex under our claim: it repaired the ring meanwhile.
        if (Atomics.load(i32, Slot.read) !== committed) continue;
        if (i === 0) {
          if (this.#deferred === 0 && this.skipCorrupt(read, error)) continue;
          throw error;
        }
        // Deliver the good ones; the next take meets the bad one alone.
        n = i;
        out.length = n;
      }
      // After the claim (see the module comment): a renderer that began its epoch before this
      // load has taken nothing since, and takes after our release.
      if (this.ctx.superseded === true) return undefined;
      // Before the messages are returned: a consumer killed before this store held nothing.
      Atomics.store(i32, Slot.claimEnd, (read + n) | 0);
      if (this.#deferred === 0) this.#uncommittedFrom = read;
      this.uncommitted = this.#deferred + n;
      return out;
    }
  }

  /** Whether message `read` is one that a crashed renderer held. */
  #suspect(read: number): boolean {
    const ahead = (Atomics.load(this.i32, Slot.suspectEnd) - read) >>> 0;
    return ahead !== 0 && ahead <= this.capacity;
  }

  /** Clears the claimer word if it is still ours, then wakes consumers parked on it. */
  #unclaim(): void {
    Atomics.compareExchange(this.i32, Slot.claimer, this.#code, NO_CLAIM);
    // After the clear (sync/wait.ts): a consumer that found the claim taken either sees the
    // clear on its last look or is counted and woken here.
    wake(this.claimWord);
  }

  /** Commits `n` held messages from the oldest; false if the claim was no longer ours. */
  #commit(n: number): boolean {
    const from = this.#uncommittedFrom;
    // Still ours unless the owner released it (it must not, for a live renderer): then what we
    // held may be another consumer's by now, and committing it would skip it for them.
    const ours =
      Atomics.load(this.i32, Slot.claimer) === this.#code &&
      // Only the holder moves readIndex, so this fails only if the owner emptied or skipped part
      // of the ring meanwhile (damage it repaired and reported): what we held is gone then.
      Atomics.compareExchange(this.i32, Slot.read, from, (from + n) | 0) === from;
    this.#uncommittedFrom = (from + n) | 0;
    this.uncommitted = ours ? this.uncommitted - n : 0;
    return ours;
  }

  protected override settle(): void {
    if (this.#deferTo(this.uncommitted)) return;
    this.#commit(this.uncommitted);
    this.#unclaim();
  }

  override ack(): boolean {
    this.open();
    if (this.uncommitted === this.#deferred) return false;
    if (this.#deferTo(this.#deferred + 1)) return true;
    const committed = this.#commit(1);
    if (this.uncommitted === 0) this.#unclaim();
    return committed;
  }

  /**
   * While the producer gate is closed: marks the oldest `handled` messages held as handled, to be
   * committed once it opens, and says true. False once it is open (commit now).
   */
  #deferTo(handled: number): boolean {
    const gate = this.ctx.producerGate;
    if (gate === undefined || gate.open) return false;
    if (this.#deferred === 0) gate.whenOpen(() => queueMicrotask(() => this.#commitDeferred()));
    this.#deferred = handled;
    // Before the next take: a renderer killed from here on handed these over uncommitted.
    Atomics.store(this.i32, Slot.handledEnd, (this.#uncommittedFrom + handled) | 0);
    return true;
  }

  /**
   * The gate opened and the held sends went to their rings (the listeners that flushed them ran
   * before this microtask): what was handled meanwhile is committed now.
   */
  #commitDeferred(): void {
    const n = this.#deferred;
    this.#deferred = 0;
    if (n === 0 || this.ctx.closed) return;
    this.#commit(n);
    if (this.uncommitted === 0) this.#unclaim();
  }

  override interruptWaiters(): void {
    super.interruptWaiters();
    // Receivers blocked by another consumer's claim sleep on the claimer word.
    wake(this.claimWord, Number.POSITIVE_INFINITY);
  }

  protected override release(epoch: number, crashed: boolean): ReleasedClaims<T> {
    const i32 = this.i32;
    const code = (epoch + 1) | 0;
    if (Atomics.load(i32, Slot.claimer) !== code) return { released: 0 };
    // That renderer is gone and its value is still in claimer: nobody else moves readIndex or
    // writes these words until we clear it, so plain stores do.
    let read = Atomics.load(i32, Slot.read);
    const claimEnd = Atomics.load(i32, Slot.claimEnd);
    let held = (claimEnd - read) >>> 0;
    // Claimed and died before it took any, or the ring was emptied under it (claimEnd behind).
    if (held > this.capacity) held = 0;
    // Handled while its gate was closed: nothing it did with them left the renderer, so they go
    // to the next one as if never taken, and its crash was no handling of a suspect.
    const deferred = (Atomics.load(i32, Slot.handledEnd) - read) >>> 0;
    const handledUnseen = held > 0 && deferred > 0 && deferred <= held;
    let poison: PoisonMessage<T> | undefined;
    if (crashed && held > 0 && !handledUnseen) {
      if (this.#suspect(read)) {
        poison = this.#dropPoison(read);
        read = (read + 1) | 0;
        held--;
      }
      // What it held (after the poison) was held by a renderer that crashed: suspects now.
      const suspects = (Atomics.load(i32, Slot.suspectEnd) - read) >>> 0;
      if (held > 0 && (suspects > this.capacity || held > suspects)) {
        Atomics.store(i32, Slot.suspectEnd, claimEnd);
      }
    }
    Atomics.store(i32, Slot.claimEnd, read);
    Atomics.store(i32, Slot.handledEnd, read);
    // Last: the words above are the next claimer's to read.
    Atomics.compareExchange(i32, Slot.claimer, code, NO_CLAIM);
    wake(this.claimWord);
    return poison === undefined ? { released: held } : { released: held, poison };
  }

  /** Drops message `read` as poison: the owner holds the claim of a gone renderer. */
  #dropPoison(read: number): PoisonMessage<T> {
    let message: T | undefined;
    let shown: string;
    try {
      message = this.schema.read(this.view, this.slotAt(read));
      shown = preview(message);
    } catch (error) {
      shown = `(does not decode: ${error instanceof Error ? error.message : String(error)})`;
    }
    Atomics.store(this.i32, Slot.read, (read + 1) | 0);
    const total = (Atomics.add(this.i32, Slot.poisoned, 1) + 1) >>> 0;
    const report = `channel ${this.name}: message ${read >>> 0} ${shown} was being handled by two renderers that crashed; it was dropped (${total} dropped so far)`;
    return { index: read >>> 0, message, total, report };
  }
}

/** A short, safe rendering of a message for a report (bigints and long values included). */
function preview(value: unknown): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ??
      String(value);
  } catch {
    text = describe(value);
  }
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

class LatestChannel<T> extends ChannelBase<T> {
  readonly capacity = 1;
  readonly latest = true;

  get length(): number {
    this.open();
    const seq = Atomics.load(this.i32, Slot.write);
    return (seq & 1) === 0 && seq !== Atomics.load(this.i32, Slot.read) ? 1 : 0;
  }

  protected put(message: T): boolean {
    // Validate before marking the slot as being written: a throw must not leave seq odd.
    this.schema.check(message, `channel ${this.name}`);
    const seq = Atomics.load(this.i32, Slot.write);
    // Odd means a producer died mid-write: start from the next even value; its torn bytes are
    // about to be overwritten and were never visible (readers skip odd sequences).
    const base = (seq & 1) === 0 ? seq : (seq + 1) | 0;
    Atomics.store(this.i32, Slot.write, (base + 1) | 0);
    this.schema.write(this.view, this.slotsOffset, message);
    // Publishes the value: even again, and different from every sequence a consumer has seen.
    Atomics.store(this.i32, Slot.write, (base + 2) | 0);
    this.published();
    return true;
  }

  protected take(): Taken<T> {
    for (;;) {
      const seq = Atomics.load(this.i32, Slot.write);
      const seen = Atomics.load(this.i32, Slot.read);
      if ((seq & 1) !== 0 || seq === seen) return EMPTY;
      let value: T;
      try {
        value = this.schema.read(this.view, this.slotsOffset);
      } catch (error) {
        if (Atomics.load(this.i32, Slot.write) !== seq) continue;
        const report = this.ctx.onCorrupt;
        if (report === undefined) throw error;
        // Owner side: mark the undecodable value as taken and report it.
        if (Atomics.compareExchange(this.i32, Slot.read, seen, seq) === seen) {
          report(
            `channel ${this.name}: its value does not decode (${error instanceof Error ? error.message : String(error)}); it was dropped`,
          );
        }
        return EMPTY;
      }
      // The producer moved while we copied: the copy may be torn; read the newer value instead.
      if (Atomics.load(this.i32, Slot.write) !== seq) continue;
      if (this.ctx.superseded === true) return EMPTY;
      // Claim it: another consumer that got there first makes this CAS fail, and the value is
      // then theirs.
      if (Atomics.compareExchange(this.i32, Slot.read, seen, seq) === seen) return value;
    }
  }
}

/** The schema of a channel field; binds to a `Channel<Infer<T>>`. */
export interface ChannelSchema<T extends Schema<unknown, unknown>>
  extends Schema<never, Channel<Infer<T>>> {
  readonly kind: 'channel';
  readonly topLevelOnly: true;
  readonly message: T;
  readonly capacity: number;
  readonly latest: boolean;
  readonly delivery: Delivery;
}

/**
 * A queue of messages of schema `message`, as a top-level state field.
 *
 * @example
 * const State = defineState({
 *   name: 'demo',
 *   reloadable: new URL('./renderer.ts', import.meta.url),
 *   args: struct({ players: u8 }),
 *   fields: ({ players }) => ({
 *     // A click a renderer was handling when it crashed goes to the next renderer.
 *     clicks: channel(struct({ player: u8, x: i32, y: i32 }), {
 *       capacity: 64 * players,
 *       delivery: 'handled',
 *     }),
 *   }),
 * });
 * const state = await State.owner({ players: 2 }); // owner
 * state.clicks.trySend({ player: 1, x: 3, y: 4 }); // false when the ring is full
 * const s = State.reloadable();                   // renderer
 * for (const c of s.clicks.drain()) {              // once per frame, never blocks
 *   handle(c);
 *   s.clicks.ack(); // handled: a crash from here on does not hand it to the next renderer
 * }
 * for await (const c of s.clicks) handle(c);       // or as they come: each one is committed
 *                                                  // when the loop asks for the next
 */
export function channel<T extends Schema<unknown, unknown>>(
  message: T,
  options: ChannelOptions,
): ChannelSchema<T> {
  assertNestable(message, 'channel(message)');
  if (typeof options !== 'object' || options === null) {
    throw new SchemaError(
      `channel(message, options): expected an options object such as { capacity: 64 }, got ${describe(options)}`,
    );
  }
  const latest = options.latest ?? false;
  if (typeof latest !== 'boolean') {
    throw new SchemaError(`channel: latest: expected a boolean, got ${describe(latest)}`);
  }
  const name = options.name;
  if (name !== undefined && (typeof name !== 'string' || name === '')) {
    throw new SchemaError(`channel: name: expected a non-empty string, got ${describe(name)}`);
  }
  const delivery: unknown = options.delivery ?? 'taken';
  if (delivery !== 'taken' && delivery !== 'handled') {
    throw new SchemaError(
      `channel: delivery: expected 'taken' or 'handled', got ${describe(options.delivery)}`,
    );
  }
  if (latest && delivery === 'handled') {
    throw new SchemaError(
      `channel: delivery 'handled' is for rings, got latest: true (a latest channel keeps only the newest value; a renderer that replaces a crashed one should send it again)`,
    );
  }
  const handled = delivery === 'handled';
  let capacity = 1;
  if (!latest || options.capacity !== undefined) {
    const c: unknown = options.capacity;
    if (
      typeof c !== 'number' ||
      !Number.isInteger(c) ||
      c < 1 ||
      c > MAX_CHANNEL_CAPACITY ||
      (c & (c - 1)) !== 0
    ) {
      throw new SchemaError(
        `channel: capacity: expected a power of two in [1, ${MAX_CHANNEL_CAPACITY}], got ${describe(c)}`,
      );
    }
    capacity = latest ? 1 : c;
  }
  const msg = message as Schema<Infer<T>, unknown>;
  const align = Math.max(LINE, msg.align);
  const slots = latest ? 1 : capacity;
  const size = alignUp(alignUp(SLOTS_OFFSET, msg.align) + slots * msg.size, align);
  // Taken delivery adds nothing, so the fingerprints of existing layouts stay what they were.
  const signature = `channel<${msg.signature}>(capacity=${capacity}${latest ? ',latest' : ''}${handled ? ',delivery=handled' : ''})`;
  const noValue = (): never => {
    throw new SchemaError(
      `${signature} has no plain value: use the bound Channel (send, recv…) of the state field`,
    );
  };
  return {
    kind: 'channel',
    topLevelOnly: true,
    message,
    capacity,
    latest,
    delivery,
    size,
    align,
    signature,
    read: noValue,
    write: noValue,
    check(value: unknown, path: string): void {
      throw new ValueError(
        `${path}: a channel field holds no value, got ${describe(value)}: send messages through the bound Channel instead`,
      );
    },
    bind(ctx: BindContext, offset: number, path?: string): Channel<Infer<T>> {
      if (offset % align !== 0) {
        throw new SchemaError(
          `${signature}: expected an offset aligned to ${align}, got ${offset}`,
        );
      }
      const label = name ?? path ?? 'channel';
      const side = channelContext(ctx);
      if (latest) return new LatestChannel(side, offset, msg, label);
      return handled
        ? new HandledRingChannel(side, offset, msg, label, capacity)
        : new RingChannel(side, offset, msg, label, capacity);
    },
    verify(view: DataView, offset: number, path: string): void {
      if (latest) return;
      const write = view.getUint32(offset + Slot.write * 4, true);
      const read = view.getUint32(offset + Slot.read * 4, true);
      const used = (write - read) >>> 0;
      if (used > capacity) {
        throw new CorruptRegionError(
          `${path}: expected at most ${capacity} queued messages, got write index ${write} and read index ${read}`,
        );
      }
    },
    repair(view: DataView, offset: number, path: string, deep: boolean): string | undefined {
      const i32 = new Int32Array(view.buffer, view.byteOffset + offset, CONTROL_WORDS);
      const slots = offset + alignUp(SLOTS_OFFSET, msg.align);
      if (latest) {
        const seq = Atomics.load(i32, Slot.write);
        if (!deep || (seq & 1) !== 0) return undefined;
        try {
          msg.read(view, slots);
          return undefined;
        } catch (error) {
          Atomics.store(i32, Slot.read, seq);
          return `${path}: its value does not decode (${error instanceof Error ? error.message : String(error)}); it was dropped`;
        }
      }
      if (handled) {
        // A suspect range long behind readIndex would look current again after 2^32 messages:
        // bring it to readIndex (only the owner writes suspectEnd, and it runs this).
        const read = Atomics.load(i32, Slot.read);
        if ((Atomics.load(i32, Slot.suspectEnd) - read) >>> 0 > capacity) {
          Atomics.store(i32, Slot.suspectEnd, read);
        }
      }
      for (;;) {
        const read = Atomics.load(i32, Slot.read);
        const write = Atomics.load(i32, Slot.write);
        const used = (write - read) >>> 0;
        let problem: string | undefined;
        if (used > capacity) {
          problem = `expected at most ${capacity} queued messages, got write index ${write >>> 0} and read index ${read >>> 0}`;
        } else if (deep) {
          for (let i = 0; i < used && problem === undefined; i++) {
            try {
              msg.read(view, slots + ((read + i) & (capacity - 1)) * msg.size);
            } catch (error) {
              problem = `queued message ${(read + i) >>> 0} does not decode (${error instanceof Error ? error.message : String(error)})`;
            }
          }
        }
        if (problem === undefined) return undefined;
        // Emptied from the producer's index: a consumer that moved meanwhile makes us look again.
        if (Atomics.compareExchange(i32, Slot.read, read, write) === read) {
          return `${path}: ${problem}; the ring was emptied`;
        }
      }
    },
  };
}
