/**
 * The one crash policy both hosts follow. A renderer that dies is started again after a back-off
 * that doubles (100, 200, 400 ms … capped); a crash counts as quick when the renderer ran for less
 * than `quickCrashMs`, and after `maxQuickCrashes` quick crashes in a row the host stops
 * restarting and waits for the next change of the source (or gives up, for a worker, which has no
 * source to watch). A renderer that ran long enough resets the count.
 */

export interface RestartOptions {
  /** Quick crashes in a row before giving up on restarts. Default 3. */
  readonly maxQuickCrashes?: number;
  /** A crash within this many milliseconds of the start is quick. Default 3000. */
  readonly quickCrashMs?: number;
  /** First back-off. Default 100 ms. */
  readonly backoffMs?: number;
  /** Longest back-off. Default 5000 ms. */
  readonly maxBackoffMs?: number;
}

export interface RestartDecision {
  readonly willRestart: boolean;
  readonly restartInMs: number | null;
}

export class RestartPolicy {
  readonly #max: number;
  readonly #quickMs: number;
  readonly #base: number;
  readonly #cap: number;
  #quick = 0;

  constructor(options: RestartOptions = {}) {
    this.#max = options.maxQuickCrashes ?? 3;
    this.#quickMs = options.quickCrashMs ?? 3000;
    this.#base = options.backoffMs ?? 100;
    this.#cap = options.maxBackoffMs ?? 5000;
  }

  /** A renderer that ran for `ranMs` died: restart it, and when? */
  crashed(ranMs: number): RestartDecision {
    // A renderer that ran long enough was not a quick crash: the count starts again from zero.
    this.#quick = ranMs < this.#quickMs ? this.#quick + 1 : 0;
    if (this.#quick >= this.#max) return { willRestart: false, restartInMs: null };
    return { willRestart: true, restartInMs: this.backoff(this.#quick) };
  }

  /** The back-off before attempt `n` (1-based), also used for retrying spawns. */
  backoff(n: number): number {
    return Math.min(this.#base * 2 ** Math.max(0, n - 1), this.#cap);
  }

  /** New code (a saved change): the next crash starts counting from one again. */
  reset(): void {
    this.#quick = 0;
  }
}
