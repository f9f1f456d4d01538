/**
 * The warm standby processes of hot mode: `size` of them are kept booted (Node, koffi, the
 * library and the region loaded) so that a save never waits for a process to start. One boots at
 * a time, and none while a hand-over is in flight (a boot takes a core for ~100 ms, which would
 * land on the very frame the user waits for) unless none is warm at all. A spawn that fails is
 * retried with the restart policy's back-off, and after `MAX_FAILURES` failures in a row the pool
 * gives up until it is asked again.
 */
import { SpawnError } from '../../errors.js';
import type { Clock, Renderer } from '../lifecycle.js';

export interface StandbyPoolOptions {
  readonly size: number;
  readonly spawn: () => Renderer;
  /** The wait before spawn attempt `n` after failures. */
  readonly backoff: (n: number) => number;
  readonly clock: Clock;
  /** A standby became warm. */
  readonly onWarm: () => void;
  readonly onWarning: (message: string, error?: SpawnError) => void;
  /** Spawns keep failing: the pool stopped trying. */
  readonly onGiveUp: () => void;
}

/** Failed spawns in a row before the pool stops trying. */
export const MAX_FAILURES = 8;

export class StandbyPool {
  readonly #o: StandbyPoolOptions;
  #procs: Renderer[] = [];
  #booting = false;
  #failures = 0;
  #timer: unknown;
  #paused = 0;
  #closed = false;
  /** Standbys that became warm (a death of one of these is replaced at once). */
  readonly #warmed = new WeakSet<Renderer>();

  constructor(options: StandbyPoolOptions) {
    this.#o = options;
  }

  /** Warm standbys, oldest first. */
  warm(): Renderer[] {
    return this.#procs.filter((p) => p.isStandby);
  }

  /** Every standby, warm or booting. */
  all(): readonly Renderer[] {
    return this.#procs;
  }

  has(p: Renderer): boolean {
    return this.#procs.includes(p);
  }

  /** Spawns keep failing and the pool stopped trying. */
  get gaveUp(): boolean {
    return this.#failures >= MAX_FAILURES;
  }

  /** Takes a standby out of the pool (it is being handed a build). */
  take(p: Renderer): void {
    this.#procs = this.#procs.filter((q) => q !== p);
  }

  /** No boots until the returned function is called (once). */
  pause(): () => void {
    this.#paused++;
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      this.#paused--;
      this.fill();
    };
  }

  /** A standby died: forget it, and replace it if it was warm. */
  died(p: Renderer, why: string): void {
    if (!this.has(p)) return;
    this.take(p);
    if (this.#warmed.has(p) && !this.#closed) {
      this.#o.onWarning(`a standby process died (${why}); starting another`);
      this.fill();
    }
  }

  /**
   * Boots one standby if fewer than `size` are warm or booting. `urgent`: a build waits for one,
   * so it boots even during a hand-over, and a pool that gave up tries again.
   */
  fill(urgent = false): void {
    if (this.#closed || this.#booting || this.#timer !== undefined) return;
    if (urgent && this.gaveUp) this.#failures = 0;
    if (this.gaveUp) return;
    this.#procs = this.#procs.filter((p) => p.alive);
    if (this.#procs.length >= this.#o.size) return;
    if (this.#paused > 0 && !(urgent && this.#procs.length === 0)) return;
    let p: Renderer;
    try {
      p = this.#o.spawn();
    } catch (e) {
      this.#failed(e);
      return;
    }
    this.#procs.push(p);
    this.#booting = true;
    void p.reached('standby').then(() => {
      this.#booting = false;
      if (p.isStandby) {
        this.#warmed.add(p);
        this.#failures = 0;
        this.#o.onWarm();
        this.fill();
        return;
      }
      // It ended before it was warm.
      this.take(p);
      if (p.stopReason === undefined) {
        this.#failed(
          new SpawnError(
            `the standby process exited before it was ready (${p.exit ? (p.exit.signal ?? `exit code ${p.exit.code}`) : 'no exit status'})${p.transport.stderr ? `:\n${p.transport.stderr}` : ''}`,
          ),
        );
      }
    });
  }

  #failed(e: unknown): void {
    this.#failures++;
    const giveUp = this.gaveUp;
    const retryMs = this.#o.backoff(this.#failures);
    this.#o.onWarning(
      `${e instanceof Error ? e.message : String(e)}; ${giveUp ? 'giving up until the next change' : `trying again in ${retryMs} ms`}`,
      e instanceof SpawnError ? e : undefined,
    );
    if (giveUp || this.#closed) {
      this.#o.onGiveUp();
      return;
    }
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.fill();
    }, retryMs);
  }

  close(): void {
    this.#closed = true;
    this.#o.clock.clearTimeout(this.#timer);
  }
}
