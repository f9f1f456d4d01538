/**
 * Bad input to every public function: wrong types, negative, zero, fractional and huge sizes,
 * strings and vecs over capacity, unknown field names. Each gets a HotshmError of the right
 * class whose message says what was expected and what came; none crashes or throws a bare
 * TypeError/RangeError from deep inside.
 */
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CapacityError,
  EntryNotFoundError,
  InvalidArgumentError,
  RegionNotFoundError,
  SchemaError,
  ValueError,
} from '../src/exports/errors.js';
import {
  createRegion,
  newRegionName,
  openRegion,
  readHeader,
  unlinkRegion,
  validateHeader,
} from '../src/exports/memory.js';
import { sharedWord, waitSync } from '../src/exports/sync.js';
import { beginFrameEpoch } from '../src/frames/framebuffer.js';
import {
  array,
  bool,
  channel,
  defineState,
  f32,
  fixedString,
  fixedVec,
  framebuffer,
  HotshmError,
  i32,
  i64,
  type Region,
  slice,
  struct,
  u8,
  u16,
  u32,
  u64,
} from '../src/index.js';
import { TestContext } from '../src/schema/test-context.js';

type ErrorClass = new (...args: never[]) => HotshmError;
interface Case {
  readonly what: string;
  readonly call: () => unknown;
  readonly error: ErrorClass;
}

const WRONG_TYPES: readonly unknown[] = [
  undefined,
  null,
  '8',
  true,
  {},
  [],
  () => 8,
  8n,
  Symbol('s'),
];
const BAD_COUNTS: readonly unknown[] = [
  -1,
  0,
  1.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  2 ** 53,
  2 ** 31,
  ...WRONG_TYPES,
];
const label = (v: unknown): string =>
  typeof v === 'symbol'
    ? 'a symbol'
    : typeof v === 'function'
      ? 'a function'
      : typeof v === 'bigint'
        ? `${v}n`
        : (JSON.stringify(v) ?? String(v));

function expectClean(c: Case): void {
  let thrown: unknown;
  try {
    c.call();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `${c.what}: expected ${c.error.name}, nothing was thrown`).toBeDefined();
  expect(thrown, `${c.what}: ${String(thrown)}`).toBeInstanceOf(c.error);
  // The message names what was expected (and usually what came).
  expect((thrown as Error).message, c.what).toMatch(
    /expected|exists|not|reserved|at most|has no|holds no|needs/,
  );
}

const regions: Region[] = [];
afterAll(() => {
  for (const r of regions) {
    r.unlink();
    r.close();
  }
});

describe('schema factories', () => {
  const cases: Case[] = [];
  for (const v of BAD_COUNTS) {
    cases.push({
      what: `fixedString(${label(v)})`,
      call: () => fixedString(v as number),
      error: SchemaError,
    });
    cases.push({
      what: `fixedVec(u8, ${label(v)})`,
      call: () => fixedVec(u8, v as number),
      error: SchemaError,
    });
    cases.push({
      what: `array(u8, ${label(v)})`,
      call: () => array(u8, v as number),
      error: SchemaError,
    });
    cases.push({
      what: `slice(f32, ${label(v)})`,
      call: () => slice(f32, v as number),
      error: SchemaError,
    });
    cases.push({
      what: `framebuffer(${label(v)}, 4)`,
      call: () => framebuffer(v as number, 4),
      error: SchemaError,
    });
    cases.push({
      what: `framebuffer(4, ${label(v)})`,
      call: () => framebuffer(4, v as number),
      error: SchemaError,
    });
    cases.push({
      what: `channel(u8, { capacity: ${label(v)} })`,
      call: () => channel(u8, { capacity: v as number }),
      error: SchemaError,
    });
  }
  for (const v of [3, 6, 100, 2 ** 21]) {
    cases.push({
      what: `channel capacity ${v} (not a power of two in range)`,
      call: () => channel(u8, { capacity: v }),
      error: SchemaError,
    });
  }
  for (const v of WRONG_TYPES) {
    cases.push({
      what: `fixedVec(${label(v)}, 4)`,
      call: () => fixedVec(v as never, 4),
      error: SchemaError,
    });
    cases.push({
      what: `array(${label(v)}, 4)`,
      call: () => array(v as never, 4),
      error: SchemaError,
    });
    cases.push({ what: `struct(${label(v)})`, call: () => struct(v as never), error: SchemaError });
    cases.push({
      what: `struct({ a: ${label(v)} })`,
      call: () => struct({ a: v as never }),
      error: SchemaError,
    });
    cases.push({
      what: `channel(${label(v)}, …)`,
      call: () => channel(v as never, { capacity: 4 }),
      error: SchemaError,
    });
  }
  cases.push({
    what: 'channel(u8) without options',
    call: () => (channel as (m: unknown) => unknown)(u8),
    error: SchemaError,
  });
  cases.push({ what: 'fixedString(2**40)', call: () => fixedString(2 ** 40), error: SchemaError });
  cases.push({
    what: 'array of a huge size overflowing MAX_SIZE',
    call: () => array(u64, 2 ** 30),
    error: SchemaError,
  });
  cases.push({
    what: 'struct with a channel nested',
    call: () => struct({ c: channel(u8, { capacity: 4 }) as never }),
    error: SchemaError,
  });
  cases.push({
    what: 'fixedVec of a framebuffer',
    call: () => fixedVec(framebuffer(2, 2) as never, 2),
    error: SchemaError,
  });
  cases.push({
    what: 'slice of a struct',
    call: () => slice(struct({ a: u8 }) as never, 2),
    error: SchemaError,
  });

  it.each(cases.map((c) => [c.what, c] as const))('%s', (_what, c) => expectClean(c));
});

describe('values written through accessors', () => {
  const S = struct({
    small: u8,
    big: u32,
    signed: i32,
    wide: i64,
    real: f32,
    flag: bool,
    name: fixedString(8),
    list: fixedVec(u16, 3),
    grid: array(u8, 2),
    inner: struct({ a: u8 }),
  });
  const ctx = new TestContext(S.size);
  const s = S.bind(ctx, 0, 'state') as unknown as {
    small: { set(v: unknown): void };
    big: { set(v: unknown): void };
    signed: { set(v: unknown): void };
    wide: { set(v: unknown): void };
    real: { set(v: unknown): void };
    flag: { set(v: unknown): void };
    name: { set(v: unknown): void };
    list: { set(v: unknown): void; push?(v: unknown): void };
    grid: { set(v: unknown): void };
    inner: { set(v: unknown): void };
    set(v: unknown): void;
  };
  const cases: Case[] = [];
  for (const v of [
    -1,
    256,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '1',
    null,
    undefined,
    1n,
    {},
  ]) {
    cases.push({ what: `u8 ← ${label(v)}`, call: () => s.small.set(v), error: ValueError });
  }
  for (const v of [-1, 2 ** 32, 0.5, '7'])
    cases.push({ what: `u32 ← ${label(v)}`, call: () => s.big.set(v), error: ValueError });
  for (const v of [2 ** 31, -(2 ** 31) - 1, 1.25])
    cases.push({ what: `i32 ← ${label(v)}`, call: () => s.signed.set(v), error: ValueError });
  for (const v of [1, 2n ** 63n, -(2n ** 63n) - 1n, '1'])
    cases.push({ what: `i64 ← ${label(v)}`, call: () => s.wide.set(v), error: ValueError });
  for (const v of ['1.5', null, 1n])
    cases.push({ what: `f32 ← ${label(v)}`, call: () => s.real.set(v), error: ValueError });
  for (const v of [1, 'true', null])
    cases.push({ what: `bool ← ${label(v)}`, call: () => s.flag.set(v), error: ValueError });
  for (const v of [5, null, ['a'], {}])
    cases.push({ what: `fixedString ← ${label(v)}`, call: () => s.name.set(v), error: ValueError });
  cases.push({
    what: 'fixedString(8) ← 9 bytes',
    call: () => s.name.set('123456789'),
    error: CapacityError,
  });
  cases.push({
    what: 'fixedString(8) ← 3 emoji (12 bytes)',
    call: () => s.name.set('😀😀😀'),
    error: CapacityError,
  });
  cases.push({
    what: 'fixedVec(u16, 3) ← 4 items',
    call: () => s.list.set([1, 2, 3, 4]),
    error: CapacityError,
  });
  cases.push({
    what: 'fixedVec(u16, 3) ← an item out of range',
    call: () => s.list.set([1, 70000]),
    error: ValueError,
  });
  cases.push({ what: 'fixedVec ← not an array', call: () => s.list.set('abc'), error: ValueError });
  cases.push({
    what: 'array(u8, 2) ← 3 items',
    call: () => s.grid.set([1, 2, 3]),
    error: ValueError,
  });
  cases.push({ what: 'array(u8, 2) ← 1 item', call: () => s.grid.set([1]), error: ValueError });
  cases.push({
    what: 'struct ← an unknown field',
    call: () => s.inner.set({ a: 1, b: 2 }),
    error: ValueError,
  });
  cases.push({ what: 'struct ← a missing field', call: () => s.inner.set({}), error: ValueError });
  cases.push({ what: 'struct ← not an object', call: () => s.inner.set(7), error: ValueError });
  cases.push({ what: 'struct ← null', call: () => s.inner.set(null), error: ValueError });
  it.each(cases.map((c) => [c.what, c] as const))('%s', (_what, c) => expectClean(c));

  it('a rejected write changes no byte', () => {
    const before = new Uint8Array(ctx.buffer).slice();
    for (const c of cases) {
      try {
        c.call();
      } catch {}
    }
    expect(new Uint8Array(ctx.buffer)).toEqual(before);
  });
});

describe('channels and framebuffers', () => {
  const Msg = struct({ id: u32, text: fixedString(4) });
  const ch = channel(Msg, { capacity: 2 });
  const fbSchema = framebuffer(4, 4);
  const ctx = new TestContext(192 + ch.size + fbSchema.size);
  const c = ch.bind(ctx, 192, 'inbox');
  const fb = fbSchema.bind(ctx, 192 + ch.size, 'screen');
  const cases: Case[] = [
    { what: 'send a wrong shape', call: () => c.send({ id: 'x' } as never), error: ValueError },
    {
      what: 'send an unknown field',
      call: () => c.send({ id: 1, text: 'a', extra: 1 } as never),
      error: ValueError,
    },
    {
      what: 'send an over-capacity string',
      call: () => c.send({ id: 1, text: 'abcde' }),
      error: CapacityError,
    },
    {
      what: 'send onFull: "drop"',
      call: () => c.send({ id: 1, text: 'a' }, { onFull: 'drop' as never }),
      error: InvalidArgumentError,
    },
    { what: 'recvSync(-1)', call: () => c.recvSync(-1), error: InvalidArgumentError },
    { what: 'recvSync("5")', call: () => c.recvSync('5' as never), error: InvalidArgumentError },
    { what: 'recvSync(NaN)', call: () => c.recvSync(Number.NaN), error: InvalidArgumentError },
    { what: 'beginEpoch(0)', call: () => beginFrameEpoch(fb, 0), error: InvalidArgumentError },
    { what: 'beginEpoch(-3)', call: () => beginFrameEpoch(fb, -3), error: InvalidArgumentError },
    { what: 'beginEpoch(1.5)', call: () => beginFrameEpoch(fb, 1.5), error: InvalidArgumentError },
    {
      what: 'beginEpoch(2**29)',
      call: () => beginFrameEpoch(fb, 2 ** 29),
      error: InvalidArgumentError,
    },
    {
      what: 'beginEpoch("2")',
      call: () => beginFrameEpoch(fb, '2' as never),
      error: InvalidArgumentError,
    },
    { what: 'present() without back()', call: () => fb.present(), error: InvalidArgumentError },
    {
      what: 'a channel field given a plain value',
      call: () => ch.check(5, 'inbox'),
      error: ValueError,
    },
    {
      what: 'a framebuffer field given a plain value',
      call: () => fbSchema.check(5, 'screen'),
      error: ValueError,
    },
  ];
  it.each(cases.map((x) => [x.what, x] as const))('%s', (_what, x) => expectClean(x));

  it('recv with bad options rejects with InvalidArgumentError (a promise, not a throw)', async () => {
    for (const options of [
      { timeoutMs: -1 },
      { timeoutMs: 'x' },
      { signal: {} },
      { spinMicros: -5 },
    ]) {
      await expect(c.recv(options as never), JSON.stringify(options)).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
    }
  });
});

describe('regions, headers and waits', () => {
  const cases: Case[] = [];
  for (const v of [
    ...WRONG_TYPES,
    '',
    'no-slash',
    '/a/b',
    '/.',
    '/..',
    `/${'x'.repeat(31)}`,
    '/sp ace',
    '/é',
  ]) {
    cases.push({
      what: `createRegion(${label(v)}, 64)`,
      call: () => createRegion(v as string, 64),
      error: InvalidArgumentError,
    });
    cases.push({
      what: `openRegion(${label(v)})`,
      call: () => openRegion(v as string),
      error: InvalidArgumentError,
    });
    cases.push({
      what: `unlinkRegion(${label(v)})`,
      call: () => unlinkRegion(v as string),
      error: InvalidArgumentError,
    });
  }
  for (const v of [-1, 0, 1.5, Number.NaN, 2 ** 32 + 1, 2 ** 60, '64', null]) {
    cases.push({
      what: `createRegion(name, ${label(v)})`,
      call: () => createRegion(newRegionName(), v as number),
      error: InvalidArgumentError,
    });
  }
  cases.push({
    what: 'createRegion reserve: "yes"',
    call: () => createRegion(newRegionName(), 64, { reserve: 'yes' as never }),
    error: InvalidArgumentError,
  });
  for (const v of [-1, 0, 1.5, '12', 2 ** 60]) {
    cases.push({
      what: `newRegionName(${label(v)})`,
      call: () => newRegionName(v as number),
      error: InvalidArgumentError,
    });
  }
  cases.push({
    what: 'openRegion of a name nobody made',
    call: () => openRegion(newRegionName()),
    error: RegionNotFoundError,
  });
  it.each(cases.map((c) => [c.what, c] as const))('%s', (_what, c) => expectClean(c));

  it('validateHeader with a bad fingerprint argument; readHeader of a closed region', () => {
    const r = createRegion(newRegionName(), 4096);
    regions.push(r);
    for (const fp of [undefined, null, 'abc', new Uint8Array(15), [1, 2, 3]]) {
      expectClean({
        what: `validateHeader fingerprint ${label(fp)}`,
        call: () => validateHeader(r, { fingerprint: fp as never }),
        error: InvalidArgumentError,
      });
    }
    const closed = createRegion(newRegionName(), 4096);
    closed.unlink();
    closed.close();
    expect(() => readHeader(closed)).toThrow(HotshmError);
  });

  it('sharedWord and waitSync reject misaligned offsets and bad timeouts', () => {
    const buffer = new ArrayBuffer(64);
    expectClean({
      what: 'sharedWord offset 3',
      call: () => sharedWord(buffer, 0n, 3),
      error: InvalidArgumentError,
    });
    const w = sharedWord(buffer, 0n, 0);
    for (const t of [-1, Number.NaN, '10']) {
      expectClean({
        what: `waitSync timeout ${label(t)}`,
        call: () => waitSync(w, 1, t as number),
        error: InvalidArgumentError,
      });
    }
  });
});

describe('defineState and owner()', () => {
  const good = {
    name: 'bad-input',
    reloadable: '/nonexistent.ts',
    args: struct({ width: u16, height: u16 }),
    fields: () => ({ value: u32 }),
  };
  const cases: Case[] = [
    { what: 'defineState(null)', call: () => defineState(null as never), error: SchemaError },
    {
      what: 'defineState without a name',
      call: () => defineState({ ...good, name: '' }),
      error: SchemaError,
    },
    {
      what: 'defineState name 5',
      call: () => defineState({ ...good, name: 5 as never }),
      error: SchemaError,
    },
    {
      what: 'defineState args not a schema',
      call: () => defineState({ ...good, args: { width: u16 } as never }),
      error: SchemaError,
    },
    {
      what: 'defineState fields not a function',
      call: () => defineState({ ...good, fields: { value: u32 } as never }),
      error: SchemaError,
    },
    {
      what: 'defineState reloadable 42',
      call: () => defineState({ ...good, reloadable: 42 as never }),
      error: SchemaError,
    },
  ];
  for (const reserved of ['args', 'region', 'host', 'supervisor', 'close', 'epoch', 'then']) {
    cases.push({
      what: `a field named "${reserved}"`,
      call: () =>
        defineState({ ...good, fields: () => ({ [reserved]: u32 }) }).layout({
          width: 1,
          height: 1,
        }),
      error: SchemaError,
    });
  }
  cases.push({
    what: 'no fields at all',
    call: () => defineState({ ...good, fields: () => ({}) }).layout({ width: 1, height: 1 }),
    error: SchemaError,
  });
  cases.push({
    what: 'a field that is not a schema',
    call: () =>
      defineState({ ...good, fields: () => ({ v: 5 as never }) }).layout({ width: 1, height: 1 }),
    error: SchemaError,
  });
  it.each(cases.map((c) => [c.what, c] as const))('%s', (_what, c) => expectClean(c));

  it('owner() with bad args rejects with ValueError before anything is created', async () => {
    const State = defineState(good);
    for (const args of [
      { width: -1, height: 1 },
      { width: 1.5, height: 1 },
      { width: 70000, height: 1 },
      { width: 1 },
      { width: 1, height: 1, depth: 3 },
      null,
      'x',
    ]) {
      await expect(
        State.owner(args as never, { hot: false }),
        JSON.stringify(args),
      ).rejects.toBeInstanceOf(ValueError);
    }
  });

  it.for([true, false])(
    'owner() with an entry that cannot be found rejects with EntryNotFoundError at once (hot: %s)',
    async (hot) => {
      for (const reloadable of ['no-such-package-hotshm', '/nonexistent/renderer.ts']) {
        const State = defineState({ ...good, reloadable });
        const before = readdirSync('/dev/shm').filter((n) =>
          n.startsWith(`hotshm-${process.pid}-`),
        );
        const error = await State.owner({ width: 1, height: 1 }, { hot }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(EntryNotFoundError);
        expect((error as Error).message).toContain(reloadable);
        // Nothing was created: no region of this process appeared.
        expect(
          readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${process.pid}-`)),
        ).toEqual(before);
      }
    },
  );

  it('a relative reloadable path is refused with the URL form it should take', () => {
    for (const reloadable of ['./renderer.ts', '../x/renderer.ts', '.', '..']) {
      expectClean({
        what: `reloadable ${reloadable}`,
        call: () => defineState({ ...good, reloadable }),
        error: SchemaError,
      });
      expect(() => defineState({ ...good, reloadable })).toThrow(
        /new URL\(".*", import\.meta\.url\)/,
      );
    }
    const State = defineState(good);
    return expect(
      State.owner({ width: 1, height: 1 }, { hot: false, entry: './renderer.ts' }),
    ).rejects.toBeInstanceOf(SchemaError);
  });

  it('args that JSON cannot carry are refused: bigint fields at definition, NaN at owner()', async () => {
    expectClean({
      what: 'args with a u64',
      call: () => defineState({ ...good, args: struct({ big: u64 }) }),
      error: SchemaError,
    });
    expect(() => defineState({ ...good, args: struct({ inner: struct({ n: i64 }) }) })).toThrow(
      'args.inner.n cannot be a i64',
    );
    const State = defineState({ ...good, args: struct({ scale: f32 }) });
    const error = await State.owner({ scale: Number.NaN }, { hot: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValueError);
    expect((error as Error).message).toContain('do not survive JSON');
  });
});
