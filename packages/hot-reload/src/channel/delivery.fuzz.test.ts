/**
 * Property test of `delivery: 'handled'`: random runs of sends, renderers that start (and begin
 * their epoch), take one message, drain, acknowledge, are retired, crash or exit (released by the
 * owner at once or later), and floors given back, against a model of what the channel promises:
 *   - a consumer receives exactly the oldest uncommitted messages: in order, none skipped, none
 *     that was committed before (so, across every renderer, none lost and none doubled);
 *   - while a renderer holds messages, no other renderer receives any;
 *   - a renderer that is current, not retired and finds no claim receives what is queued;
 *   - what a gone renderer held is given back by `releaseClaims`, one at a time after a crash,
 *     and a message is dropped as poison exactly when two renderers that held it crashed;
 *   - a renderer whose producer gate is closed (it replaced one that may still run) commits
 *     nothing until the gate opens: what it handled meanwhile goes to the next renderer if it
 *     dies first, and its crash then counts against none of them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelClosedError, RegionClosedError } from '../errors.js';
import { HEADER_SIZE, HeaderSlot } from '../memory/header.js';
import { struct, u32 } from '../schema/index.js';
import type { BindContext } from '../schema/types.js';
import { type Channel, channel } from './channel.js';
import type { ProducerGate } from './endpoint.js';

/** A renderer's producer gate, opened by the run (the host's `exclusive`). */
class ModelGate implements ProducerGate {
  open = false;
  #listeners: Array<() => void> = [];
  whenOpen(listener: () => void): void {
    if (this.open) listener();
    else this.#listeners.push(listener);
  }
  /** Opens it; the deferred commits run in a microtask, so the caller awaits one. */
  openNow(): void {
    this.open = true;
    for (const l of this.#listeners.splice(0)) l();
  }
}

/** A BindContext over a plain buffer whose header words say who is superseded and retired. */
class ModelContext implements BindContext {
  readonly regionName = '/hotshm-model';
  readonly view: DataView;
  readonly address = 0n;
  readonly closed = false;
  readonly #header: Int32Array;
  constructor(
    readonly buffer: ArrayBuffer,
    readonly role: 'owner' | 'reloadable',
    readonly epoch: number,
    readonly producerGate?: ModelGate,
  ) {
    this.view = new DataView(buffer);
    this.#header = new Int32Array(buffer, 0, HEADER_SIZE / 4);
  }
  assertOpen(what?: string): void {
    if (this.closed) throw new RegionClosedError(this.regionName, what);
  }
  ringDoorbell(): void {}
  get retired(): boolean {
    return (
      this.role === 'reloadable' && Atomics.load(this.#header, HeaderSlot.retired) >= this.epoch
    );
  }
  get superseded(): boolean {
    return this.role === 'reloadable' && Atomics.load(this.#header, HeaderSlot.epoch) > this.epoch;
  }
}

const CAPACITY = 8;
const schema = channel(struct({ seq: u32 }), { capacity: CAPACITY, delivery: 'handled' });

type Step =
  | { kind: 'send'; count: number }
  | { kind: 'start'; gated: boolean }
  | { kind: 'open'; who: number }
  | { kind: 'take'; who: number; how: 'one' | 'drain' | 'ack' }
  | { kind: 'exit'; who: number; crashed: boolean; releaseNow: boolean }
  | { kind: 'release' }
  | { kind: 'retire'; who: number }
  | { kind: 'floor'; who: number };

const who = fc.nat(7);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('send'), count: fc.integer({ min: 1, max: 5 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('start'), gated: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('open'), who }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('take'),
      who,
      how: fc.constantFrom('one', 'drain', 'ack'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('exit'),
      who,
      crashed: fc.boolean(),
      releaseNow: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('retire'), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('floor'), who }) },
) as fc.Arbitrary<Step>;

interface Renderer {
  readonly epoch: number;
  readonly ch: Channel<{ seq: number }>;
  alive: boolean;
  /** Messages it received and has not committed (by asking again or acknowledging). */
  held: number[];
  /** Its producer gate, closed until the run opens it (absent: always open). */
  readonly gate: ModelGate | undefined;
  /** Of `held`, the oldest ones it handled while its gate was closed. */
  deferred: number;
  /** Gone, and the owner has not released its claim yet. */
  unreleased: boolean;
  crashed: boolean;
}

async function run(steps: readonly Step[]): Promise<void> {
  const offset = HEADER_SIZE;
  const buffer = new ArrayBuffer(offset + schema.size);
  const header = new Int32Array(buffer, 0, HEADER_SIZE / 4);
  const owner = schema.bind(new ModelContext(buffer, 'owner', 0), offset, 'model');
  const renderers: Renderer[] = [];
  // The model: messages below `committed` are done; `deaths` counts crashed holders per message.
  let sent = 0;
  let committed = 0;
  const deaths = new Map<number, number>();
  const poisoned = new Set<number>();
  const handled: number[] = [];
  /** The renderer other than `but` whose messages are out, if any (alive, or gone and unreleased). */
  const holder = (but?: Renderer): Renderer | undefined =>
    renderers.find((r) => r !== but && r.held.length > 0);
  const living = (): Renderer[] => renderers.filter((r) => r.alive);
  const pick = (n: number): Renderer | undefined => {
    const alive = living();
    return alive.length === 0 ? undefined : alive[n % alive.length];
  };
  const commit = (r: Renderer, n: number): void => {
    for (const seq of r.held.splice(0, n)) {
      expect(seq).toBe(committed);
      handled.push(seq);
      committed++;
    }
  };
  const release = (r: Renderer): void => {
    const result = owner.releaseClaims(r.epoch, { crashed: r.crashed });
    r.unreleased = false;
    const held = r.held.splice(0);
    const deferred = r.deferred;
    r.deferred = 0;
    let poison: number | undefined;
    // Nothing it did while its gate was closed left it: its crash counts against none of them.
    if (r.crashed && deferred === 0) {
      for (const seq of held) deaths.set(seq, (deaths.get(seq) ?? 0) + 1);
      if (held.length > 0 && (deaths.get(held[0]!) ?? 0) >= 2) poison = held[0];
    }
    if (poison === undefined) {
      expect(result).toEqual({ released: held.length });
    } else {
      expect(result.released).toBe(held.length - 1);
      expect(result.poison).toMatchObject({ index: poison, message: { seq: poison } });
      poisoned.add(poison);
      committed++;
    }
  };
  const suspect = (seq: number): boolean => (deaths.get(seq) ?? 0) > 0;

  for (const s of steps) {
    switch (s.kind) {
      case 'send': {
        for (let i = 0; i < s.count; i++) {
          const room = sent - committed < CAPACITY;
          expect(owner.trySend({ seq: sent })).toBe(room);
          if (room) sent++;
        }
        break;
      }
      case 'start': {
        const epoch = renderers.length + 1;
        const gate = s.gated ? new ModelGate() : undefined;
        const ctx = new ModelContext(buffer, 'reloadable', epoch, gate);
        renderers.push({
          epoch,
          ch: schema.bind(ctx, offset, 'model'),
          alive: true,
          held: [],
          gate,
          deferred: 0,
          unreleased: false,
          crashed: false,
        });
        Atomics.store(header, HeaderSlot.epoch, epoch);
        break;
      }
      case 'take': {
        const r = pick(s.who);
        if (r === undefined) break;
        const gated = r.gate !== undefined && !r.gate.open;
        if (s.how === 'ack') {
          const had = r.held.length > r.deferred;
          expect(r.ch.ack()).toBe(had);
          if (had && gated) r.deferred++;
          else if (had) commit(r, 1);
          break;
        }
        // Asking again commits what it held (once its gate is open).
        if (gated) r.deferred = r.held.length;
        else commit(r, r.held.length);
        const retired = Atomics.load(header, HeaderSlot.retired) >= r.epoch;
        let got: number[];
        try {
          got =
            s.how === 'one'
              ? [r.ch.tryRecv()].flatMap((m) => (m === undefined ? [] : [m.seq]))
              : r.ch.drain().map((m) => m.seq);
        } catch (error) {
          expect(error).toBeInstanceOf(ChannelClosedError);
          expect(retired).toBe(true);
          break;
        }
        expect(retired).toBe(false);
        const other = holder(r);
        const current = Atomics.load(header, HeaderSlot.epoch) <= r.epoch;
        // The first message not committed that it does not hold already (handled, gate closed).
        const next = committed + r.deferred;
        if (other !== undefined || !current || next === sent) {
          expect(got).toEqual([]);
          break;
        }
        // Current, not retired, nobody else holding: it receives the oldest messages not
        // committed, one at a time while they are suspects.
        const n = s.how === 'one' || suspect(next) ? 1 : sent - next;
        expect(got).toEqual(Array.from({ length: n }, (_, i) => next + i));
        r.held.push(...got);
        break;
      }
      case 'open': {
        const r = pick(s.who);
        if (r?.gate === undefined || r.gate.open) break;
        r.gate.openNow();
        // The deferred commit runs in a microtask queued by the gate's listener.
        await null;
        commit(r, r.deferred);
        r.deferred = 0;
        break;
      }
      case 'exit': {
        const r = pick(s.who);
        if (r === undefined) break;
        r.alive = false;
        r.crashed = s.crashed;
        r.unreleased = true;
        if (s.releaseNow) release(r);
        break;
      }
      case 'release': {
        for (const r of renderers) if (r.unreleased) release(r);
        break;
      }
      case 'retire': {
        const r = pick(s.who);
        if (r !== undefined) Atomics.store(header, HeaderSlot.retired, r.epoch);
        break;
      }
      case 'floor': {
        // The owner gives the floor back to a renderer still running (a newer start failed).
        const r = pick(s.who);
        if (r !== undefined) Atomics.store(header, HeaderSlot.epoch, r.epoch);
        break;
      }
    }
  }

  // The end: every renderer goes, the owner releases them, and a last one takes what is left.
  for (const r of renderers) {
    if (r.alive) {
      r.alive = false;
      r.unreleased = true;
    }
    if (r.unreleased) release(r);
  }
  const last = schema.bind(
    new ModelContext(buffer, 'reloadable', renderers.length + 1),
    offset,
    'model',
  );
  Atomics.store(header, HeaderSlot.epoch, renderers.length + 1);
  // At most one drain per message (suspects come alone), and one more that finds none.
  for (let i = 0; i <= sent; i++) {
    for (const m of last.drain()) handled.push(m.seq);
  }
  expect(last.length).toBe(0);
  // Every message sent was handled once, in order, but those dropped as poison.
  const expected = Array.from({ length: sent }, (_, i) => i).filter((i) => !poisoned.has(i));
  expect(handled).toEqual(expected);
}

describe('handled delivery, random runs against the model', () => {
  it('none lost, none doubled, in order; claims exclusive; poison after two crashed holders', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 120 }), (steps) => run(steps)),
      { numRuns: 1_000 },
    );
  });

  it('a crash-heavy run drops poison and still delivers the rest', async () => {
    // Each renderer drains and crashes: every message in its batch gets a death, then they
    // go one at a time and each one's second holder crashes too.
    const steps: Step[] = [{ kind: 'send', count: 3 }];
    for (let i = 0; i < 6; i++) {
      steps.push({ kind: 'start', gated: false }, { kind: 'take', who: 0, how: 'drain' });
      steps.push({ kind: 'exit', who: 0, crashed: true, releaseNow: true });
    }
    await run(steps);
  });

  it('renderers killed before their gate opens, after handling the backlog, lose none of it', async () => {
    // A reload while clicks queue: each new renderer handles the backlog one message at a time
    // (asking for the next commits nothing yet), then dies before it is told it is exclusive.
    // Without the deferral every message it asked past would be committed and gone with it.
    const steps: Step[] = [{ kind: 'send', count: 5 }];
    for (let i = 0; i < 4; i++) {
      steps.push({ kind: 'start', gated: true });
      for (let k = 0; k < 4; k++) steps.push({ kind: 'take', who: 0, how: 'one' });
      steps.push({ kind: 'exit', who: 0, crashed: true, releaseNow: true });
    }
    // The last one's gate opens: what it handled is committed then, and nothing was dropped.
    steps.push({ kind: 'start', gated: true }, { kind: 'take', who: 0, how: 'drain' });
    steps.push({ kind: 'take', who: 0, how: 'one' }, { kind: 'open', who: 0 });
    await run(steps);
  });
});
