/**
 * Property tests of the migration, on random pairs of layouts (the second one a random edit of
 * the first: fields kept, retyped, renamed with a hint, removed, added, at every depth):
 *   - it never throws, whatever bytes the old region holds (channel indices and frame words
 *     included);
 *   - it never writes outside the fields of the new region (header, padding between fields and
 *     the bytes after the last one stay as they were);
 *   - a migration to the same layout keeps every byte of every plain field, every pending
 *     message, and the frame on screen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Channel, channel } from '../channel/index.js';
import { type FrameBuffer, framebuffer } from '../frames/index.js';
import { HEADER_SIZE } from '../memory/header.js';
import {
  array,
  bool,
  f32,
  f64,
  field,
  fixedString,
  fixedVec,
  i8,
  i16,
  i32,
  i64,
  type Schema,
  type SliceElement,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
} from '../schema/index.js';
import { RegionContext } from './context.js';
import { initFields, layoutState, type StateLayout } from './layout.js';
import { memoryRegion } from './memory-region.test-helper.js';
import { executeMigration, planMigration } from './migrate.js';

const PRIMS: Record<string, Schema> = { u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, bool };
const NUMERIC = ['u8', 'u16', 'u32', 'u64', 'i8', 'i16', 'i32', 'i64', 'f32', 'f64'];

type Spec =
  | { t: 'prim'; k: string }
  | { t: 'str'; cap: number }
  | { t: 'vec'; el: Spec; cap: number }
  | { t: 'array'; el: Spec; n: number }
  | { t: 'slice'; k: string; n: number }
  | { t: 'struct'; members: Member[] };
interface Member {
  name: string;
  spec: Spec;
  renamedFrom?: string;
}
type Top =
  | { t: 'plain'; spec: Spec }
  | { t: 'channel'; msg: Spec; cap: number; latest: boolean; handled: boolean }
  | {
      t: 'fb';
      w: number;
      h: number;
    };
interface TopField {
  name: string;
  top: Top;
  renamedFrom?: string;
}

const names = ['a', 'b', 'c', 'd', 'e', 'f'];

const { spec: specArb } = fc.letrec<{ spec: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ t: fc.constant('prim' as const), k: fc.constantFrom(...Object.keys(PRIMS)) }),
    fc.record({ t: fc.constant('str' as const), cap: fc.integer({ min: 1, max: 12 }) }),
    fc.record({
      t: fc.constant('vec' as const),
      el: tie('spec'),
      cap: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({
      t: fc.constant('array' as const),
      el: tie('spec'),
      n: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({
      t: fc.constant('slice' as const),
      k: fc.constantFrom(...NUMERIC),
      n: fc.integer({ min: 1, max: 6 }),
    }),
    fc.record({
      t: fc.constant('struct' as const),
      members: fc.uniqueArray(fc.record({ name: fc.constantFrom(...names), spec: tie('spec') }), {
        minLength: 1,
        maxLength: 3,
        selector: (m) => m.name,
      }),
    }),
  ),
}));

const topArb: fc.Arbitrary<Top> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('plain' as const), spec: specArb }) },
  fc.record({
    t: fc.constant('channel' as const),
    msg: specArb,
    cap: fc.constantFrom(1, 2, 4, 8),
    latest: fc.boolean(),
    handled: fc.boolean(),
  }),
  fc.record({
    t: fc.constant('fb' as const),
    w: fc.integer({ min: 1, max: 4 }),
    h: fc.integer({ min: 1, max: 4 }),
  }),
);

const layoutArb: fc.Arbitrary<TopField[]> = fc.uniqueArray(
  fc.record({ name: fc.constantFrom(...names), top: topArb }),
  { minLength: 1, maxLength: 4, selector: (f) => f.name },
);

/** A random edit of a spec: the same, a new type, or (for structs) an edit of each member. */
function editSpec(spec: Spec): fc.Arbitrary<Spec> {
  const same = fc.constant(spec);
  if (spec.t === 'struct') {
    return fc.oneof(
      same,
      specArb,
      editMembers(spec.members).map((members) => ({ t: 'struct' as const, members })),
    );
  }
  if (spec.t === 'array' || spec.t === 'vec') {
    return fc.oneof(
      same,
      specArb,
      fc
        .tuple(editSpec(spec.el), fc.integer({ min: 1, max: 4 }))
        .map(([el, n]) =>
          spec.t === 'array' ? { t: 'array' as const, el, n } : { t: 'vec' as const, el, cap: n },
        ),
    );
  }
  return fc.oneof(same, same, specArb);
}

/** Members kept, retyped, renamed (with a hint), removed; new ones added. */
function editMembers<M extends { name: string; renamedFrom?: string }>(
  members: readonly (M & { spec: Spec })[],
): fc.Arbitrary<Member[]> {
  return fc
    .tuple(
      ...members.map((m) =>
        fc.record({
          fate: fc.constantFrom('keep', 'keep', 'rename', 'drop'),
          spec: editSpec(m.spec),
        }),
      ),
      fc.array(fc.record({ name: fc.constantFrom('x', 'y', 'z'), spec: specArb }), {
        maxLength: 2,
      }),
    )
    .map((parts) => {
      // Never mutate a generated value: fast-check replays it while shrinking.
      const added = parts[parts.length - 1] as Member[];
      const out: Member[] = [];
      const taken = new Set<string>();
      (parts.slice(0, -1) as Array<{ fate: string; spec: Spec }>).forEach((p, i) => {
        const m = members[i]!;
        if (p.fate === 'drop') return;
        if (p.fate === 'rename') {
          const name = `${m.name}2`;
          out.push({ name, spec: p.spec, renamedFrom: m.name });
          taken.add(name);
        } else {
          out.push({ name: m.name, spec: p.spec });
          taken.add(m.name);
        }
      });
      for (const a of added) {
        if (!taken.has(a.name) && !members.some((m) => m.name === a.name)) {
          out.push(a);
          taken.add(a.name);
        }
      }
      return out.length > 0 ? out : [{ name: 'x', spec: { t: 'prim', k: 'u8' } }];
    });
}

function editLayout(fields: TopField[]): fc.Arbitrary<TopField[]> {
  return editMembers(
    fields.map((f) => ({
      name: f.name,
      spec: f.top.t === 'plain' ? f.top.spec : ({ t: 'prim', k: 'u8' } as Spec),
      top: f.top,
    })),
  ).chain((edited) =>
    fc.tuple(
      ...edited.map((m) => {
        const was = fields.find((f) => f.name === (m.renamedFrom ?? m.name));
        const keepTop: fc.Arbitrary<Top> =
          was === undefined || was.top.t === 'plain'
            ? fc.constant<Top>({ t: 'plain', spec: m.spec })
            : fc.oneof(fc.constant(was.top), topArb);
        return keepTop.map((top) => ({ ...m, top }) as TopField);
      }),
    ),
  );
}

function build(spec: Spec): Schema {
  switch (spec.t) {
    case 'prim':
      return PRIMS[spec.k]!;
    case 'str':
      return fixedString(spec.cap);
    case 'vec':
      return fixedVec(build(spec.el), spec.cap);
    case 'array':
      return array(build(spec.el), spec.n);
    case 'slice':
      return slice(PRIMS[spec.k] as SliceElement, spec.n);
    case 'struct':
      return struct(
        Object.fromEntries(
          spec.members.map((m) => [
            m.name,
            m.renamedFrom === undefined
              ? build(m.spec)
              : field(build(m.spec), { renamedFrom: m.renamedFrom }),
          ]),
        ),
      );
  }
}

function buildTop(f: TopField): Schema {
  const s =
    f.top.t === 'plain'
      ? build(f.top.spec)
      : f.top.t === 'channel'
        ? channel(build(f.top.msg), {
            capacity: f.top.cap,
            latest: f.top.latest,
            ...(f.top.handled && !f.top.latest ? { delivery: 'handled' as const } : {}),
          })
        : framebuffer(f.top.w, f.top.h);
  return f.renamedFrom === undefined ? s : field(s, { renamedFrom: f.renamedFrom });
}

const layoutOf = (fields: TopField[]): StateLayout =>
  layoutState('prop', Object.fromEntries(fields.map((f) => [f.name, buildTop(f)])), HEADER_SIZE);

const GUARD = 256;

function regionFor(layout: StateLayout) {
  return memoryRegion(HEADER_SIZE + layout.dataSize + GUARD);
}

/** Byte ranges of the fields. */
function inFields(layout: StateLayout): (i: number) => boolean {
  return (i) => layout.fields.some((f) => i >= f.offset && i < f.offset + f.schema.size);
}

const pairArb = layoutArb.chain((a) => fc.tuple(fc.constant(a), editLayout(a)));

describe('a migration between random layouts', () => {
  it('never throws and never writes outside the fields of the new region, whatever the old bytes', () => {
    // What the random pairs exercised, so a generator that stopped producing edits is noticed.
    const seen = { renamed: 0, converted: 0, reset: 0, added: 0, dropped: 0, carried: 0 };
    fc.assert(
      fc.property(pairArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), ([a, b], seed) => {
        const from = layoutOf(a);
        const to = layoutOf(b);
        const src = regionFor(from);
        // Random bytes everywhere in the old region's data.
        let x = seed | 1;
        const s8 = new Uint8Array(src.buffer);
        for (let i = HEADER_SIZE; i < s8.length; i++) {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          s8[i] = x & 0xff;
        }
        const dst = regionFor(to);
        const d8 = new Uint8Array(dst.buffer);
        // The header stays as a fresh one is (zeros: no doorbell waiters, so sends into the new
        // channels leave it alone); padding and the bytes after the fields get a sentinel.
        d8.fill(0xa5, HEADER_SIZE);
        const inside = inFields(to);
        for (const f of to.fields) d8.fill(0, f.offset, f.offset + f.schema.size);
        initFields(to, new DataView(dst.buffer));
        const before = d8.slice();
        const report = executeMigration(planMigration(from, to), src, dst, { epoch: 2 });
        expect(typeof report.summary).toBe('string');
        seen.renamed += report.renamed.length;
        seen.converted += report.converted.length;
        seen.reset += report.reset.length;
        seen.added += report.added.length;
        seen.dropped += report.dropped.length;
        seen.carried += report.channels.reduce((n, c) => n + c.carried, 0);
        for (let i = 0; i < d8.length; i++) {
          if (!inside(i) && d8[i] !== before[i]) {
            throw new Error(`byte ${i} outside every field changed: ${before[i]} → ${d8[i]}`);
          }
        }
      }),
      { numRuns: 300 },
    );
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThan(0);
  });

  it('to the same layout keeps every byte of every plain field, every message and the frame', () => {
    fc.assert(
      fc.property(layoutArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (a, seed) => {
        const layout = layoutOf(a);
        const src = regionFor(layout);
        const view = new DataView(src.buffer);
        initFields(layout, view);
        let x = seed | 1;
        const next = (): number => {
          x ^= x << 13;
          x ^= x >>> 17;
          x ^= x << 5;
          return x >>> 0;
        };
        const ctx = new RegionContext(src, 'owner', 1);
        const messages = new Map<string, unknown[]>();
        for (const f of layout.fields) {
          if (f.schema.kind === 'channel') {
            // Valid messages: bytes of a message, decoded (any bytes decode), sent.
            const ch = f.schema.bind(ctx, f.offset, f.name) as Channel<unknown>;
            const msg = (f.schema as unknown as { message: Schema }).message;
            const sent: unknown[] = [];
            const n = next() % (ch.capacity + 1);
            for (let i = 0; i < n; i++) {
              const bytes = new Uint8Array(msg.size);
              for (let j = 0; j < bytes.length; j++) bytes[j] = next();
              const value = msg.read(new DataView(bytes.buffer), 0);
              try {
                ch.trySend(value);
                sent.push(value);
              } catch {
                // a decoded f32 that is not a valid f32 value cannot happen; anything else is skipped
              }
            }
            messages.set(f.name, ch.latest ? sent.slice(-1) : sent);
          } else if (f.schema.kind === 'framebuffer') {
            const fb = f.schema.bind(ctx, f.offset, f.name) as FrameBuffer;
            const px = fb.back();
            for (let i = 0; i < px.length; i++) px[i] = next();
            fb.present();
          } else {
            for (let i = f.offset; i < f.offset + f.schema.size; i++) view.setUint8(i, next());
          }
        }
        const srcBytes = new Uint8Array(src.buffer).slice();
        const dst = regionFor(layout);
        initFields(layout, new DataView(dst.buffer));
        const plan = planMigration(layout, layout);
        expect(plan.identical).toBe(true);
        const report = executeMigration(plan, src, dst, { epoch: 2 });
        expect(report.reset).toEqual([]);
        expect(report.droppedMessages).toBe(0);
        const dctx = new RegionContext(dst, 'owner', 2);
        for (const f of layout.fields) {
          if (f.schema.kind === 'channel') {
            const ch = f.schema.bind(dctx, f.offset, f.name) as Channel<unknown>;
            expect(ch.drain()).toEqual(messages.get(f.name));
          } else if (f.schema.kind === 'framebuffer') {
            const shown = (f.schema.bind(ctx, f.offset, f.name) as FrameBuffer).acquireFront()!;
            const carried = (f.schema.bind(dctx, f.offset, f.name) as FrameBuffer).acquireFront()!;
            expect([...carried.pixels]).toEqual([...shown.pixels]);
          } else {
            const now = new Uint8Array(dst.buffer, f.offset, f.schema.size);
            expect([...now]).toEqual([...srcBytes.subarray(f.offset, f.offset + f.schema.size)]);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
