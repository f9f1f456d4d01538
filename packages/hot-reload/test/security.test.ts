/**
 * Security: regions are private to their user (0600, O_EXCL, never a name someone else made
 * first, names nobody can guess), and nothing read from shared memory or the environment is
 * trusted or evaluated before it is validated. The threat model is in the README.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CorruptRegionError,
  InvalidArgumentError,
  LayoutMismatchError,
  NotReloadableError,
  RegionExistsError,
  SizeMismatchError,
  ValueError,
} from '../src/exports/errors.js';
import { createRegion, newRegionName, openRegion, unlinkRegion } from '../src/exports/memory.js';
import { channel, defineState, fixedString, HotshmError, struct, u16, u32 } from '../src/index.js';
import { HeaderOffset, headerLayout, markReady, writeHeader } from '../src/memory/header.js';
import { describeLayout } from '../src/state/descriptor.js';

const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));
const created: string[] = [];
afterEach(() => {
  for (const name of created.splice(0)) unlinkRegion(name);
});

const Args = struct({ width: u16, height: u16 });
const State = defineState({
  name: 'security',
  reloadable: '/nonexistent/entry.ts',
  args: Args,
  fields: ({ width }) => ({
    inbox: channel(struct({ n: u32 }), { capacity: 8 }),
    title: fixedString(Math.max(width, 1)),
    value: u32,
  }),
});
const ARGS = { width: 16, height: 9 };

/**
 * A region made exactly as `owner()` makes it (header, initialised fields, ready last), without
 * starting a renderer: what a renderer process maps. Returns its name and bytes.
 */
function ownerRegion(descriptorOverride?: string): {
  name: string;
  view: DataView;
  offsets: Record<string, number>;
} {
  const lay = State.layout(ARGS);
  const descriptor = descriptorOverride ?? JSON.stringify(describeLayout(lay));
  const hl = headerLayout(lay.dataSize, Buffer.byteLength(descriptor));
  const name = newRegionName();
  const region = createRegion(name, hl.totalSize);
  created.push(name);
  writeHeader(region, {
    fingerprint: lay.fingerprint,
    descriptor,
    ownerPid: process.pid,
  });
  const view = new DataView(region.buffer);
  for (const f of lay.fields) f.schema.init?.(view, f.offset);
  markReady(region);
  return { name, view, offsets: Object.fromEntries(lay.fields.map((f) => [f.name, f.offset])) };
}

/** Runs `fn` with the renderer's environment set, as a standby process has it. */
function asRenderer<T>(env: Record<string, string | undefined>, fn: () => T): T {
  const keys = ['HOTSHM_REGION', 'HOTSHM_ARGS', 'HOTSHM_EPOCH', 'HOTSHM_OWNER_PID'];
  const saved = keys.map((k) => process.env[k]);
  try {
    for (const k of keys) delete process.env[k];
    for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
    return fn();
  } finally {
    keys.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
}

const rendererEnv = (name: string, args: string = JSON.stringify(ARGS)) => ({
  HOTSHM_REGION: name,
  HOTSHM_ARGS: args,
  HOTSHM_EPOCH: '1',
  HOTSHM_OWNER_PID: String(process.pid),
});

describe('regions are private and never someone else’s', () => {
  it('are created 0600 even with a umask that would allow everyone', () => {
    const old = process.umask(0);
    try {
      const name = newRegionName();
      createRegion(name, 4096);
      created.push(name);
      expect(statSync(`/dev/shm${name}`).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(old);
    }
  });

  it('a name pre-created as a symlink is not followed: RegionExistsError, the target untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotshm-sec-'));
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious');
    const name = newRegionName();
    symlinkSync(target, `/dev/shm${name}`);
    try {
      expect(() => createRegion(name, 4096)).toThrow(RegionExistsError);
      expect(readFileSync(target, 'utf8')).toBe('precious');
    } finally {
      rmSync(`/dev/shm${name}`, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('owner(): a name someone else created first is reported and skipped, never opened', () => {
    // The child draws the taken name for its first two attempts (its crypto is rigged), so
    // owner() must report twice and use a third, fresh name; the squatter's bytes stay as they are.
    const entryDir = mkdtempSync(join(tmpdir(), 'hotshm-sec-'));
    const entry = join(entryDir, 'entry.mjs');
    writeFileSync(
      entry,
      'export async function main() { await new Promise((r) => setTimeout(r, 100)); }\n',
    );
    const suffix = 'deadbeef';
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/security-child.ts', suffix, '2', entry],
      {
        cwd: PACKAGE_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    rmSync(entryDir, { recursive: true, force: true });
    const out = JSON.parse(child.stdout.trim().split('\n').pop() || '{}') as {
      ok?: boolean;
      pid?: number;
      region?: string;
      squatter?: string;
    };
    expect(out.ok, child.stderr + child.stdout).toBe(true);
    expect(out.region).toMatch(new RegExp(`^/hotshm-${out.pid}-[0-9a-f]{8}$`));
    expect(out.region).not.toBe(`/hotshm-${out.pid}-${suffix}`);
    expect(child.stderr.match(/already taken by another process/g)).toHaveLength(2);
    expect(out.squatter).toBe('squatter');
    expect(existsSync(`/dev/shm/hotshm-${out.pid}-${suffix}`)).toBe(false);
  });

  it('owner(): when every name it draws is taken, a clear RegionExistsError', () => {
    const entryDir = mkdtempSync(join(tmpdir(), 'hotshm-sec-'));
    const entry = join(entryDir, 'entry.mjs');
    writeFileSync(entry, 'export async function main() {}\n');
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'test/security-child.ts', 'deadbeef', '1000', entry],
      {
        cwd: PACKAGE_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    rmSync(entryDir, { recursive: true, force: true });
    const out = JSON.parse(child.stdout.trim().split('\n').pop() || '{}') as {
      ok?: boolean;
      name?: string;
      message?: string;
    };
    expect(out, child.stderr).toMatchObject({ ok: false, name: 'RegionExistsError' });
    expect(out.message).toMatch(/already exists: expected a fresh name/);
  });

  it('names carry 32 random bits from crypto: distinct, every hex digit in every place, immune to Math.random', () => {
    const realRandom = Math.random;
    Math.random = () => 0;
    try {
      const names = Array.from({ length: 4000 }, () => newRegionName());
      expect(new Set(names).size).toBe(names.length);
      const suffixes = names.map((n) => /^\/hotshm-\d+-([0-9a-f]{8})$/.exec(n)?.[1] ?? '');
      for (let place = 0; place < 8; place++) {
        expect(new Set(suffixes.map((s) => s[place])).size).toBe(16);
      }
    } finally {
      Math.random = realRandom;
    }
  });
});

describe('nothing from the environment is trusted or evaluated', () => {
  it('the positive control: a well-formed hand-off maps the region', () => {
    const { name } = ownerRegion();
    const s = asRenderer(rendererEnv(name), () => State.reloadable());
    expect(s.args).toEqual(ARGS);
    s.value.set(7);
    expect(s.value.get()).toBe(7);
  });

  it('HOTSHM_ARGS holding code is rejected as not JSON, and never run', () => {
    const { name } = ownerRegion();
    const g = globalThis as { pwned?: unknown };
    for (const payload of [
      '(()=>{globalThis.pwned=1})()',
      'globalThis.pwned=1',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile payload, on purpose
      '`${globalThis.pwned=1}`',
      '{"width":1,"height":1}//',
    ]) {
      expect(() => asRenderer(rendererEnv(name, payload), () => State.reloadable())).toThrow(
        InvalidArgumentError,
      );
    }
    expect(g.pwned).toBeUndefined();
  });

  it('HOTSHM_ARGS with prototype-pollution keys is rejected by the args schema, and pollutes nothing', () => {
    const { name } = ownerRegion();
    for (const payload of [
      '{"width":16,"height":9,"__proto__":{"polluted":1}}',
      '{"width":16,"height":9,"constructor":{"prototype":{"polluted":1}}}',
      '{"__proto__":{"width":16,"height":9}}',
      '{"width":"16","height":9}',
      '{"width":16}',
      '[16,9]',
      'null',
    ]) {
      expect(
        () => asRenderer(rendererEnv(name, payload), () => State.reloadable()),
        payload,
      ).toThrow(ValueError);
    }
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect((Object.prototype as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('HOTSHM_REGION, HOTSHM_EPOCH and HOTSHM_OWNER_PID are checked before use', () => {
    const { name } = ownerRegion();
    const bad: Record<string, string>[] = [
      { HOTSHM_REGION: '/../../etc/passwd' },
      { HOTSHM_REGION: 'hotshm-1-aa' },
      { HOTSHM_REGION: '/hotshm-1-aa;touch /tmp/hotshm-pwned' },
      { HOTSHM_REGION: '/$(id)' },
      { HOTSHM_REGION: `/${'a'.repeat(40)}` },
      { HOTSHM_EPOCH: '0' },
      { HOTSHM_EPOCH: '-1' },
      { HOTSHM_EPOCH: '1.5' },
      { HOTSHM_EPOCH: '1e99' },
      { HOTSHM_EPOCH: 'Infinity' },
      { HOTSHM_OWNER_PID: '1; rm -rf /' },
      { HOTSHM_OWNER_PID: '0' },
      { HOTSHM_OWNER_PID: '99999999999' },
    ];
    for (const override of bad) {
      expect(
        () => asRenderer({ ...rendererEnv(name), ...override }, () => State.reloadable()),
        JSON.stringify(override),
      ).toThrow(InvalidArgumentError);
    }
    expect(existsSync('/tmp/hotshm-pwned')).toBe(false);
    expect(() => asRenderer({}, () => State.reloadable())).toThrow(NotReloadableError);
  });
});

describe('nothing read from shared memory is trusted before it is validated', () => {
  it('a channel index out of range → CorruptRegionError at reloadable(), before any accessor exists', () => {
    const { name, view, offsets } = ownerRegion();
    const inbox = offsets.inbox!;
    view.setUint32(inbox, 1000, true); // write index: 1000 queued in a ring of 8
    expect(() => asRenderer(rendererEnv(name), () => State.reloadable())).toThrow(
      CorruptRegionError,
    );
  });

  it('a header claiming more bytes than are mapped → SizeMismatchError at reloadable()', () => {
    const { name, view } = ownerRegion();
    view.setBigUint64(HeaderOffset.totalSize, 1n << 40n, true);
    expect(() => asRenderer(rendererEnv(name), () => State.reloadable())).toThrow(
      SizeMismatchError,
    );
  });

  it('a corrupted header → a HotshmError at reloadable(), never a crash', () => {
    for (const offset of [
      HeaderOffset.magic,
      HeaderOffset.formatVersion,
      HeaderOffset.headerSize,
      HeaderOffset.descriptorOffset,
      HeaderOffset.descriptorLength,
    ]) {
      const { name, view } = ownerRegion();
      view.setUint32(offset, 0xfffffff0, true);
      expect(
        () => asRenderer(rendererEnv(name), () => State.reloadable()),
        `offset ${offset}`,
      ).toThrow(HotshmError);
    }
  });

  it('a layout descriptor holding code is reported as text in a LayoutMismatchError, never run', () => {
    const g = globalThis as { pwned?: unknown };
    const hostile = JSON.stringify({
      format: 1,
      state: 'security',
      start: 192,
      size: 64,
      fields: [{ name: 'inbox', offset: 192, type: { kind: '(()=>{globalThis.pwned=1})()' } }],
      fingerprint: '00',
    });
    const { name } = ownerRegion(hostile);
    // Another layout's fingerprint: the hostile descriptor is what explains the difference.
    const lay = State.layout(ARGS);
    const other = new Uint8Array(lay.fingerprint);
    other[0] = other[0]! ^ 0xff;
    const r = createRegionView(name);
    r.set(other, HeaderOffset.fingerprint);
    let error: unknown;
    try {
      asRenderer(rendererEnv(name), () => State.reloadable());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LayoutMismatchError);
    expect(String((error as Error).message)).toContain('(()=>{globalThis.pwned=1})()');
    expect(g.pwned).toBeUndefined();
  });

  // Regression: malformed entries used to throw a TypeError outside the parse guard.
  it('a descriptor with malformed field entries → LayoutMismatchError', () => {
    const { name } = ownerRegion(JSON.stringify({ state: 'security', fields: [null, 5] }));
    const r = createRegionView(name);
    r[HeaderOffset.fingerprint] = r[HeaderOffset.fingerprint]! ^ 0xff;
    expect(() => asRenderer(rendererEnv(name), () => State.reloadable())).toThrow(
      LayoutMismatchError,
    );
  });
});

/** The bytes of an existing region, mapped again (as another process would). */
function createRegionView(name: string): Uint8Array {
  return new Uint8Array(openRegion(name).buffer);
}
