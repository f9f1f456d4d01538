import { describe, expect, it } from 'vitest';
import { FakeClock, FakeTransport, flush } from '../fakes.test-helper.js';
import { Renderer } from '../lifecycle.js';
import { MAX_FAILURES, StandbyPool } from './pool.js';

function pool(spawn: () => Renderer, clock = new FakeClock()) {
  const events = { warm: 0, warnings: [] as string[], gaveUp: 0 };
  const p = new StandbyPool({
    size: 2,
    spawn,
    backoff: () => 10,
    clock,
    onWarm: () => events.warm++,
    onWarning: (m) => events.warnings.push(m),
    onGiveUp: () => events.gaveUp++,
  });
  return { p, events, clock };
}

describe('StandbyPool', () => {
  it('boots one standby at a time up to its size', async () => {
    const transports: FakeTransport[] = [];
    const clock = new FakeClock();
    const { p, events } = pool(() => {
      const t = new FakeTransport();
      transports.push(t);
      return new Renderer(t, clock);
    }, clock);
    p.fill();
    p.fill();
    expect(transports).toHaveLength(1);
    transports[0]!.say({ type: 'warm', ms: 1 });
    await flush();
    expect(events.warm).toBe(1);
    expect(transports).toHaveLength(2);
    transports[1]!.say({ type: 'warm', ms: 1 });
    await flush();
    expect(p.warm()).toHaveLength(2);
    p.fill();
    expect(transports).toHaveLength(2);
  });

  it(`gives up after exactly ${MAX_FAILURES} failed spawns in a row, and tries again when urgent`, async () => {
    let attempts = 0;
    const { p, events, clock } = pool(() => {
      attempts++;
      throw new Error('EAGAIN');
    });
    p.fill();
    for (let i = 0; i < 20; i++) clock.advance(10);
    await flush();
    expect(attempts).toBe(MAX_FAILURES);
    expect(events.gaveUp).toBe(1);
    expect(p.gaveUp).toBe(true);
    expect(events.warnings.at(-1)).toMatch(/giving up until the next change/);
    p.fill(true);
    expect(attempts).toBe(MAX_FAILURES + 1);
  });

  it('does not boot while paused unless none is warm and the need is urgent', async () => {
    const clock = new FakeClock();
    let spawned = 0;
    const { p } = pool(() => {
      spawned++;
      return new Renderer(new FakeTransport(), clock);
    }, clock);
    const resume = p.pause();
    p.fill();
    expect(spawned).toBe(0);
    p.fill(true);
    expect(spawned).toBe(1);
    resume();
    resume();
    expect(spawned).toBe(1);
  });

  it('a warm standby that dies is replaced at once, with a warning', async () => {
    const clock = new FakeClock();
    const transports: FakeTransport[] = [];
    const { p, events } = pool(() => {
      const t = new FakeTransport();
      transports.push(t);
      return new Renderer(t, clock);
    }, clock);
    p.fill();
    transports[0]!.say({ type: 'warm', ms: 1 });
    await flush();
    transports[1]!.say({ type: 'warm', ms: 1 });
    await flush();
    const [first] = p.warm();
    transports[0]!.exit({ code: null, signal: 'SIGKILL' });
    p.died(first!, 'killed by SIGKILL');
    expect(events.warnings).toEqual([
      'a standby process died (killed by SIGKILL); starting another',
    ]);
    expect(transports).toHaveLength(3);
  });
});
