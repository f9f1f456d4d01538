/**
 * The process host's decisions, with a fake clock, fake renderer processes, a fake builder and a
 * fake watcher: every move of a hand-over, a crash, a superseded start and a migration, asserted
 * message by message. The end-to-end behaviour with real processes is in test/supervisor.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildError, HotshmError } from '../../errors.js';
import type { HostTarget, MigrationTarget, PreparedMigration } from '../events.js';
import { FakeClock, FakeTransport } from '../fakes.test-helper.js';
import type { BuildOutput } from './builds.js';
import { Supervisor } from './supervisor.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Lets setImmediate callbacks (the build loop's) and the promises after them run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setImmediate(r));
  }
}

function output(hash: string): BuildOutput {
  return {
    contents: `export function main() {} // ${hash}`,
    ext: '.mjs',
    hash,
    inputs: [],
    exports: ['main'],
    externals: [],
    ms: 1,
  };
}

interface FakeTarget extends HostTarget {
  readonly calls: string[];
  epochNow: number;
  refuse?: HotshmError;
}

function fakeTarget(entry: string): FakeTarget {
  let region = '/hotshm-1-aaaaaaaa';
  let migrations = 0;
  const t: FakeTarget = {
    calls: [],
    epochNow: 1,
    entry,
    get regionName() {
      return region;
    },
    argsJson: '{}',
    beginEpoch(e) {
      t.calls.push(`begin ${e}`);
      t.epochNow = e;
    },
    currentEpoch: () => t.epochNow,
    retire: (e) => t.calls.push(`retire ${e}`),
    frameCount: () => 0,
    inspect: () => [],
    takeRepairs: () => [],
    prepareMigration(to: MigrationTarget): PreparedMigration {
      if (t.refuse) throw t.refuse;
      t.calls.push(`prepare ${'descriptor' in to ? JSON.stringify(to.descriptor) : to.args}`);
      return { regionName: `/hotshm-1-0000000${++migrations}`, argsJson: '{}' };
    },
    commitMigration(p, epoch) {
      t.calls.push(`commit ${p.regionName} for epoch ${epoch}`);
      region = p.regionName;
      return {
        state: 'demo',
        kept: ['memory'],
        converted: [],
        reset: [],
        added: [],
        dropped: [],
        renamed: [],
        channels: [],
        droppedMessages: 0,
        ms: 0.1,
        summary: 'kept memory',
      };
    },
    releaseRegion: (p) => t.calls.push(`release for ${p.regionName}`),
    abortMigration: (p) => t.calls.push(`abort ${p.regionName}`),
    useArgs: (json) => t.calls.push(`args ${json}`),
    rendererGone: (epoch, crashed) => {
      t.calls.push(`gone ${epoch}${crashed ? ' crashed' : ''}`);
      return [];
    },
  };
  return t;
}

function setup(options: { standbys?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-sup-unit-'));
  dirs.push(dir);
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, 'export function main() {}\n');
  const clock = new FakeClock();
  const target = fakeTarget(entry);
  const procs: FakeTransport[] = [];
  const outputs: Array<BuildOutput | BuildError> = [];
  let onChange: (path: string) => void = () => {};
  const sup = new Supervisor({
    target,
    clock,
    standbys: options.standbys ?? 2,
    graceMs: 100,
    startTimeoutMs: 1000,
    inspectEveryMs: 0,
    parts: {
      tempDir: () => ({ path: dir, remove: () => {} }),
      reap: () => [],
      library: async () => ({ runner: '/runner.mjs', aliases: {} }),
      builder: async () => ({
        async build() {
          const next = outputs.shift() ?? output('same');
          if (next instanceof BuildError) throw next;
          return next;
        },
        invalidate() {},
        async dispose() {},
      }),
      transport: () => {
        const t = new FakeTransport();
        procs.push(t);
        return t;
      },
      watcher: (o) => {
        onChange = o.onChange as (path: string) => void;
        return { update() {}, async start() {}, async close() {} };
      },
    },
  });
  const events: string[] = [];
  for (const name of ['reload', 'crash', 'migrate', 'layout-change', 'build-error'] as const) {
    sup.on(name, (e: unknown) => {
      const { reason, phase, willRestart } = e as Record<string, unknown>;
      events.push(
        [name, reason, phase, willRestart === undefined ? '' : `restart=${willRestart}`]
          .filter(Boolean)
          .join(' '),
      );
    });
  }
  /** A save: the file changes on disk (its stamp) and the watcher says so. */
  const save = (hash: string, text = hash): void => {
    outputs.push(output(hash));
    writeFileSync(entry, `export function main() {} // ${text}\n`);
    onChange(entry);
  };
  const warm = (t: FakeTransport): void => t.say({ type: 'warm', ms: 1 });
  const ready = (t: FakeTransport): void =>
    t.say({ type: 'ready', receivedAt: 0, evalMs: 1, stateMs: 1 });
  return { sup, clock, target, procs, outputs, events, save, warm, ready, entry };
}

/** Starts the supervisor with one warm standby and makes the first renderer live. */
async function started(s: ReturnType<typeof setup>) {
  s.outputs.push(output('v1'));
  const start = s.sup.start();
  await settle();
  s.warm(s.procs[0]!);
  await settle();
  expect(s.procs[0]!.last('load')?.epoch).toBe(1);
  s.ready(s.procs[0]!);
  await start;
  await settle();
  return s.procs[0]!;
}

describe('Supervisor (fakes)', () => {
  it('starts: the first build goes to the first warm standby, which is live and exclusive at once', async () => {
    const s = setup();
    const first = await started(s);
    expect(s.sup.rendererPid).toBe(first.pid);
    expect(first.sent.map((m) => m.type)).toEqual(['load', 'exclusive']);
    // The next standby boots only after the first frame.
    expect(s.procs).toHaveLength(1);
    first.say({ type: 'frame', at: 1 });
    await settle();
    expect(s.procs).toHaveLength(2);
    expect(s.events).toEqual(['reload start']);
    await s.sup.close();
  });

  it('a save: the new renderer goes live, the old is retired at once and stopped after the new first frame, then the new one is exclusive', async () => {
    const s = setup();
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    const second = s.procs[1]!;
    s.warm(second);
    await settle();
    s.save('v2');
    await settle();
    expect(second.last('load')?.epoch).toBe(2);
    s.ready(second);
    await settle();
    expect(s.target.calls).toContain('retire 1');
    expect(first.signals).toEqual([]);
    second.say({ type: 'frame', at: 2 });
    await settle();
    expect(first.signals).toEqual(['terminate']);
    expect(second.sent.map((m) => m.type)).toEqual(['load', 'exclusive']);
    expect(s.sup.rendererPid).toBe(second.pid);
    expect(s.target.calls).toContain('gone 1');
    expect(s.events).toEqual(['reload start', 'reload change']);
    await s.sup.close();
  });

  it('an identical build is not reloaded', async () => {
    const s = setup();
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    s.warm(s.procs[1]!);
    s.save('v1', 'touched');
    await settle();
    expect(s.procs[1]!.sent).toEqual([]);
    await s.sup.close();
  });

  it("a burst of saves keeps the last warm standby for the burst's last save", async () => {
    const s = setup({ standbys: 3 });
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    s.warm(s.procs[1]!);
    await settle();
    s.warm(s.procs[2]!);
    await settle();
    // Save A: not a burst yet, two standbys are warm: it lands at once.
    s.save('A');
    await settle();
    expect(s.procs[1]!.last('load')).toBeDefined();
    s.ready(s.procs[1]!);
    await settle();
    // B and C come 10 ms apart: a burst, and one warm standby is left. It is kept for the last save.
    s.clock.advance(10);
    s.save('B');
    await settle();
    s.clock.advance(10);
    s.save('C');
    await settle();
    expect(s.procs[2]!.sent).toEqual([]);
    // burstMs (30) after the last save of the burst, C goes to it; B never ran.
    s.clock.advance(29);
    await settle();
    expect(s.procs[2]!.sent).toEqual([]);
    s.clock.advance(1);
    await settle();
    expect(s.procs[2]!.sent.map((m) => m.type)).toEqual(['load']);
    s.ready(s.procs[2]!);
    await settle();
    expect(s.sup.stats.superseded).toBe(1);
    expect(s.sup.stats.reloads).toBe(3);
    await s.sup.close();
  });

  it('a save that builds the program a restart is starting does not cancel that start', async () => {
    // Seen under Wine: a late file event rebuilt the same code while the renderer that replaces
    // a crashed one was starting, and the start was cancelled for it (one more start).
    const s = setup({ standbys: 3 });
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    s.warm(s.procs[1]!);
    await settle();
    s.warm(s.procs[2]!);
    await settle();
    first.exit({ code: 3, signal: null });
    await settle();
    s.clock.advance(100);
    await settle();
    const restart = s.procs[1]!;
    expect(restart.last('load')?.epoch).toBe(2);
    s.save('v1', 'touched');
    await settle();
    // Past the 50 ms after which a slow start gives way to a newer save (not its start timeout).
    s.clock.advance(200);
    await settle();
    expect(restart.signals).toEqual([]);
    expect(s.procs[2]!.sent).toEqual([]);
    s.ready(restart);
    restart.say({ type: 'frame', at: 2 });
    await settle();
    expect(s.sup.rendererPid).toBe(restart.pid);
    expect(s.events).toEqual(['reload start', 'crash running restart=true', 'reload restart']);
    await s.sup.close();
  });

  it('a start that takes long gives way to a newer save after 50 ms', async () => {
    const s = setup({ standbys: 3 });
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    s.warm(s.procs[1]!);
    await settle();
    s.warm(s.procs[2]!);
    await settle();
    s.save('slow');
    await settle();
    const slow = s.procs[1]!;
    expect(slow.last('load')).toBeDefined();
    s.clock.advance(40);
    s.save('fast');
    await settle();
    expect(slow.signals).toEqual([]);
    s.clock.advance(10);
    await settle();
    expect(slow.signals).toEqual(['kill']);
    const fast = s.procs[2]!;
    expect(fast.last('load')).toBeDefined();
    s.ready(fast);
    await settle();
    expect(s.sup.rendererPid).toBe(fast.pid);
    // A renderer the host ended is no crash.
    expect(s.events.filter((e) => e.startsWith('crash'))).toEqual([]);
    await s.sup.close();
  });

  it('a live renderer that crashes is restarted after the back-off; after three quick crashes it waits for a change', async () => {
    const s = setup({ standbys: 1 });
    let live = await started(s);
    for (let crash = 1; crash <= 3; crash++) {
      live.say({ type: 'frame', at: 1 });
      await settle();
      const next = s.procs.at(-1)!;
      s.warm(next);
      await settle();
      live.exit({ code: 1, signal: null });
      await settle();
      if (crash === 3) break;
      s.clock.advance(100 * 2 ** (crash - 1));
      await settle();
      expect(next.last('load')).toBeDefined();
      s.ready(next);
      await settle();
      live = next;
    }
    expect(s.events).toEqual([
      'reload start',
      'crash running restart=true',
      'reload restart',
      'crash running restart=true',
      'reload restart',
      'crash running restart=false',
    ]);
    s.clock.advance(10_000);
    await settle();
    expect(s.procs.at(-1)!.sent).toEqual([]);
    await s.sup.close();
  });

  it('a start that fails leaves the old renderer live and gives it the floor back', async () => {
    const s = setup();
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    const second = s.procs[1]!;
    s.warm(second);
    s.save('broken');
    await settle();
    // Its epoch began in the region before it threw.
    s.target.epochNow = 2;
    second.say({ type: 'failed', stage: 'main', message: 'boom', stack: 'Error: boom' });
    await settle();
    expect(second.signals).toEqual(['kill']);
    expect(s.target.calls).toContain('begin 1');
    expect(s.sup.rendererPid).toBe(first.pid);
    expect(s.events).toEqual(['reload start', 'crash start restart=false']);
    await s.sup.close();
  });

  it('a build error is reported once the files are quiet, and nothing is handed over', async () => {
    const s = setup();
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    s.outputs.push(
      new BuildError(s.entry, [{ text: 'Unexpected ";"', location: `${s.entry}:1:1` }]),
    );
    writeFileSync(s.entry, 'export const broken = ;\n');
    s.sup.reload();
    await settle();
    s.clock.advance(40);
    await settle();
    expect(s.events).toEqual(['reload start', 'build-error']);
    expect(s.sup.rendererPid).toBe(first.pid);
    await s.sup.close();
  });

  it('a layout change migrates: every other renderer is stopped before the values are carried over', async () => {
    const s = setup();
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    const second = s.procs[1]!;
    s.warm(second);
    s.save('v2');
    await settle();
    second.say({ type: 'layout', descriptor: { state: 'demo' }, ms: 1 });
    await settle();
    // Prepared first (the new region exists), then the old renderer is retired and stopped,
    // and only once it is gone are the values carried over.
    expect(s.target.calls).toEqual([
      'prepare {"state":"demo"}',
      'retire 1',
      'gone 1',
      'commit /hotshm-1-00000001 for epoch 2',
      'release for /hotshm-1-00000001',
    ]);
    expect(first.signals).toEqual(['terminate']);
    expect(second.last('region')).toEqual({ type: 'region', region: '/hotshm-1-00000001' });
    s.ready(second);
    await settle();
    expect(s.events).toEqual(['reload start', 'migrate layout']);
    expect(second.sent.map((m) => m.type)).toEqual(['load', 'region', 'exclusive']);
    await s.sup.close();
  });

  it("a resize before any build ran migrates the region with the owner's own definition", async () => {
    const s = setup();
    s.outputs.push(
      new BuildError(s.entry, [{ text: 'Unexpected ";"', location: `${s.entry}:1:1` }]),
    );
    const start = s.sup.start();
    await settle();
    s.clock.advance(40);
    await start;
    expect(await s.sup.resize('{"width":16,"height":8}')).toBe(true);
    expect(s.target.calls).toEqual([
      'prepare {"width":16,"height":8}',
      'commit /hotshm-1-00000001 for epoch 1',
      'release for /hotshm-1-00000001',
    ]);
    expect(s.events).toEqual(['build-error', 'migrate resize']);
    await s.sup.close();
  });

  it('a refused migration keeps the old renderer and region, and says why', async () => {
    const s = setup();
    const first = await started(s);
    first.say({ type: 'frame', at: 1 });
    await settle();
    const second = s.procs[1]!;
    s.warm(second);
    s.target.refuse = new HotshmError(
      'HOTSHM_INCOMPATIBLE_CHANGE',
      'the owner uses memory.clicks, which the new state definition removes',
    );
    s.save('v2');
    await settle();
    second.say({ type: 'layout', descriptor: {}, ms: 1 });
    await settle();
    expect(second.last('abort')?.reason).toMatch(/memory\.clicks/);
    expect(first.signals).toEqual([]);
    expect(s.sup.rendererPid).toBe(first.pid);
    expect(s.events).toEqual(['reload start', 'layout-change']);
    await s.sup.close();
  });
});
