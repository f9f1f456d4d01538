/**
 * The owner's view after migrations, kind by kind: what its code holds keeps working over the new
 * layout, in the shape the code was written for; what it cannot use says why.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Channel, channel } from '../channel/index.js';
import { IncompatibleChangeError, ValueError } from '../errors.js';
import { HEADER_SIZE } from '../memory/header.js';
import {
  array,
  type Cell,
  f64,
  field,
  fixedString,
  fixedVec,
  i32,
  type Schema,
  type StringAccess,
  slice,
  struct,
  u8,
  u16,
  u32,
  type VecAccess,
} from '../schema/index.js';
import { RegionContext } from './context.js';
import { initFields, layoutState, type StateLayout } from './layout.js';
import { memoryRegion } from './memory-region.test-helper.js';
import { executeMigration, planMigration } from './migrate.js';
import { OwnerView } from './view.js';

/** An owner view over a plain-memory region, and a way to migrate it. */
function viewOf(fields: Record<string, Schema>) {
  let layout = layoutState('view', fields, HEADER_SIZE);
  let region = memoryRegion(HEADER_SIZE + layout.dataSize);
  initFields(layout, new DataView(region.buffer));
  const view = new OwnerView(layout, new RegionContext(region, 'owner', 0));
  return {
    view,
    f: view.fields as Record<string, unknown>,
    /** Migrates to `next`: the same steps as commitMigration. Returns the new side's accessors. */
    migrate(next: Record<string, Schema>): Record<string, unknown> {
      const to = layoutState('view', next, HEADER_SIZE);
      const r = memoryRegion(HEADER_SIZE + to.dataSize);
      initFields(to, new DataView(r.buffer));
      const plan = planMigration(layout, to);
      const problem = view.check(plan);
      if (problem) throw new IncompatibleChangeError(problem.path, problem.reason);
      executeMigration(plan, region, r, { epoch: 2 });
      const ctx = new RegionContext(r, 'owner', 0);
      view.rebind(plan, ctx);
      region.close();
      region = r;
      layout = to;
      return accessors(to, ctx);
    },
  };
}

function accessors(layout: StateLayout, ctx: RegionContext): Record<string, unknown> {
  return Object.fromEntries(
    layout.fields.map((f) => [f.name, f.schema.bind(ctx, f.offset, f.name)]),
  );
}

describe('the owner view', () => {
  it('strings: the same handle over the new capacity', () => {
    const { f, migrate } = viewOf({ title: fixedString(8) });
    const title = f.title as StringAccess;
    title.set('hello');
    const now = migrate({ title: fixedString(16) }) as { title: StringAccess };
    expect(title.get()).toBe('hello');
    expect(title.capacity).toBe(16);
    title.set('hello, world!');
    expect(now.title.get()).toBe('hello, world!');
  });

  it('vecs: elements in the shape the owner wrote them, whatever the element type is now', () => {
    const P = struct({ x: u8, y: u8 });
    const { f, migrate } = viewOf({ trail: fixedVec(P, 4) });
    const trail = f.trail as VecAccess<{ x: number; y: number }>;
    trail.push({ x: 1, y: 2 });
    const now = migrate({
      trail: fixedVec(struct({ x: u16, z: field(u8, { initial: 9 }), y: u16 }), 8),
    }) as { trail: VecAccess<unknown> };
    expect(trail.toArray()).toEqual([{ x: 1, y: 2 }]);
    trail.push({ x: 300, y: 4 });
    expect(now.trail.toArray()).toEqual([
      { x: 1, z: 9, y: 2 },
      { x: 300, z: 9, y: 4 },
    ]);
    expect([...trail]).toEqual([
      { x: 1, y: 2 },
      { x: 300, y: 4 },
    ]);
    expect(trail.capacity).toBe(8);
  });

  it('arrays: element handles follow; one past the new end says so', () => {
    const { f, migrate } = viewOf({ list: array(u32, 4) });
    const list = f.list as { at(i: number): Cell<number>; length: number };
    const third = list.at(3);
    list.at(0).set(10);
    third.set(30);
    migrate({ list: array(u32, 2) });
    expect(list.length).toBe(2);
    expect(list.at(0).get()).toBe(10);
    expect(() => third.get()).toThrow(ValueError);
    expect(() => third.get()).toThrow(
      'list[3]: the array has 2 elements since the state definition changed',
    );
    expect(() => list.at(3)).toThrow('list: expected an index in [0, 1], got 3');
  });

  it('structs: set() writes the owner’s members and keeps the ones its code does not know', () => {
    const { f, migrate } = viewOf({ memory: struct({ clicks: u32, colour: u32 }) });
    const memory = f.memory as { get(): unknown; set(v: unknown): void };
    const now = migrate({
      memory: struct({ colour: u32, score: field(u32, { initial: 5 }), clicks: u32 }),
    }) as { memory: { get(): unknown } };
    memory.set({ clicks: 1, colour: 2 });
    expect(now.memory.get()).toEqual({ colour: 2, score: 5, clicks: 1 });
    expect(memory.get()).toEqual({ clicks: 1, colour: 2 });
    expect(() => memory.set({ clicks: -1, colour: 2 })).toThrow(
      'memory.clicks: expected an integer in [0, 4294967295], got -1',
    );
  });

  it('channels: messages converted both ways, a member gone from the message included', async () => {
    const { f, migrate } = viewOf({
      toRenderer: channel(struct({ kind: u8, x: u16, old: u8 }), { capacity: 4 }),
      fromRenderer: channel(struct({ n: u8, extra: u8 }), { capacity: 4 }),
    });
    const to = f.toRenderer as Channel<{ kind: number; x: number; old: number }>;
    const from = f.fromRenderer as Channel<{ n: number; extra: number }>;
    to.trySend({ kind: 1, x: 2, old: 3 });
    const iterator = from[Symbol.asyncIterator]();
    const next = iterator.next();
    const now = migrate({
      toRenderer: channel(struct({ kind: u8, x: u16, added: field(u8, { initial: 7 }) }), {
        capacity: 8,
      }),
      fromRenderer: channel(struct({ n: u16 }), { capacity: 4 }),
    }) as { toRenderer: Channel<unknown>; fromRenderer: Channel<unknown> };
    to.trySend({ kind: 4, x: 5, old: 6 });
    expect(now.toRenderer.drain()).toEqual([
      { kind: 1, x: 2, added: 7 },
      { kind: 4, x: 5, added: 7 },
    ]);
    now.fromRenderer.trySend({ n: 300 });
    // A `for await` loop pending across the migration goes on with the new channel; the member
    // the new message lacks comes at its default.
    expect(await next).toEqual({ value: { n: 300, extra: 0 }, done: false });
    expect(to.capacity).toBe(8);
  });

  it('a channel whose message became another kind is not the owner’s any more', () => {
    const { f, migrate } = viewOf({
      a: channel(u8, { capacity: 2 }),
      b: channel(u8, { capacity: 2 }),
    });
    (f.a as Channel<number>).trySend(1);
    expect(() =>
      migrate({ a: channel(fixedString(4), { capacity: 2 }), b: channel(u8, { capacity: 2 }) }),
    ).toThrow(
      "the owner's code uses a[], but the new state definition retypes it from u8 (a number) to fixedString(4)",
    );
    // Reached but never used to send or receive: the migration goes on; using it says why not.
    const b = f.b as Channel<number>;
    migrate({ a: channel(u8, { capacity: 2 }), b: channel(fixedString(4), { capacity: 2 }) });
    expect(() => b.trySend(1)).toThrow(IncompatibleChangeError);
  });

  it('slices: the getter gives the typed array over the current bytes', () => {
    const { f, migrate } = viewOf({ pixels: slice(u32, 4) });
    const before = f.pixels as Uint32Array;
    before.set([1, 2, 3, 4]);
    migrate({ pixels: slice(u32, 8) });
    const after = f.pixels as Uint32Array;
    expect(after).not.toBe(before);
    expect([...after]).toEqual([1, 2, 3, 4, 0, 0, 0, 0]);
    expect(() => migrate({ pixels: slice(u8, 8) })).toThrow(
      'retypes it from slice(u32, 4) to slice(u8, 8) (another typed array)',
    );
  });

  it('records the paths reached, not the ones merely declared', () => {
    const { view, f } = viewOf({ memory: struct({ a: u8, b: struct({ c: u8 }) }), other: u8 });
    void (f.memory as { b: { c: Cell<number> } }).b.c;
    expect(view.used()).toEqual(['memory', 'memory.b', 'memory.b.c']);
    (f.memory as { get(): unknown }).get();
    expect(view.used()).toEqual(['memory', 'memory.a', 'memory.b', 'memory.b.c']);
  });
});

describe('the owner view over many migrations', () => {
  it('a captured cell follows every rename and retype of its field, and keeps its value', () => {
    const kinds = [u16, u32, f64, i32] as const;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom(...kinds),
            rename: fc.boolean(),
            others: fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 3 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        (steps) => {
          let name = 'n';
          const fieldsFor = (kind: Schema, others: string[], renamedFrom?: string) =>
            struct({
              ...Object.fromEntries([...new Set(others)].map((o) => [o, u8])),
              [name]: renamedFrom === undefined ? kind : field(kind, { renamedFrom }),
            });
          const { f, migrate } = viewOf({ memory: fieldsFor(u16, []) });
          const n = (f.memory as { n: Cell<number> }).n;
          let expected = 1;
          n.set(expected);
          steps.forEach((step, i) => {
            const old = name;
            if (step.rename) name = `n${i}`;
            const now = migrate({
              memory: fieldsFor(step.kind, step.others, step.rename ? old : undefined),
            }) as { memory: Record<string, Cell<number>> };
            expect(n.get()).toBe(expected);
            expected = (expected + 1) % 1000;
            n.set(expected);
            expect(now.memory[name]!.get()).toBe(expected);
          });
        },
      ),
      { numRuns: 100 },
    );
  });
});
