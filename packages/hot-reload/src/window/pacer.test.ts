/** The frame loop's pacing, on a clock the test moves: timers, vsync phase, idle rate. */
import { describe, expect, it } from 'vitest';
import { BLOCKED_MS, IDLE_AFTER_MS, IDLE_PERIOD_MS, Pacer, UNPACED_LIMIT } from './pacer.js';

const PERIOD = 1000 / 60;

describe('Pacer', () => {
  it('ticks on a fixed 60 Hz grid, so a late tick does not delay the ones after it', () => {
    const pacer = new Pacer(0, { vsync: false });
    expect(pacer.periodMs).toBeCloseTo(PERIOD, 9);
    expect(pacer.next(1, undefined, true)).toBeCloseTo(PERIOD - 1, 9);
    // This tick ran 5 ms late: the next still aims at 2 × period.
    expect(pacer.next(PERIOD + 5, undefined, true)).toBeCloseTo(PERIOD - 5, 9);
    expect(pacer.pacing).toBe('timer');
  });

  it('ticks at once and starts the grid again from now when it fell more than a period behind', () => {
    const pacer = new Pacer(0, { vsync: false });
    expect(pacer.next(100, undefined, true)).toBe(0);
    expect(pacer.next(100.5, undefined, true)).toBeCloseTo(PERIOD - 0.5, 9);
  });

  it('uses the refresh rate the back end knows', () => {
    expect(new Pacer(0, { vsync: false, refreshHz: 144 }).periodMs).toBeCloseTo(1000 / 144, 9);
    expect(new Pacer(0, { vsync: false, refreshHz: 0 }).periodMs).toBeCloseTo(PERIOD, 9);
  });

  it('with vsync, sets the next tick a margin before the next blank, from when the present returned', () => {
    const pacer = new Pacer(0, { vsync: true });
    // The present waited 4 ms: the blank was at 10.
    const delay = pacer.next(10.2, { start: 6, end: 10 });
    expect(delay).toBeCloseTo(10 + PERIOD - pacer.marginMs - 10.2, 9);
    expect(pacer.marginMs).toBe(3);
    expect(pacer.pacing).toBe('vsync');
  });

  it('gives vsync up after presents that never wait, and paces with timers from then on', () => {
    const pacer = new Pacer(0, { vsync: true });
    let now = 0;
    for (let i = 0; i < UNPACED_LIMIT - 1; i++) {
      now += PERIOD;
      pacer.next(now, { start: now - 0.1, end: now - 0.1 + BLOCKED_MS / 2 });
    }
    expect(pacer.pacing).toBe('vsync');
    now += PERIOD;
    pacer.next(now, { start: now - 0.1, end: now });
    expect(pacer.pacing).toBe('timer');
  });

  it('a present that waits resets the count of presents that did not', () => {
    const pacer = new Pacer(0, { vsync: true });
    let now = 0;
    for (let i = 0; i < 3 * UNPACED_LIMIT; i++) {
      now += PERIOD;
      const waited = i % (UNPACED_LIMIT - 1) === 0;
      pacer.next(now, { start: now - 5, end: now - 5 + (waited ? 4 : 0) });
    }
    expect(pacer.pacing).toBe('vsync');
  });

  it('slows to the idle rate after a second without activity, and wakes at once', () => {
    const pacer = new Pacer(0, { vsync: false });
    let now = 0;
    while (now < IDLE_AFTER_MS - PERIOD) {
      now += pacer.next(now, undefined, false);
      expect(pacer.idle).toBe(false);
    }
    now += pacer.next(now, undefined, false);
    now += pacer.next(now, undefined, false);
    expect(pacer.idle).toBe(true);
    expect(pacer.next(now, undefined, false)).toBeCloseTo(IDLE_PERIOD_MS, 9);
    // Something happened between two ticks: the next tick is one full-rate period away.
    now += 5;
    pacer.wake(now);
    expect(pacer.idle).toBe(false);
    expect(pacer.next(now, undefined, false)).toBeCloseTo(PERIOD, 9);
    // An active tick keeps the full rate.
    now += PERIOD;
    expect(pacer.next(now, undefined, true)).toBeCloseTo(PERIOD, 9);
  });
});
