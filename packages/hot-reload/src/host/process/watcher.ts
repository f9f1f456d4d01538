/**
 * Watches what a user means by "my renderer's sources": the folders that hold the entry and every
 * file of its last bundle, each at depth 0, not just the files themselves, and the folders above
 * each of them up to its package (the nearest folder with a `package.json`). A file that is
 * deleted or renamed away and comes back, a symlink swapped in for the entry, a helper module
 * created to fix an import that did not resolve: each is an event in a watched folder. (chokidar 5
 * re-watches a removed *file* for its return only when it is the single path watched; a watched
 * folder sees its files come and go.)
 *
 * A watched *folder* that goes away is dropped by chokidar for good: once its last file is gone
 * and it cannot be read, chokidar closes its watch (`unlinkDir`), and only a watcher of the folder
 * above could see it come back. So `mv src src-away; mv src-away src`, an editor's "rename folder"
 * or a `git checkout` that removes and recreates a folder used to leave every later save unseen.
 * Hence the folders above, up to the package: the folder above sees the folder return
 * (`addDir`), and then the watch is opened afresh on every folder (chokidar shares one `fs.watch`
 * per path across its instances and keys it by path, so a watch left on the old inode must be
 * closed before a new one is made) and every file is reported once, so that whatever changed
 * while the folder was away is built; the build loop drops the files that are as it last read
 * them. A folder without a `package.json` above it gets just its parent.
 *
 * Which events matter is the supervisor's call (see `relevant`): a change to a bundled file or
 * the entry, and any source file appearing or disappearing in the folder of one of them (it may
 * change what an import resolves to). The folders above are watched for folders only. Editors'
 * temporary files (`.index.ts.swp`, `index.ts~`, `index.ts.tmp-123`) are not source files and are
 * ignored.
 *
 * chokidar's own 'change' events are throttled: a change within 50 ms of the last one it emitted
 * for the same file is dropped, with no trailing event, so a formatter's rewrite 20 ms after a save
 * (or every other save of a burst) would be seen only by the build loop's late re-check. The raw
 * events of the folders' watchers (one per inotify event) are therefore passed on too, for files
 * the bundle was made of; the build loop drops the duplicates (a file as the last build read it).
 *
 * On ENOSPC/EMFILE (inotify exhausted) it falls back to polling and says so once.
 */
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import type { FSWatcher } from 'chokidar';

export type WatchEvent = 'add' | 'change' | 'unlink';

const SOURCE = /\.(?:[cm]?[jt]sx?|json)$/;

export interface SourceWatcherOptions {
  readonly usePolling?: boolean;
  /** A change that matters: `path` is absolute. */
  readonly onChange: (path: string, event: WatchEvent) => void;
  readonly onWarning: (message: string) => void;
}

/**
 * `dir` and the folders above it up to the nearest one that holds a `package.json` (`dir` itself
 * if it does); `dir` and its parent when no folder above it holds one.
 */
export function foldersUpToPackage(dir: string): string[] {
  const chain = [dir];
  for (let d = dir; !existsSync(join(d, 'package.json')); ) {
    const up = dirname(d);
    if (up === d) return dirname(dir) === dir ? [dir] : [dir, dirname(dir)];
    chain.push(up);
    d = up;
  }
  return chain;
}

const isUnder = (path: string, folder: string): boolean =>
  path.startsWith(folder.endsWith(sep) ? folder : folder + sep);

export class SourceWatcher {
  readonly #opts: SourceWatcherOptions;
  #watcher: FSWatcher | undefined;
  #watch: typeof import('chokidar').watch | undefined;
  /** The folders of `#files`: a source file appearing or disappearing there matters. */
  #dirs = new Set<string>();
  /** Each of `#dirs` with the folders above it up to its package. */
  #chains = new Map<string, readonly string[]>();
  /** What chokidar is asked to watch: every chain, and folders still above one of them. */
  #folders = new Set<string>();
  #files = new Set<string>();
  #polling: boolean;
  #closed = false;
  #reopening: Promise<void> | undefined;
  #reopenAgain = false;

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
    await this.#open();
  }

  /** Watches the folders of `files` (the entry and the last bundle's inputs). */
  update(files: Iterable<string>): void {
    const nextFiles = new Set(files);
    this.#files = nextFiles;
    const nextDirs = new Set([...nextFiles].map((f) => dirname(f)));
    const chains = new Map<string, readonly string[]>();
    for (const d of nextDirs) chains.set(d, this.#chains.get(d) ?? foldersUpToPackage(d));
    const next = new Set([...chains.values()].flat());
    // chokidar's unwatch also ignores everything below the folder from then on: a folder above
    // one still watched stays watched.
    const remove = [...this.#folders].filter(
      (d) => !next.has(d) && ![...next].some((n) => isUnder(n, d)),
    );
    const kept = [...this.#folders].filter((d) => !next.has(d) && !remove.includes(d));
    for (const d of kept) next.add(d);
    const add = [...next].filter((d) => !this.#folders.has(d));
    this.#dirs = nextDirs;
    this.#chains = chains;
    this.#folders = next;
    if (add.length > 0) this.#watcher?.add(add);
    if (remove.length > 0) this.#watcher?.unwatch(remove);
  }

  /** Whether an event on `path` can change the bundle. */
  relevant(path: string, event: WatchEvent): boolean {
    if (this.#files.has(path)) return true;
    return event !== 'change' && SOURCE.test(path) && this.#dirs.has(dirname(path));
  }

  async close(): Promise<void> {
    this.#closed = true;
    // A reopen under way sees #closed and opens nothing more.
    await this.#watcher?.close();
  }

  /** Opens the watcher on `#folders`; resolves once every folder is watched. */
  #open(): Promise<void> {
    if (!this.#watch || this.#closed) return Promise.resolve();
    const watcher = this.#watch([...this.#folders], {
      ignoreInitial: true,
      depth: 0,
      ignored: (path: string) => /[/\\]node_modules([/\\]|$)/.test(path),
      ...(this.#polling ? { usePolling: true, interval: 100 } : {}),
    });
    this.#watcher = watcher;
    const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    const on =
      (event: WatchEvent) =>
      (path: string): void => {
        if (!this.#closed && this.relevant(path, event)) this.#opts.onChange(path, event);
      };
    watcher.on('change', on('change')).on('add', on('add')).on('unlink', on('unlink'));
    // A watched folder back (seen by the folder above), or dropped by chokidar although it is
    // there again (it came back before chokidar found it gone): watch everything afresh.
    watcher.on('addDir', (path: string) => {
      if (!this.#closed && this.#folders.has(path)) void this.#reopen();
    });
    watcher.on('unlinkDir', (path: string) => {
      if (!this.#closed && this.#folders.has(path) && existsSync(path)) void this.#reopen();
    });
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
        void this.#reopen();
      } else {
        this.#opts.onWarning(`file watcher: ${String(err)}`);
      }
    });
    return ready;
  }

  /**
   * Closes the watcher, opens a new one on every folder, and once it watches them reports every
   * file, so that a save made while nothing watched is built (the build loop drops the files that
   * are as it last read them). A request while one runs runs it once more after.
   */
  #reopen(): Promise<void> {
    if (this.#reopening) {
      this.#reopenAgain = true;
      return this.#reopening;
    }
    const run = async (): Promise<void> => {
      do {
        this.#reopenAgain = false;
        const old = this.#watcher;
        this.#watcher = undefined;
        await old?.close();
        await this.#open();
        if (this.#closed) return;
        for (const f of this.#files) this.#opts.onChange(f, 'add');
      } while (this.#reopenAgain && !this.#closed);
    };
    this.#reopening = run().finally(() => {
      this.#reopening = undefined;
    });
    return this.#reopening;
  }
}
