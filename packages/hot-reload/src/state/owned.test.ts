/**
 * The owner's side of a state over real shared regions: created with initial values, migrated to
 * a new layout (prepare → commit → release, or abort), the owner's view rebound (captured handles
 * included), its use of removed or retyped fields refused, adoption of another owner's region.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Channel, channel } from '../channel/index.js';
import {
  IncompatibleChangeError,
  InvalidArgumentError,
  RegionClosedError,
  RegionNotFoundError,
  SchemaError,
} from '../errors.js';
import { type FrameBuffer, framebuffer } from '../frames/index.js';
import { readHeader, validateHeader } from '../memory/header.js';
import { openRegion, type Region } from '../memory/index.js';
import {
  type Cell,
  f64,
  field,
  fixedString,
  type Schema,
  type StringAccess,
  struct,
  u8,
  u16,
  u32,
  u64,
} from '../schema/index.js';
import { RegionContext } from './context.js';
import { defineStateCore, layoutChange, registeredStates, type StateSpec } from './define.js';
import { describeLayout, type LayoutDescriptor, layoutFromDescriptor } from './descriptor.js';
import { layoutState, type StateLayout } from './layout.js';
import type { OwnedState } from './owned.js';

const Input = struct({ kind: u8, x: u16 });
type In = { kind: number; x: number };

let n = 0;
const owners: Array<{ close(): void }> = [];
afterEach(() => {
  for (const o of owners.splice(0)) o.close();
});

function define<F extends Record<string, Schema>>(
  fields: (args: { w: number }) => F,
  name?: string,
) {
  const spec: StateSpec<ReturnType<typeof struct<{ w: typeof u16 }>>, F> = {
    name: name ?? `owned-test-${process.pid}-${n++}`,
    reloadable: '/renderer.ts',
    args: struct({ w: u16 }),
    fields,
  };
  return defineStateCore(spec);
}

function own<F extends Record<string, Schema>>(
  fields: (args: { w: number }) => F,
  w = 4,
  name?: string,
) {
  const core = define(fields, name);
  const owned = core.create({ w });
  owners.push(owned);
  return { core, owned };
}

/** A new definition's layout as the renderer would send it: same state name, new fields. */
function descriptorOf(state: string, fields: Record<string, Schema>): LayoutDescriptor {
  return describeLayout(layoutState(state, fields, 192));
}

/** What a renderer of `epoch` sees on `region`, laid out as `layout`. */
function renderer(region: Region, layout: StateLayout, epoch: number): Record<string, unknown> {
  const ctx = new RegionContext(region, 'reloadable', epoch);
  return Object.fromEntries(
    layout.fields.map((f) => [f.name, f.schema.bind(ctx, f.offset, f.name)]),
  );
}

type Fields = Record<string, unknown>;
const f = (o: OwnedState<unknown, unknown>): Fields => o.fields as Fields;

describe('create', () => {
  it('writes the initial values and a header whose descriptor rebuilds the layout', () => {
    const { core, owned } = own(() => ({
      memory: struct({ clicks: field(u32, { initial: 3 }), colour: u32 }),
      title: field(fixedString(16), { initial: 'hello' }),
    }));
    const fields = f(owned) as {
      memory: { clicks: Cell<number>; get(): unknown };
      title: StringAccess;
    };
    expect(fields.memory.get()).toEqual({ clicks: 3, colour: 0 });
    expect(fields.title.get()).toBe('hello');
    const header = validateHeader(owned.region, { fingerprint: owned.layout.fingerprint });
    expect(layoutFromDescriptor(JSON.parse(header.descriptor!)).signature).toBe(
      owned.layout.signature,
    );
    expect(owned.describe()).toEqual(core.describe({ w: 4 }));
    expect(registeredStates()).toContain(core);
  });
});

describe('a migration to a new layout', () => {
  const before = () => ({
    memory: struct({ clicks: u32, colour: u32 }),
    toRenderer: channel(Input, { capacity: 8 }),
    fromRenderer: channel(fixedString(8), { capacity: 4 }),
    framebuffer: framebuffer(4, 2),
  });

  it('carries the values; the owner keeps using the handles it captured and the paths it reads', async () => {
    const { owned } = own(before);
    const fields = f(owned) as {
      memory: { clicks: Cell<number>; colour: Cell<number> };
      toRenderer: Channel<In>;
      fromRenderer: Channel<string>;
      framebuffer: FrameBuffer;
    };
    const clicks = fields.memory.clicks;
    const toRenderer = fields.toRenderer;
    const fromRenderer = fields.fromRenderer;
    clicks.set(2);
    fields.memory.colour.set(0xff00ff00);
    toRenderer.trySend({ kind: 1, x: 10 });
    const old = renderer(owned.region, owned.layout, 1);
    const fb = old.framebuffer as FrameBuffer;
    fb.back().fill(0xff112233);
    fb.present();
    (old.fromRenderer as Channel<string>).trySend('Render 2');
    const pending = fromRenderer.recv({ timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 0));
    // It was received before the migration: `recv` took it already. Send one more for later.
    expect(await pending).toBe('Render 2');
    const waiting = fromRenderer.recv({ timeoutMs: 5000 });

    const oldRegion = owned.region;
    const next = descriptorOf(owned.layout.state, {
      memory: struct({ clicks: u32, colour: u32, score: field(u32, { initial: 7 }) }),
      toRenderer: channel(struct({ kind: u8, x: u16, y: field(u16, { initial: 5 }) }), {
        capacity: 8,
      }),
      fromRenderer: channel(fixedString(8), { capacity: 4 }),
      framebuffer: framebuffer(4, 2),
    });
    const p = owned.prepareMigration(next);
    expect(p.phase).toBe('prepared');
    expect(owned.region).toBe(oldRegion);
    // Not ready until committed: no renderer can bind it half-carried.
    expect(readHeader(p.to).ready).toBe(false);
    const report = owned.commitMigration(p, { epoch: 2 });
    expect(owned.region).toBe(p.to);
    expect(readHeader(p.to)).toMatchObject({ ready: true, epoch: 2 });
    expect(report.added).toEqual(['memory.score']);
    expect(report.channels.find((c) => c.path === 'toRenderer')).toEqual({
      path: 'toRenderer',
      carried: 1,
      dropped: 0,
    });

    // The owner's captured cell and its whole path both read and write the new region.
    expect(clicks.get()).toBe(2);
    clicks.set(clicks.get() + 1);
    const now = renderer(p.to, layoutFromDescriptor(next), 2) as {
      memory: { clicks: Cell<number>; score: Cell<number>; get(): unknown };
      toRenderer: Channel<unknown>;
      fromRenderer: Channel<string>;
      framebuffer: FrameBuffer;
    };
    expect(now.memory.get()).toEqual({ clicks: 3, colour: 0xff00ff00, score: 7 });
    fields.memory.colour.set(1);
    expect(now.memory.get()).toEqual({ clicks: 3, colour: 1, score: 7 });

    // Channels: what was pending is there; the owner's sends are converted to the new message.
    toRenderer.trySend({ kind: 2, x: 20 });
    expect(now.toRenderer.drain()).toEqual([
      { kind: 1, x: 10, y: 5 },
      { kind: 2, x: 20, y: 5 },
    ]);
    // A receive pending across the migration goes on in the new region.
    now.fromRenderer.trySend('Render 3');
    expect(await waiting).toBe('Render 3');

    // The frame on screen stays until the new renderer draws.
    const front = fields.framebuffer.acquireFront()!;
    expect(front.pixels[0]).toBe(0xff112233);
    expect(front.epoch).toBe(2);
    fields.framebuffer.releaseFront();

    // The old region stays mapped (its renderer may still be stopping) until released.
    expect(() => openRegion(oldRegion.name).close()).not.toThrow();
    owned.releaseRegion(p);
    expect(p.phase).toBe('released');
    expect(() => openRegion(oldRegion.name)).toThrow(RegionNotFoundError);
    expect(oldRegion.closed).toBe(true);
  });

  it('follows a rename and a compatible retype of what the owner uses', () => {
    const { owned } = own(() => ({ memory: struct({ clicks: u32, level: u8 }) }));
    const memory = f(owned).memory as { clicks: Cell<number>; level: Cell<number>; get(): unknown };
    const clicks = memory.clicks;
    const level = memory.level;
    clicks.set(41);
    level.set(200);
    const next = descriptorOf(owned.layout.state, {
      memory: struct({ taps: field(f64, { renamedFrom: 'clicks' }), level: u16 }),
    });
    const report = owned.commitMigration(owned.prepareMigration(next), { epoch: 2 });
    expect(report.renamed).toEqual([{ from: 'memory.clicks', to: 'memory.taps' }]);
    expect(clicks.get()).toBe(41);
    clicks.set(1.5); // an f64 now: the owner's cell takes what the new type takes
    expect(level.get()).toBe(200);
    level.set(60000);
    const now = renderer(owned.region, owned.layout, 2) as { memory: { get(): unknown } };
    expect(now.memory.get()).toEqual({ taps: 1.5, level: 60000 });
    // The whole value in the shape the owner's code declared.
    expect(memory.get()).toEqual({ clicks: 1.5, level: 60000 });
  });

  it('refuses a layout that removes or incompatibly retypes a field the owner uses, naming it', () => {
    const { owned } = own(() => ({ memory: struct({ clicks: u32, spare: u32 }), other: u32 }));
    (f(owned).memory as { clicks: Cell<number> }).clicks.get();
    const state = owned.layout.state;
    const removing = descriptorOf(state, { memory: struct({ spare: u32 }), other: u32 });
    expect(() => owned.prepareMigration(removing)).toThrow(IncompatibleChangeError);
    expect(() => owned.prepareMigration(removing)).toThrow(
      "the owner's code uses memory.clicks, but the new state definition removes it: the owner must restart to use the new definition",
    );
    const retyping = descriptorOf(state, {
      memory: struct({ clicks: u64, spare: u32 }),
      other: u32,
    });
    let error: unknown;
    try {
      owned.prepareMigration(retyping);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IncompatibleChangeError);
    expect(error).toMatchObject({
      code: 'HOTSHM_INCOMPATIBLE_CHANGE',
      path: 'memory.clicks',
      reason: 'retypes it from u32 (a number) to u64 (a bigint)',
    });
    // What the owner never used may go; reaching it afterwards says why it cannot be used.
    const p = owned.prepareMigration(descriptorOf(state, { memory: struct({ clicks: u32 }) }));
    owned.commitMigration(p, { epoch: 2 });
    expect(() => (f(owned).memory as { spare: unknown }).spare).toThrow(
      "the owner's code uses memory.spare, but the new state definition removes it",
    );
    expect(() => f(owned).other).toThrow(IncompatibleChangeError);
    expect(owned.used()).toEqual(['memory', 'memory.clicks']);
  });

  it('a field removed and added again is the owner’s again', () => {
    const { owned } = own(() => ({ a: u32, b: u32 }));
    const state = owned.layout.state;
    owned.commitMigration(owned.prepareMigration(descriptorOf(state, { a: u32 })), { epoch: 2 });
    owned.commitMigration(
      owned.prepareMigration(descriptorOf(state, { a: u32, b: field(u32, { initial: 9 }) })),
      { epoch: 3 },
    );
    expect((f(owned).b as Cell<number>).get()).toBe(9);
  });

  it('abort unlinks the new region and leaves everything as it was', () => {
    const { owned } = own(() => ({ a: u32 }));
    (f(owned).a as Cell<number>).set(5);
    const region = owned.region;
    const p = owned.prepareMigration(descriptorOf(owned.layout.state, { a: u32, b: u8 }));
    owned.abortMigration(p);
    expect(p.phase).toBe('aborted');
    expect(() => openRegion(p.to.name)).toThrow(RegionNotFoundError);
    expect(owned.region).toBe(region);
    expect((f(owned).a as Cell<number>).get()).toBe(5);
    expect(() => owned.commitMigration(p, { epoch: 2 })).toThrow(InvalidArgumentError);
    owned.abortMigration(p); // again: nothing to do
  });

  it('refuses to commit a migration prepared from a region the state has left, or a bad epoch', () => {
    const { owned } = own(() => ({ a: u32 }));
    const state = owned.layout.state;
    const first = owned.prepareMigration(descriptorOf(state, { a: u32, b: u8 }));
    const second = owned.prepareMigration(descriptorOf(state, { a: u32, c: u8 }));
    expect(() => owned.commitMigration(first, { epoch: 0 })).toThrow(
      'commitMigration epoch: expected an epoch in [1, 2^29), got 0',
    );
    owned.commitMigration(first, { epoch: 2 });
    expect(() => owned.commitMigration(second, { epoch: 3 })).toThrow(
      `commitMigration: the migration was prepared from region ${first.from.name}, but the state is on ${first.to.name} now: prepare it again`,
    );
    owned.abortMigration(second);
    expect(() => owned.releaseRegion(second)).toThrow(InvalidArgumentError);
    expect(() => owned.prepareMigration(descriptorOf('another-state', { a: u32 }))).toThrow(
      SchemaError,
    );
  });

  it('retire reaches a renderer still on the old region; close unmaps every region', () => {
    const { owned } = own(() => ({ input: channel(u8, { capacity: 2 }) }));
    const oldRenderer = new RegionContext(owned.region, 'reloadable', 1);
    const p = owned.prepareMigration(
      descriptorOf(owned.layout.state, { input: channel(u8, { capacity: 4 }) }),
    );
    owned.commitMigration(p, { epoch: 2 });
    owned.retire(1);
    expect(oldRenderer.retired).toBe(true);
    const fields = f(owned) as { input: Channel<number> };
    owned.close();
    expect(p.from.closed).toBe(true);
    expect(() => fields.input.trySend(1)).toThrow(RegionClosedError);
    expect(() => openRegion(p.to.name)).toThrow(RegionNotFoundError);
  });
});

describe('new arguments (a resize)', () => {
  it('lays the owner’s own fields out for them and carries the frame', () => {
    const { owned } = own(({ w }) => ({ framebuffer: framebuffer(w, 2), n: u32 }), 4);
    const fb = f(owned).framebuffer as FrameBuffer;
    const r = renderer(owned.region, owned.layout, 1).framebuffer as FrameBuffer;
    r.back().fill(0xff0000ff);
    r.present();
    const p = owned.prepareMigration({ args: { w: 8 } });
    const report = owned.commitMigration(p, { epoch: 2 });
    expect(owned.args).toEqual({ w: 8 });
    expect(owned.argsJson).toBe('{"w":8}');
    expect(report.converted).toEqual(['framebuffer (framebuffer(4×2) → framebuffer(8×2))']);
    expect([fb.width, fb.height]).toEqual([8, 2]);
    const px = fb.acquireFront()!.pixels;
    expect([...px]).toEqual([
      ...new Array(4).fill(0xff0000ff),
      0,
      0,
      0,
      0,
      ...new Array(4).fill(0xff0000ff),
      0,
      0,
      0,
      0,
    ]);
    fb.releaseFront();
  });

  it('after a migration to a renderer’s layout, needs that definition’s layout for the new arguments', () => {
    const { owned } = own(({ w }) => ({ framebuffer: framebuffer(w, 2) }), 4);
    const state = owned.layout.state;
    owned.commitMigration(
      owned.prepareMigration(descriptorOf(state, { framebuffer: framebuffer(4, 2), extra: u8 })),
      { epoch: 2 },
    );
    expect(() => owned.prepareMigration({ args: { w: 8 } })).toThrow(
      "prepareMigration({ args }): the state's definition changed since the owner started",
    );
    const layout = descriptorOf(state, { framebuffer: framebuffer(8, 2), extra: u8 });
    const p = owned.prepareMigration({ args: { w: 8 }, layout });
    owned.commitMigration(p, { epoch: 3 });
    expect((f(owned).framebuffer as FrameBuffer).width).toBe(8);
  });
});

describe('adopt', () => {
  it('carries everything from another owner’s region into a fresh one, and leaves that one alone', () => {
    const name = `adopt-test-${process.pid}-${n++}`;
    const a = own(
      () => ({ memory: struct({ clicks: u32 }), input: channel(u8, { capacity: 4 }) }),
      4,
      name,
    );
    (f(a.owned).memory as { clicks: Cell<number> }).clicks.set(12);
    (f(a.owned).input as Channel<number>).trySend(7);
    // The restarted owner's definition added a field.
    const b = own(
      () => ({
        memory: struct({ clicks: u32, colour: field(u32, { initial: 5 }) }),
        input: channel(u8, { capacity: 4 }),
      }),
      4,
      name,
    );
    const fresh = b.owned.region;
    const report = b.owned.adopt(a.owned.region.name);
    expect(b.owned.region).not.toBe(fresh);
    expect(() => openRegion(fresh.name)).toThrow(RegionNotFoundError);
    expect((f(b.owned).memory as { get(): unknown }).get()).toEqual({ clicks: 12, colour: 5 });
    expect((f(b.owned).input as Channel<number>).drain()).toEqual([7]);
    expect(report.added).toEqual(['memory.colour']);
    // The other owner's region is still there (its owner removes it).
    expect(() => openRegion(a.owned.region.name).close()).not.toThrow();
    expect(() => b.owned.adopt('/hotshm-none-00000000')).toThrow(RegionNotFoundError);
  });
});

describe('layoutChange (what a runner asks before main())', () => {
  it('is undefined while the program’s definition fits the region, its descriptor once not', () => {
    const name = `change-test-${process.pid}-${n++}`;
    const { owned } = own(() => ({ a: u32 }), 4, name);
    expect(layoutChange(owned.region, owned.argsJson)).toBeUndefined();
    // The new program defines the state again (the registry keeps the newest definition).
    const next = define(({ w }) => ({ a: u32, b: fixedString(w) }), name);
    expect(registeredStates().filter((s) => s.name === name)).toEqual([next]);
    const wanted = layoutChange(owned.region, owned.argsJson);
    expect(wanted).toEqual(next.describe({ w: 4 }));
    // The owner migrates to it; then it fits again.
    owned.commitMigration(owned.prepareMigration(wanted!), { epoch: 2 });
    expect(layoutChange(owned.region, owned.argsJson)).toBeUndefined();
  });

  it('throws what the new definition throws; a state the program does not define is not its business', () => {
    const name = `change-throw-${process.pid}-${n++}`;
    const { owned } = own(() => ({ a: u32 }), 4, name);
    define(() => {
      throw new SchemaError('fields() failed');
    }, name);
    expect(() => layoutChange(owned.region, owned.argsJson)).toThrow('fields() failed');
    define(() => ({ a: u32 }), `someone-else-${n++}`);
    define(() => ({ a: u32 }), name);
    expect(layoutChange(owned.region, owned.argsJson)).toBeUndefined();
  });
});

describe('the new region is watched like the first one', () => {
  it('header damage after a migration is found and written back', () => {
    const { owned } = own(() => ({ a: u32 }));
    owned.commitMigration(
      owned.prepareMigration(descriptorOf(owned.layout.state, { a: u32, b: u8 })),
      {
        epoch: 2,
      },
    );
    expect(owned.inspect()).toEqual([]);
    new DataView(owned.region.buffer).setUint32(0, 0x12345678, true);
    expect(owned.inspect()).toEqual([
      {
        part: 'header',
        message: `the header of region ${owned.region.name} was overwritten (magic); the owner wrote it back`,
      },
    ]);
    expect(readHeader(owned.region).magic).toBe(0x4d485348);
  });
});

describe('useArgs', () => {
  it('takes arguments that keep the layout, and refuses those that change it', () => {
    const { owned } = own(({ w }) => ({ n: u32, ...(w > 10 ? { big: u8 } : {}) }), 4);
    owned.useArgs('{"w":5}');
    expect(owned.args).toEqual({ w: 5 });
    expect(owned.argsJson).toBe('{"w":5}');
    expect(() => owned.useArgs('{"w":50}')).toThrow(
      'useArgs: these arguments change the layout of',
    );
    expect(() => owned.useArgs('{"w":-1}')).toThrow(
      'args.w: expected an integer in [0, 65535], got -1',
    );
    expect(() => owned.useArgs('nope')).toThrow(InvalidArgumentError);
    expect(owned.args).toEqual({ w: 5 });
  });
});

describe('handled delivery', () => {
  it('releaseClaims gives back what a gone renderer held, on channels the owner never touched', () => {
    const { owned } = own(() => ({ input: channel(u8, { capacity: 8, delivery: 'handled' }) }));
    const first = renderer(owned.region, owned.layout, 1) as { input: Channel<number> };
    // The owner's code never reads `input` here: the state layer has its own accessors.
    const producer = renderer(owned.region, owned.layout, 1) as { input: Channel<number> };
    producer.input.trySend(5);
    expect(first.input.drain()).toEqual([5]); // taken, not committed: then the renderer died
    expect(owned.releaseClaims(1, { crashed: false })).toEqual([]);
    const second = renderer(owned.region, owned.layout, 2) as { input: Channel<number> };
    expect(second.input.drain()).toEqual([5]);
    expect(owned.used()).toEqual([]);
  });

  it('what the owner took and did not commit is not carried again; the rest is', () => {
    const { owned } = own(() => ({
      fromRenderer: channel(u8, { capacity: 8, delivery: 'handled' }),
    }));
    const r = renderer(owned.region, owned.layout, 1) as { fromRenderer: Channel<number> };
    for (const v of [1, 2, 3]) r.fromRenderer.trySend(v);
    const inbox = f(owned).fromRenderer as Channel<number>;
    expect(inbox.drain()).toEqual([1, 2, 3]); // in hand, committed at the next receive
    r.fromRenderer.trySend(4);
    const next = descriptorOf(owned.layout.state, {
      fromRenderer: channel(u8, { capacity: 16, delivery: 'handled' }),
    });
    const report = owned.commitMigration(owned.prepareMigration(next), { epoch: 2 });
    expect(report.channels).toEqual([{ path: 'fromRenderer', carried: 1, dropped: 0 }]);
    expect(inbox.drain()).toEqual([4]);
  });
});
