import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { FakeClock, FakeTransport, flush } from './fakes.test-helper.js';
import { type LoadJob, type LoadOutcome, Renderer } from './lifecycle.js';

const job: LoadJob = { program: '/tmp/p.mjs', epoch: 3, region: '/hotshm-1-aa', args: '{}' };
const ready = { type: 'ready', receivedAt: 1, evalMs: 0.5, stateMs: 0.25 };

function renderer(): { r: Renderer; t: FakeTransport; clock: FakeClock } {
  const clock = new FakeClock();
  const t = new FakeTransport();
  return { r: new Renderer(t, clock), t, clock };
}

const noLayout = async () => ({ abort: 'no migration in this test' });

describe('Renderer lifecycle', () => {
  it('booting → standby on warm, → loading on load, → live on ready, → retired, → stopped', async () => {
    const { r, t } = renderer();
    const seen: string[] = [];
    for (const p of ['standby', 'loading', 'live', 'retired', 'stopped'] as const) {
      void r.reached(p).then(() => seen.push(p));
    }
    expect(r.phase).toBe('booting');
    t.say({ type: 'warm', ms: 12 });
    expect(r.phase).toBe('standby');
    const outcome = r.load(job, { timeoutMs: 1000, onLayout: noLayout });
    expect(r.phase).toBe('loading');
    expect(t.last('load')).toEqual({ type: 'load', ...job });
    t.say(ready);
    expect(r.phase).toBe('live');
    const o = await outcome;
    expect(o.ok).toBe(true);
    r.retire();
    expect(r.phase).toBe('retired');
    const exit = r.stop(500, 'replaced');
    expect(t.signals).toEqual(['terminate']);
    expect(await exit).toEqual({ code: null, signal: 'SIGTERM' });
    expect(r.phase).toBe('stopped');
    expect(r.stopReason).toBe('replaced');
    await flush();
    expect(seen).toEqual(['standby', 'loading', 'live', 'retired', 'stopped']);
  });

  it('calls a phase listener at once when the phase was already reached', async () => {
    const { r, t } = renderer();
    t.say({ type: 'warm', ms: 1 });
    let called = false;
    void r.reached('standby').then(() => {
      called = true;
    });
    await flush();
    expect(called).toBe(true);
  });

  it('a standby that dies while booting reaches stopped, and its warm waiters see it is not warm', async () => {
    const { r, t } = renderer();
    const warm = r.reached('standby').then(() => r.isStandby);
    t.exit({ code: 1, signal: null });
    expect(await warm).toBe(false);
    expect(r.phase).toBe('stopped');
  });

  it('a start that fails reports its stage, message and code', async () => {
    const { r, t } = renderer();
    t.say({ type: 'warm', ms: 1 });
    const outcome = r.load(job, { timeoutMs: 1000, onLayout: noLayout });
    t.say({
      type: 'failed',
      stage: 'import',
      message: 'boom',
      stack: 'Error: boom',
      code: 'HOTSHM_X',
    });
    const o = (await outcome) as Extract<LoadOutcome, { ok: false }>;
    expect(o.ok).toBe(false);
    expect(o.why).toBe('failed');
    expect(o.code).toBe('HOTSHM_X');
    expect(o.error.stage).toBe('import');
    expect(o.error.message).toBe('boom');
  });

  it('an exit while loading is an exited outcome naming the exit and the last error line', async () => {
    const { r, t } = renderer();
    t.say({ type: 'warm', ms: 1 });
    const outcome = r.load(job, { timeoutMs: 1000, onLayout: noLayout });
    t.stderr = 'at foo\nTypeError: x is not a function\n';
    t.exit({ code: 1, signal: null });
    const o = (await outcome) as Extract<LoadOutcome, { ok: false }>;
    expect(o.why).toBe('exited');
    expect(o.error.message).toBe(
      'it exited while starting (exit code 1): TypeError: x is not a function',
    );
    expect(o.error.stage).toBe('exit');
  });

  it('times out after timeoutMs and leaves the renderer running for the host to end', async () => {
    const { r, t, clock } = renderer();
    t.say({ type: 'warm', ms: 1 });
    const outcome = r.load(job, { timeoutMs: 1000, onLayout: noLayout });
    clock.advance(999);
    await flush();
    let settled = false;
    void outcome.then(() => {
      settled = true;
    });
    await flush();
    expect(settled).toBe(false);
    clock.advance(1);
    const o = (await outcome) as Extract<LoadOutcome, { ok: false }>;
    expect(o.why).toBe('timeout');
    expect(o.error.stage).toBe('timeout');
    expect(r.alive).toBe(true);
    expect(t.signals).toEqual([]);
  });

  it('a migration stops the start timeout until it is answered, then starts it again', async () => {
    const { r, t, clock } = renderer();
    t.say({ type: 'warm', ms: 1 });
    let answer: (a: { region: string }) => void = () => {};
    const outcome = r.load(job, {
      timeoutMs: 1000,
      onLayout: () =>
        new Promise((resolve) => {
          answer = resolve;
        }),
    });
    t.say({ type: 'layout', descriptor: { fields: [] }, ms: 2 });
    clock.advance(5000);
    answer({ region: '/hotshm-1-bb' });
    await flush();
    expect(t.last('region')).toEqual({ type: 'region', region: '/hotshm-1-bb' });
    clock.advance(999);
    t.say(ready);
    expect((await outcome).ok).toBe(true);
  });

  it('a refused migration aborts the renderer and is a refused outcome', async () => {
    const { r, t } = renderer();
    t.say({ type: 'warm', ms: 1 });
    const outcome = r.load(job, { timeoutMs: 1000, onLayout: async () => ({ abort: 'no room' }) });
    t.say({ type: 'layout', descriptor: {}, ms: 2 });
    const o = (await outcome) as Extract<LoadOutcome, { ok: false }>;
    expect(o.why).toBe('refused');
    expect(o.error.message).toBe('no room');
    expect(t.last('abort')).toEqual({ type: 'abort', reason: 'no room' });
  });

  it('stop escalates to a kill after the grace period', async () => {
    const { r, t, clock } = renderer();
    t.onTerminate = () => {}; // ignores SIGTERM
    t.say({ type: 'warm', ms: 1 });
    const exit = r.stop(300, 'closing');
    clock.advance(299);
    expect(t.signals).toEqual(['terminate']);
    clock.advance(1);
    expect(t.signals).toEqual(['terminate', 'kill']);
    expect((await exit).signal).toBe('SIGKILL');
    expect(clock.pending).toBe(0);
  });

  it('a renderer that ended on its own was not stopped: stop() returns its exit and sets no reason', async () => {
    const { r, t } = renderer();
    t.exit({ code: 0, signal: null });
    expect(await r.stop(300, 'closing')).toEqual({ code: 0, signal: null });
    expect(r.stopReason).toBeUndefined();
    expect(t.signals).toEqual([]);
  });

  it('reports its first frame once, and null if it stops before one', async () => {
    const a = renderer();
    a.t.say({ type: 'frame', at: 5 });
    a.t.say({ type: 'frame', at: 6 });
    expect(await a.r.firstFrame).toBe(0);
    const b = renderer();
    b.t.exit({ code: 0, signal: null });
    expect(await b.r.firstFrame).toBeNull();
  });

  it('ignores malformed messages and counts them', () => {
    const { r, t } = renderer();
    t.say({ type: 'warm' });
    t.say('warm');
    t.say({ type: 'ready', receivedAt: 'x' });
    expect(r.phase).toBe('booting');
    expect(r.malformed).toBe(3);
  });

  it('refuses a load unless it is a warm standby', () => {
    const { r } = renderer();
    expect(() => r.load(job, { timeoutMs: 1, onLayout: noLayout })).toThrow(
      /only while it is a warm standby, not while it is booting/,
    );
  });

  it('lets go of its onLayout callback once it is no longer loading (it closes over the hand-over)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { r, t } = renderer();
    t.say({ type: 'warm', ms: 1 });
    // What the host's callback closes over: the hand-over, with the renderer it replaced.
    // (Made in a function of its own, so that only the renderer can keep it.)
    const load = () => {
      const handOver = { previous: new Array(1 << 16).fill(1) };
      const outcome = r.load(job, {
        timeoutMs: 1000,
        onLayout: async () => ({ abort: `${handOver.previous.length}` }),
      });
      return { held: new WeakRef(handOver), outcome };
    };
    const { held, outcome } = load();
    t.say(ready);
    expect((await outcome).ok).toBe(true);
    expect(r.phase).toBe('live');
    // A new task: a WeakRef's target is kept to the end of the task that made it.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // The renderer lives on (the host's current renderer); what its load closed over must not.
    expect(r.alive).toBe(true);
    expect(held.deref()).toBeUndefined();
  });
});
