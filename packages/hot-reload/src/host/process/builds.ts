/**
 * The build loop of hot mode: file events in, good builds out.
 *
 * - Events coalesce without a fixed debounce: events of one save arrive in the same tick or the
 *   next (one setImmediate gathers them); events during a build mark it dirty and exactly one
 *   more build follows.
 * - A build is good only if it built, its entry exports `main`, and the files it read are still
 *   what is on disk: every file is stamped (inode, size, mtime, ctime) before esbuild reads it and
 *   again after; a save caught half-written (truncate, then write) is built again, never handed on.
 * - A failed build is reported only once the files have been quiet for `errorQuietMs`: the empty
 *   file of an in-place save, or a file half-written by a slow editor, never reaches anyone.
 * - chokidar drops a second 'change' of the same file within 50 ms of the first (editors that write
 *   twice, tools that touch then write), so each event is followed by one look at the file 80 ms
 *   later: if it is not as the last build that read it found it, build again.
 */
import { statSync } from 'node:fs';
import { BuildError } from '../../errors.js';
import { TypedEmitter } from '../emitter.js';
import type { ReloadReason } from '../events.js';
import { type Clock, systemClock } from '../lifecycle.js';

/** A file's identity and content state (null: absent). A change of any means a different file. */
export type Stamp = string | null;

export function stamp(path: string): Stamp {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return null;
  }
}

/** Whether any file differs from its stamp. */
export function changedSince(stamps: ReadonlyMap<string, Stamp>): boolean {
  for (const [path, before] of stamps) if (stamp(path) !== before) return true;
  return false;
}

/** What a builder makes of the sources (an ES module bundle, or a program description). */
export interface BuildOutput {
  readonly contents: string;
  readonly ext: '.mjs' | '.json';
  /** Identical outputs (a `touch`, a save without changes) are not reloaded. */
  readonly hash: string;
  /** Every source file it was made of (absolute): what the watcher must watch. */
  readonly inputs: readonly string[];
  /** Names the entry exports. */
  readonly exports: readonly string[];
  /** Packages it imports, by file URL. */
  readonly externals: readonly string[];
  readonly ms: number;
}

/** Turns the sources into a build; throws `BuildError` with the compiler's messages. */
export interface Builder {
  /** `changed`: the files saved since the last build (a builder may rebuild only those). */
  build(changed: readonly string[]): Promise<BuildOutput>;
  /** Forgets cached resolutions (after a package was installed or removed). */
  invalidate(): void;
  dispose(): Promise<void>;
}

/** A good build, ready to be handed to a renderer. */
export interface Built {
  readonly out: BuildOutput;
  readonly reason: ReloadReason;
  /** The clock's now() when the change it contains was seen (null for a restart). */
  readonly changeAt: number | null;
  readonly builtAt: number;
  /** What the build read, as it was on disk when the build began. */
  readonly stamps: ReadonlyMap<string, Stamp>;
  /** Builds thrown away on the way to this one (a file changed while it was read). */
  readonly discarded: number;
}

export interface BuildLoopEvents {
  building: [{ readonly reason: ReloadReason; readonly files: readonly string[] }];
  built: [Built];
  failed: [BuildError];
  warning: [string];
}

export interface BuildLoopOptions {
  readonly builder: Builder;
  readonly entry: string;
  /** A failed build is reported once the files have been quiet this long. */
  readonly errorQuietMs: number;
  readonly clock?: Clock;
}

interface Change {
  at: number;
  files: Set<string>;
  reason: ReloadReason;
}

const RECHECK_MS = 80;

/** A look again must not keep the owner's process alive on its own. */
const unref = (handle: unknown): unknown => {
  (handle as { unref?: () => void } | undefined)?.unref?.();
  return handle;
};

export class BuildLoop extends TypedEmitter<BuildLoopEvents> {
  readonly #o: BuildLoopOptions;
  #building = false;
  #pending: Change | undefined;
  #failed = false;
  #errorTimer: unknown;
  readonly #recheck = new Map<string, Stamp | undefined>();
  #recheckTimer: unknown;
  #inputs: readonly string[] = [];
  /** What the latest build read (its stamps, taken before esbuild read the files). */
  #read: ReadonlyMap<string, Stamp> = new Map();
  #closed = false;
  /** When the last two changes were seen: saves closer than a burst's gap are one burst. */
  lastChangeAt = Number.NEGATIVE_INFINITY;
  prevChangeAt = Number.NEGATIVE_INFINITY;
  builds = 0;

  readonly #clock: Clock;

  constructor(options: BuildLoopOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** A build or a pending change is in flight. */
  get busy(): boolean {
    return this.#building || this.#pending !== undefined;
  }

  /**
   * A file the user saved (or removed, or created). An event for a file that is still as the
   * latest build read it is a duplicate (chokidar's and the raw watcher's for one save): dropped,
   * so that it neither builds twice nor looks like a second save of a burst.
   */
  changed(path: string): void {
    const read = this.#read.get(path);
    if (read !== undefined && stamp(path) === read) return;
    const now = this.#clock.now();
    this.prevChangeAt = this.lastChangeAt;
    this.lastChangeAt = now;
    this.schedule(now, [path], 'change');
    this.#recheckLater(path);
  }

  schedule(at: number, files: readonly string[], reason: ReloadReason): void {
    if (this.#closed) return;
    if (this.#pending) {
      for (const f of files) this.#pending.files.add(f);
      this.#pending.at = at;
      if (reason !== 'start') this.#pending.reason = reason;
    } else {
      this.#pending = { at, files: new Set(files), reason };
    }
    // A pending error report is dropped: a newer save is on its way.
    this.#clock.clearTimeout(this.#errorTimer);
    if (!this.#building) setImmediate(() => void this.#run());
  }

  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#errorTimer);
    this.#clock.clearTimeout(this.#recheckTimer);
  }

  /**
   * Looks at `path` again RECHECK_MS after the last event (each event moves the look later), and
   * keeps looking while builds run: chokidar suppresses a 'change' within 50 ms of the last one
   * it emitted, with no trailing event, so the last save of a burst may come with no event at all.
   */
  #recheckLater(path: string): void {
    // undefined until a build reads the file: then it is built, whatever its stamp.
    if (!this.#recheck.has(path)) this.#recheck.set(path, undefined);
    this.#clock.clearTimeout(this.#recheckTimer);
    this.#recheckTimer = unref(this.#clock.setTimeout(() => this.#recheckNow(), RECHECK_MS));
  }

  #recheckNow(): void {
    this.#recheckTimer = undefined;
    if (this.#closed) return;
    if (this.busy) {
      // The build under way records what it read; look after it.
      this.#recheckTimer = unref(this.#clock.setTimeout(() => this.#recheckNow(), RECHECK_MS));
      return;
    }
    const changed = [...this.#recheck]
      .filter(([p, built]) => built === undefined || stamp(p) !== built)
      .map(([p]) => p);
    this.#recheck.clear();
    if (changed.length === 0) return;
    for (const p of changed) this.#recheck.set(p, undefined);
    this.schedule(this.#clock.now(), changed, 'change');
    this.#recheckTimer = unref(this.#clock.setTimeout(() => this.#recheckNow(), RECHECK_MS));
  }

  async #run(): Promise<void> {
    if (this.#building) return;
    this.#building = true;
    const o = this.#o;
    let discarded = 0;
    try {
      while (this.#pending && !this.#closed) {
        const change = this.#pending;
        this.#pending = undefined;
        this.emit('building', { reason: change.reason, files: [...change.files] });
        // Stamped before the builder reads anything: a write after this changes the stamp.
        const stamps = new Map<string, Stamp>();
        for (const f of new Set([o.entry, ...this.#inputs, ...change.files])) {
          stamps.set(f, stamp(f));
        }
        this.#read = stamps;
        // After a failure a package may have been installed since: resolve afresh.
        if (this.#failed) o.builder.invalidate();
        let out: BuildOutput;
        try {
          out = await o.builder.build([...change.files]);
        } catch (e) {
          // The builder itself failing (a native binding that does not load, a crashed service)
          // is a build that failed as well: reported where a syntax error is, so that the first
          // start ends and the user sees why, and the next save tries again.
          const error =
            e instanceof BuildError
              ? e
              : new BuildError(o.entry, [
                  {
                    text: `the builder failed: ${e instanceof Error ? e.message : String(e)}`,
                    location: o.entry,
                  },
                ]);
          this.#failed = true;
          if (!this.#pending && !changedSince(stamps)) this.#reportSoon(error);
          continue;
        } finally {
          for (const f of change.files) {
            if (this.#recheck.has(f)) this.#recheck.set(f, stamps.get(f) ?? null);
          }
        }
        this.#failed = false;
        this.#inputs = out.inputs;
        // A file changed while the builder read it: what it built may be neither version. The
        // change's own event is pending already, or this makes one.
        if (this.#pending || changedSince(stamps)) {
          discarded++;
          this.#pending ??= change;
          continue;
        }
        if (!out.exports.includes('main')) {
          this.#reportSoon(
            new BuildError(o.entry, [
              {
                text: `the entry exports no main(): expected \`export async function main() { … }\`, got exports [${out.exports.join(', ')}]`,
                location: o.entry,
              },
            ]),
          );
          continue;
        }
        this.builds++;
        this.emit('built', {
          out,
          reason: change.reason,
          changeAt: change.reason === 'restart' ? null : change.at,
          builtAt: this.#clock.now(),
          stamps,
          discarded,
        });
        discarded = 0;
      }
    } catch (e) {
      this.emit(
        'warning',
        `the build loop failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`,
      );
    } finally {
      this.#building = false;
    }
  }

  /** Reports a failed build once the files have been quiet for a moment. */
  #reportSoon(error: BuildError): void {
    this.#clock.clearTimeout(this.#errorTimer);
    this.#errorTimer = this.#clock.setTimeout(() => {
      if (this.#closed || this.busy) return;
      this.emit('failed', error);
    }, this.#o.errorQuietMs);
  }
}
