/**
 * Watches what a user means by "my renderer's sources": the folders that hold the entry and every
 * file of its last bundle, each at depth 0, not just the files themselves. A file that is deleted
 * or renamed away and comes back, a symlink swapped in for the entry, a helper module created to
 * fix an import that did not resolve: each is an event in a watched folder. (chokidar 5 re-watches
 * a removed *file* for its return only when it is the single path watched; a watched folder sees
 * its files come and go.)
 *
 * Which events matter is the supervisor's call (see `relevant`): a change to a bundled file or
 * the entry, and any source file appearing or disappearing (it may change what an import resolves
 * to). Editors' temporary files (`.index.ts.swp`, `index.ts~`, `index.ts.tmp-123`) are not source
 * files and are ignored.
 *
 * chokidar's own 'change' events are throttled: a change within 50 ms of the last one it emitted
 * for the same file is dropped, with no trailing event, so a formatter's rewrite 20 ms after a save
 * (or every other save of a burst) would be seen only by the build loop's late re-check. The raw
 * events of the folders' watchers (one per inotify event) are therefore passed on too, for files
 * the bundle was made of; the build loop drops the duplicates (a file as the last build read it).
 *
 * On ENOSPC/EMFILE (inotify exhausted) it falls back to polling and says so once.
 */
import { dirname, join } from 'node:path';
import type { FSWatcher } from 'chokidar';

export type WatchEvent = 'add' | 'change' | 'unlink';

const SOURCE = /\.(?:[cm]?[jt]sx?|json)$/;

export interface SourceWatcherOptions {
  readonly usePolling?: boolean;
  /** A change that matters: `path` is absolute. */
  readonly onChange: (path: string, event: WatchEvent) => void;
  readonly onWarning: (message: string) => void;
}

export class SourceWatcher {
  readonly #opts: SourceWatcherOptions;
  #watcher: FSWatcher | undefined;
  #watch: typeof import('chokidar').watch | undefined;
  #dirs = new Set<string>();
  #files = new Set<string>();
  #polling: boolean;
  #closed = false;

  constructor(options: SourceWatcherOptions) {
    this.#opts = options;
    this.#polling = options.usePolling ?? false;
  }

  get polling(): boolean {
    return this.#polling;
  }

  async start(): Promise<void> {
    // Loaded here, not at import: renderers import this library too and never watch anything.
    this.#watch = (await import('chokidar')).watch;
    this.#open();
  }

  /** Watches the folders of `files` (the entry and the last bundle's inputs). */
  update(files: Iterable<string>): void {
    const nextFiles = new Set(files);
    this.#files = nextFiles;
    const nextDirs = new Set([...nextFiles].map((f) => dirname(f)));
    const add = [...nextDirs].filter((d) => !this.#dirs.has(d));
    const remove = [...this.#dirs].filter((d) => !nextDirs.has(d));
    this.#dirs = nextDirs;
    if (add.length > 0) this.#watcher?.add(add);
    if (remove.length > 0) this.#watcher?.unwatch(remove);
  }

  /** Whether an event on `path` can change the bundle. */
  relevant(path: string, event: WatchEvent): boolean {
    if (this.#files.has(path)) return true;
    return event !== 'change' && SOURCE.test(path);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#watcher?.close();
  }

  #open(): void {
    if (!this.#watch || this.#closed) return;
    const watcher = this.#watch([...this.#dirs], {
      ignoreInitial: true,
      depth: 0,
      ignored: (path: string) => /[/\\]node_modules([/\\]|$)/.test(path),
      ...(this.#polling ? { usePolling: true, interval: 100 } : {}),
    });
    this.#watcher = watcher;
    const on =
      (event: WatchEvent) =>
      (path: string): void => {
        if (!this.#closed && this.relevant(path, event)) this.#opts.onChange(path, event);
      };
    watcher.on('change', on('change')).on('add', on('add')).on('unlink', on('unlink'));
    watcher.on('raw', (_event: string, name: unknown, details: unknown) => {
      const dir = (details as { watchedPath?: unknown } | undefined)?.watchedPath;
      if (this.#closed || typeof name !== 'string' || typeof dir !== 'string') return;
      const path = join(dir, name);
      if (this.#files.has(path)) this.#opts.onChange(path, 'change');
    });
    watcher.on('error', (err: unknown) => {
      const code = (err as { code?: string }).code;
      if ((code === 'ENOSPC' || code === 'EMFILE') && !this.#polling && !this.#closed) {
        this.#opts.onWarning(
          `file watching hit the system limit (${code}): falling back to polling every 100 ms`,
        );
        this.#polling = true;
        void watcher.close().then(() => this.#open());
      } else {
        this.#opts.onWarning(`file watcher: ${String(err)}`);
      }
    });
  }
}
