/**
 * The launcher's decisions, driven with fakes: owners are objects that record what they were
 * sent and exit when told, builds come from a list, the clock moves only when a test moves it.
 * Every move of a restart is asserted: who is asked to release, who is given what, who is stopped,
 * what is said.
 */
import { describe, expect, it } from 'vitest';
import { OwnerBuildError } from '../../errors.js';
import { type Clock, type ExitStatus, Launcher, type OwnerLink } from './launcher.js';
import type { OwnerBuild } from './owner-build.js';
import { type FromOwner, PROTOCOL, type ToOwner } from './protocol.js';

const ENTRY = '/app/owner.ts';
const STATE_FILE = '/app/state.ts';
const APP_FILE = '/app/app.ts';

class FakeOwner implements OwnerLink {
  readonly sent: ToOwner[] = [];
  readonly signals: NodeJS.Signals[] = [];
  #listener: (m: FromOwner) => void = () => {};
  #exit: (s: ExitStatus) => void = () => {};
  readonly exited = new Promise<ExitStatus>((r) => {
    this.#exit = r;
  });
  constructor(
    readonly pid: number,
    readonly build: OwnerBuild,
  ) {}
  send(m: ToOwner): void {
    this.sent.push(m);
  }
  onMessage(listener: (m: FromOwner) => void): void {
    this.#listener = listener;
  }
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
  }
  say(m: Record<string, unknown> & { type: FromOwner['type'] }): void {
    this.#listener({ hotshm: PROTOCOL, ...m } as FromOwner);
  }
  end(code: number | null, signal: NodeJS.Signals | null = null): void {
    this.#exit({ code, signal });
  }
  types(): string[] {
    return this.sent.map((m) => m.type);
  }
}

class FakeClock implements Clock {
  t = 0;
  #timers: { at: number; f: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  setTimeout(f: () => void, ms: number): unknown {
    const timer = { at: this.t + ms, f, live: true };
    this.#timers.push(timer);
    return timer;
  }
  clearTimeout(h: unknown): void {
    if (h) (h as { live: boolean }).live = false;
  }
  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      const due = this.#timers
        .filter((x) => x.live && x.at <= until)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.f();
    }
    this.t = until;
  }
}

const build = (hash: string, inputs = [ENTRY, STATE_FILE, APP_FILE]): OwnerBuild => ({
  code: `// ${hash}`,
  hash,
  inputs,
  ms: 1,
});

const broken = (): OwnerBuildError =>
  new OwnerBuildError(ENTRY, [
    { text: `${APP_FILE}:3:7: ERROR: Unexpected "="`, location: `${APP_FILE}:3:7` },
  ]);

/** Lets the launcher's setImmediate-scheduled builds and promise callbacks run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function setup(
  builds: (OwnerBuild | OwnerBuildError)[],
  options: { handoverTimeoutMs?: number } = {},
) {
  const clock = new FakeClock();
  const owners: FakeOwner[] = [];
  const lines: string[] = [];
  const watched: string[][] = [];
  let pid = 100;
  const launcher = new Launcher({
    entry: ENTRY,
    cwd: '/app',
    build: async () => {
      const next = builds.shift();
      if (!next) throw new Error('no build left');
      if (next instanceof OwnerBuildError) throw next;
      return next;
    },
    spawn: (b) => {
      const o = new FakeOwner(++pid, b);
      owners.push(o);
      return o;
    },
    watch: () => ({
      update: (files) => void watched.push([...files]),
      close: async () => {},
    }),
    log: (line) => void lines.push(line),
    clock,
    ...options,
  });
  return { launcher, clock, owners, lines, watched, builds };
}

/** A started launcher with its first owner running and its renderer's inputs reported. */
async function running(builds: (OwnerBuild | OwnerBuildError)[]) {
  const t = setup([build('v1'), ...builds]);
  await t.launcher.start();
  await settle();
  const first = t.owners[0]!;
  first.say({ type: 'take', state: 'demo' });
  first.say({ type: 'inputs', files: ['/app/renderer.ts', STATE_FILE], reloads: true });
  return { ...t, first };
}

describe('the launcher', () => {
  it('starts the first owner on its first build and watches what the build read', async () => {
    const t = setup([build('v1')]);
    await t.launcher.start();
    await settle();
    expect(t.owners).toHaveLength(1);
    expect(t.launcher.current).toBe(101);
    expect(t.lines).toEqual([]);
    expect(t.watched.at(-1)).toEqual([ENTRY, ENTRY, STATE_FILE, APP_FILE]);
    // A first owner asks for a state and is told there is none to adopt.
    t.owners[0]!.say({ type: 'take', state: 'demo' });
    expect(t.owners[0]!.sent).toEqual([
      { hotshm: PROTOCOL, type: 'give', state: 'demo', region: null, window: null },
    ]);
  });

  it('restarts on an owner file: release, give the region and the window, adopted, promote, old goes', async () => {
    const t = await running([build('v2')]);
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.lines.at(-1)).toBe('[hotshm] app.ts changed: restarting the owner (pid 101)');
    const next = t.owners[1]!;
    expect(next.build.hash).toBe('v2');
    // The old owner keeps running until the new one asks for its state.
    expect(t.first.types()).toEqual(['give']);
    next.say({ type: 'take', state: 'demo' });
    expect(t.first.types()).toEqual(['give', 'release']);
    expect(t.launcher.current).toBeUndefined();
    const window = { x: 40, y: 50, width: 300, height: 300 };
    t.first.say({
      type: 'released',
      states: [{ state: 'demo', region: '/hotshm-101-aaaaaaaa', window }],
    });
    expect(next.sent).toEqual([
      { hotshm: PROTOCOL, type: 'give', state: 'demo', region: '/hotshm-101-aaaaaaaa', window },
    ]);
    t.clock.advance(420);
    next.say({
      type: 'adopted',
      state: 'demo',
      from: '/hotshm-101-aaaaaaaa',
      ok: true,
      summary: 'kept 4 fields',
    });
    expect(t.first.sent.at(-1)).toEqual({
      hotshm: PROTOCOL,
      type: 'adopted',
      region: '/hotshm-101-aaaaaaaa',
    });
    expect(t.launcher.current).toBe(102);
    expect(t.lines.at(-1)).toBe(
      '[hotshm] owner restarted in 420 ms (pid 101 → 102); state demo kept 4 fields',
    );
    // Its window stays up until the new owner's is: then it is told to close it, and it exits by
    // itself; if it does not, SIGTERM, then SIGKILL.
    t.clock.advance(1000);
    expect(t.first.signals).toEqual([]);
    expect(t.first.types()).toEqual(['give', 'release', 'adopted']);
    next.say({ type: 'window', state: 'demo' });
    expect(t.first.types()).toEqual(['give', 'release', 'adopted', 'close-windows']);
    t.clock.advance(1999);
    expect(t.first.signals).toEqual([]);
    t.clock.advance(1);
    expect(t.first.signals).toEqual(['SIGTERM']);
    t.clock.advance(3000);
    expect(t.first.signals).toEqual(['SIGTERM', 'SIGKILL']);
    t.first.end(null, 'SIGKILL');
    await settle();
    // The old owner's end is not the launcher's.
    next.end(0);
    expect(await t.launcher.done).toEqual({ code: 0, signal: null });
  });

  it('leaves a change to a file the renderer reloads to the renderer', async () => {
    const t = await running([]);
    t.launcher.changed(STATE_FILE);
    t.launcher.changed('/app/renderer.ts');
    await settle();
    expect(t.owners).toHaveLength(1);
    expect(t.builds).toHaveLength(0);
  });

  it('restarts for the inputs of a renderer that never reloads (a worker), though the owner’s build is the same', async () => {
    const t = await running([build('v1')]);
    t.first.say({ type: 'inputs', files: ['/app/renderer.ts', STATE_FILE], reloads: false });
    expect(t.watched.at(-1)).toContain('/app/renderer.ts');
    t.launcher.changed('/app/renderer.ts');
    await settle();
    expect(t.owners).toHaveLength(2);
    expect(t.lines.at(-1)).toBe('[hotshm] renderer.ts changed: restarting the owner (pid 101)');
  });

  it('keeps the running owner on a build error and says where, once the files are quiet', async () => {
    const t = await running([broken()]);
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.lines).toEqual([]);
    t.clock.advance(50);
    expect(t.lines.at(-1)).toBe(
      `[hotshm] the owner does not build (app.ts:3:7); the running owner (pid 101) keeps going:\n${APP_FILE}:3:7: ERROR: Unexpected "="`,
    );
    expect(t.owners).toHaveLength(1);
    expect(t.first.types()).toEqual(['give']);
  });

  it('restarts nothing for a build that makes what already runs', async () => {
    const t = await running([build('v1')]);
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.owners).toHaveLength(1);
  });

  it('waits for a fix when the first build fails, then starts', async () => {
    const t = setup([broken(), build('v1')]);
    await t.launcher.start();
    await settle();
    t.clock.advance(50);
    expect(t.lines.at(-1)).toMatch(
      /^\[hotshm\] the owner does not build \(app\.ts:3:7\); waiting for a change:/,
    );
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.owners).toHaveLength(1);
    expect(t.launcher.current).toBe(101);
    expect(t.lines.at(-1)).toBe('[hotshm] app.ts changed: starting the owner');
  });

  it('keeps the running owner when the new one exits before it asked for the state', async () => {
    const t = await running([build('v2')]);
    t.launcher.changed(APP_FILE);
    await settle();
    t.owners[1]!.end(1);
    await settle();
    expect(t.lines.at(-1)).toBe(
      '[hotshm] the new owner (pid 102) exited (code 1) before it took over; the running owner (pid 101) keeps going',
    );
    expect(t.launcher.current).toBe(101);
    expect(t.first.types()).toEqual(['give']);
  });

  it('keeps a released state with the old owner when the new one dies adopting it, for the next try', async () => {
    const t = await running([build('v2'), build('v3')]);
    t.launcher.changed(APP_FILE);
    await settle();
    t.owners[1]!.say({ type: 'take', state: 'demo' });
    t.first.say({
      type: 'released',
      states: [{ state: 'demo', region: '/hotshm-101-aaaaaaaa', window: null }],
    });
    t.owners[1]!.end(1);
    await settle();
    expect(t.lines.at(-1)).toBe(
      '[hotshm] the new owner (pid 102) exited (code 1) before it took over; its state stays with pid 101 until the next start; save to try again',
    );
    // Nobody is stopped: the old owner holds the region.
    expect(t.first.signals).toEqual([]);
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.lines.at(-1)).toBe('[hotshm] app.ts changed: restarting the owner');
    const third = t.owners[2]!;
    third.say({ type: 'take', state: 'demo' });
    expect(third.sent[0]).toMatchObject({ type: 'give', region: '/hotshm-101-aaaaaaaa' });
    expect(t.first.types()).toEqual(['give', 'release']);
  });

  it('replaces a new owner that has not asked for the state yet with a newer build', async () => {
    const t = await running([build('v2'), build('v3')]);
    t.launcher.changed(APP_FILE);
    await settle();
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.owners.map((o) => o.build.hash)).toEqual(['v1', 'v2', 'v3']);
    expect(t.owners[1]!.signals).toEqual(['SIGTERM']);
    expect(t.first.signals).toEqual([]);
  });

  it('lets a hand-over under way finish before the next build starts another', async () => {
    const t = await running([build('v2'), build('v3')]);
    t.launcher.changed(APP_FILE);
    await settle();
    const next = t.owners[1]!;
    next.say({ type: 'take', state: 'demo' });
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.owners).toHaveLength(2);
    t.first.say({
      type: 'released',
      states: [{ state: 'demo', region: '/hotshm-101-aaaaaaaa', window: null }],
    });
    next.say({
      type: 'adopted',
      state: 'demo',
      from: '/hotshm-101-aaaaaaaa',
      ok: true,
      summary: 'kept',
    });
    expect(t.owners.map((o) => o.build.hash)).toEqual(['v1', 'v2', 'v3']);
    expect(t.lines.at(-1)).toBe('[hotshm] app.ts changed: restarting the owner (pid 102)');
  });

  it('lets a new owner that defines no state take over after the timeout, and stops the old one', async () => {
    const t = setup([build('v1'), build('v2')], { handoverTimeoutMs: 1000 });
    await t.launcher.start();
    await settle();
    t.launcher.changed(APP_FILE);
    await settle();
    t.clock.advance(1000);
    expect(t.launcher.current).toBe(102);
    expect(t.owners[0]!.signals).toEqual(['SIGTERM']);
    expect(t.lines.at(-2)).toBe(
      '[hotshm] the new owner (pid 102) defined no state within 1000 ms: it takes over without one',
    );
  });

  it('restarts when the owner asks to (its state changed under it), even for the same build', async () => {
    const t = await running([build('v1')]);
    t.first.say({ type: 'restart', reason: 'the layout changed' });
    await settle();
    expect(t.owners).toHaveLength(2);
    expect(t.lines.at(-1)).toBe(
      '[hotshm] the owner asked for a restart (the layout changed): restarting the owner (pid 101)',
    );
  });

  it('ends with the current owner, with its status, and stops the others', async () => {
    const t = await running([build('v2')]);
    t.launcher.changed(APP_FILE);
    await settle();
    t.first.end(3);
    await settle();
    expect(t.owners[1]!.signals).toEqual(['SIGTERM']);
    t.owners[1]!.end(null, 'SIGTERM');
    expect(await t.launcher.done).toEqual({ code: 3, signal: null });
  });

  it('passes a signal to every owner and ends once all have exited', async () => {
    const t = await running([build('v2')]);
    t.launcher.changed(APP_FILE);
    await settle();
    t.launcher.stop('SIGINT');
    expect(t.first.signals).toEqual(['SIGINT']);
    expect(t.owners[1]!.signals).toEqual(['SIGINT']);
    t.first.end(null, 'SIGINT');
    await settle();
    let done = false;
    void t.launcher.done.then(() => {
      done = true;
    });
    await settle();
    expect(done).toBe(false);
    t.owners[1]!.end(130);
    expect(await t.launcher.done).toEqual({ code: null, signal: 'SIGINT' });
    // A change after a stop builds nothing.
    t.launcher.changed(APP_FILE);
    await settle();
    expect(t.owners).toHaveLength(2);
  });

  it('does not pass on a signal the owners got themselves (a terminal’s Ctrl+C)', async () => {
    const t = await running([]);
    t.launcher.stop('SIGINT', false);
    expect(t.first.signals).toEqual([]);
    t.first.end(null, 'SIGINT');
    expect(await t.launcher.done).toEqual({ code: null, signal: 'SIGINT' });
  });

  it('ends at once on a signal when no owner runs (the first build failed)', async () => {
    const t = setup([broken()]);
    await t.launcher.start();
    await settle();
    t.launcher.stop('SIGTERM');
    expect(await t.launcher.done).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('stops at once an owner that never asked for a state, and gives the new one nothing', async () => {
    const t = setup([build('v1'), build('v2')]);
    await t.launcher.start();
    await settle();
    t.launcher.changed(APP_FILE);
    await settle();
    t.owners[1]!.say({ type: 'take', state: 'demo' });
    expect(t.owners[0]!.types()).toEqual([]);
    expect(t.owners[0]!.signals).toEqual(['SIGTERM']);
    expect(t.owners[1]!.sent[0]).toMatchObject({ type: 'give', region: null });
    expect(t.launcher.current).toBe(102);
  });

  it('stops an old owner whose window the new owner never replaces, once it has held it long enough', async () => {
    const t = await running([build('v2')]);
    t.launcher.changed(APP_FILE);
    await settle();
    const next = t.owners[1]!;
    next.say({ type: 'take', state: 'demo' });
    const window = { x: 1, y: 2, width: 3, height: 4 };
    t.first.say({
      type: 'released',
      states: [{ state: 'demo', region: '/hotshm-101-aaaaaaaa', window }],
    });
    next.say({
      type: 'adopted',
      state: 'demo',
      from: '/hotshm-101-aaaaaaaa',
      ok: true,
      summary: 'kept',
    });
    t.clock.advance(4999);
    expect(t.first.signals).toEqual([]);
    t.clock.advance(1);
    expect(t.first.signals).toEqual(['SIGTERM']);
  });

  it('stops an old owner that held no state once it has answered', async () => {
    const t = await running([build('v2')]);
    t.launcher.changed(APP_FILE);
    await settle();
    t.owners[1]!.say({ type: 'take', state: 'demo' });
    t.first.say({ type: 'released', states: [] });
    expect(t.owners[1]!.sent[0]).toMatchObject({ type: 'give', region: null });
    expect(t.launcher.current).toBe(102);
    t.clock.advance(2000);
    expect(t.first.signals).toEqual(['SIGTERM']);
  });
});
