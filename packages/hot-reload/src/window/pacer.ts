/**
 * When the frame loop ticks next. Never a blocking loop: the owner's event loop also runs the
 * watcher and the renderer host, so a tick is a timer, and a frame waits for the display only
 * where it must.
 *
 * - Timers: one tick per display period, drift-corrected (each tick aims at the next slot of a
 *   fixed grid, so a late tick does not push every later one back).
 * - Vsync (SDL gave PRESENTVSYNC): SDL_RenderPresent returns at a vertical blank, so the time it
 *   returned is the blank's phase. The next tick is set `margin` before the next blank: the frame
 *   work lands just in time, and the present waits about `margin` instead of a whole period —
 *   the event loop stays free for the rest. A present that returns at once was not paced by the
 *   display; after `UNPACED_LIMIT` of those in a row the pacer says vsync is not real here and
 *   paces with timers.
 * - Idle: after `IDLE_AFTER_MS` without activity (input, a new frame, a resize), the loop ticks
 *   every `IDLE_PERIOD_MS` only, so an owner whose picture stands still costs next to nothing.
 *   Activity brings the full rate back at once; the first event after a pause waits at most one
 *   idle period (the pointer moving into the window usually comes before a click does).
 */

/** A present shorter than this did not wait for a blank. */
export const BLOCKED_MS = 0.5;
/** Presents in a row that did not wait before vsync is given up. */
export const UNPACED_LIMIT = 30;
/**
 * A present that waited longer than this was not waiting for a blank: some compositors hold a
 * hidden window's swap until it shows again. The owner's event loop (its watcher, its renderer
 * host) cannot wait that long, so two such presents in a row turn vsync off for the window.
 */
export const STALLED_MS = 100;
/** No activity for this long and the loop slows down. */
export const IDLE_AFTER_MS = 1000;
/** The tick period while idle (30 Hz). */
export const IDLE_PERIOD_MS = 1000 / 30;

export type Pacing = 'vsync' | 'timer';

export interface PacerOptions {
  /** Display refresh rate; default 60. */
  readonly refreshHz?: number | undefined;
  /** The back end waits for the vertical blank in its present. */
  readonly vsync: boolean;
}

export class Pacer {
  readonly periodMs: number;
  readonly marginMs: number;
  #pacing: Pacing;
  #next: number;
  #unpaced = 0;
  #activeAt: number;
  #idle = false;

  constructor(now: number, options: PacerOptions) {
    const hz = options.refreshHz && options.refreshHz > 0 ? options.refreshHz : 60;
    this.periodMs = 1000 / hz;
    this.marginMs = Math.min(3, this.periodMs / 4);
    this.#pacing = options.vsync ? 'vsync' : 'timer';
    this.#next = now;
    this.#activeAt = now;
  }

  get pacing(): Pacing {
    return this.#pacing;
  }

  /** Vsync was turned off: pace with timers from now on. */
  stopVsync(): void {
    this.#pacing = 'timer';
  }

  /** True while the loop ticks at the idle rate (as of the last `next`). */
  get idle(): boolean {
    return this.#idle;
  }

  /** Something happened (an event from outside the loop): the full rate again, from now. */
  wake(now: number): void {
    this.#activeAt = now;
    if (this.#idle) this.#next = now;
    this.#idle = false;
  }

  /**
   * After a tick that ended at `now`: how long to wait for the next one. `present` is when the
   * tick's present started and ended, if it showed something; `active`, whether the tick had
   * anything to do (input, a new frame, a pending resize).
   */
  next(
    now: number,
    present?: { readonly start: number; readonly end: number },
    active = present !== undefined,
  ): number {
    if (active) this.wake(now);
    this.#idle = now - this.#activeAt >= IDLE_AFTER_MS;
    const period = this.#idle ? Math.max(IDLE_PERIOD_MS, this.periodMs) : this.periodMs;
    if (this.#pacing === 'vsync' && present !== undefined) {
      if (present.end - present.start >= BLOCKED_MS) {
        this.#unpaced = 0;
        this.#next = present.end + period - this.marginMs;
        return Math.max(0, this.#next - now);
      }
      if (++this.#unpaced >= UNPACED_LIMIT) this.#pacing = 'timer';
    }
    this.#next += period;
    // Far behind (the event loop was busy, the machine asleep): start the grid again from now.
    if (this.#next < now - period) this.#next = now;
    return Math.max(0, this.#next - now);
  }
}
