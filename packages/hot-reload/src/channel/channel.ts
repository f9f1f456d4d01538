/**
 * A typed single-producer, single-consumer queue in shared memory, declared as a state field:
 * `channel(struct({ x: f32, y: f32 }), { capacity: 64 })`.
 *
 * Ring layout (offsets from the field; every hot word on its own 64-byte line):
 *   0   writeIndex u32 (producer's)   4   consumers parked on writeIndex
 *   64  readIndex u32 (consumers')
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
} as const;
const CONTROL_WORDS = SLOTS_OFFSET / 4;

/** How long one async or sync sleep lasts at most, so a closed region is noticed. */
const CLOSED_CHECK_MS = 1000;

export interface ChannelOptions {
  /** How many messages the ring holds: a power of two in [1, 2^20]. Ignored with `latest`. */
  readonly capacity: number;
  /** Keep only the newest value: send overwrites and never fails. */
  readonly latest?: boolean;
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
  /** Messages waiting now (0 or 1 with `latest`). */
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
  /** Every message waiting now, oldest first. */
  drain(): T[];
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
  protected readonly ctx: ChannelContext;
  protected readonly schema: Schema<T, unknown>;
  protected readonly i32: Int32Array;
  protected readonly view: DataView;
  protected readonly slotsOffset: number;
  /** The word consumers wait on. */
  protected readonly ready: SharedWord;
  /** The region's doorbell: one async sleep per process serves every channel of the region. */
  protected readonly doorbell: SharedWord;

  constructor(ctx: ChannelContext, offset: number, schema: Schema<T, unknown>, name: string) {
    this.ctx = ctx;
    this.schema = schema;
    this.name = name;
    this.view = ctx.view;
    this.i32 = new Int32Array(ctx.buffer, offset, CONTROL_WORDS);
    this.slotsOffset = offset + alignUp(SLOTS_OFFSET, schema.align);
    this.ready = sharedWord(ctx.buffer, ctx.address, offset + Slot.write * 4);
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
    if (this.ctx.retired) throw new ChannelClosedError(this.name, RETIRED);
    const taken = this.take();
    return taken === EMPTY ? undefined : taken;
  }

  drain(): T[] {
    this.open();
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
      waitSync(this.ready, seen, Math.min(remaining, CLOSED_CHECK_MS), this.#interrupted);
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
      const waitOptions =
        signal === undefined
          ? { doorbell: this.doorbell, until: this.#retired }
          : { doorbell: this.doorbell, until: this.#retired, signal };
      await waitAsync(this.ready, seen, Math.min(remaining, CLOSED_CHECK_MS), waitOptions);
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
    return this.#used(Atomics.load(this.i32, Slot.write), Atomics.load(this.i32, Slot.read));
  }

  #used(write: number, read: number): number {
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

  /** Owner side: a queued message that does not decode is dropped (and reported), not thrown. */
  #skipCorrupt(read: number, error: unknown): boolean {
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
      if (this.#used(write, this.#readSeen) === this.capacity) return false;
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
        this.#used(write, read);
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
        if (this.#skipCorrupt(read, error)) continue;
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
      const n = this.#used(write, read);
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
 *     clicks: channel(struct({ player: u8, x: i32, y: i32 }), { capacity: 64 * players }),
 *   }),
 * });
 * const state = await State.owner({ players: 2 }); // owner
 * state.clicks.trySend({ player: 1, x: 3, y: 4 }); // false when the ring is full
 * const s = State.reloadable();                   // renderer
 * for (const c of s.clicks.drain()) console.log(c.x, c.y); // once per frame, never blocks
 * for await (const c of s.clicks) console.log(c.x, c.y);   // or as they come
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
  const signature = `channel<${msg.signature}>(capacity=${capacity}${latest ? ',latest' : ''})`;
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
      return latest
        ? new LatestChannel(side, offset, msg, label)
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
