/**
 * The source watcher on real files: a folder of the sources renamed away and back, removed and
 * made again, in either watch mode (issue 20, item 1), and which events count.
 */
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { foldersUpToPackage, SourceWatcher, type WatchEvent } from './watcher.js';

interface Seen {
  readonly path: string;
  readonly event: WatchEvent;
}

interface Fixture {
  /** The package folder (it holds a package.json). */
  readonly pkg: string;
  readonly src: string;
  readonly entry: string;
  readonly watcher: SourceWatcher;
  readonly seen: Seen[];
  readonly warnings: string[];
}

let fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures) {
    await f.watcher.close();
    rmSync(dirname(f.pkg), { recursive: true, force: true });
  }
  fixtures = [];
});

/** A package with `src/index.ts` (and `extra` files, relative to the package) watched as sources. */
async function watchPackage(
  options: {
    usePolling?: boolean;
    /** Whether the package has a package.json (default true). */
    packageJson?: boolean;
    /** Whether the folder above the package holds a package.json too. */
    workspace?: boolean;
    extra?: Record<string, string>;
  } = {},
): Promise<Fixture> {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'hotshm-watch-')));
  const pkg = join(root, 'pkg');
  const src = join(pkg, 'src');
  mkdirSync(src, { recursive: true });
  if (options.packageJson !== false) writeFileSync(join(pkg, 'package.json'), '{}');
  if (options.workspace) writeFileSync(join(root, 'package.json'), '{}');
  const entry = join(src, 'index.ts');
  writeFileSync(entry, 'export const v = 0;\n');
  const files = [entry];
  for (const [rel, text] of Object.entries(options.extra ?? {})) {
    const path = join(pkg, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    files.push(path);
  }
  const seen: Seen[] = [];
  const warnings: string[] = [];
  const watcher = new SourceWatcher({
    ...(options.usePolling ? { usePolling: true } : {}),
    onChange: (path, event) => seen.push({ path, event }),
    onWarning: (message) => warnings.push(message),
  });
  watcher.update(files);
  await watcher.start();
  const f = { pkg, src, entry, watcher, seen, warnings };
  fixtures.push(f);
  return f;
}

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Empties `seen`, runs `act`, and waits until `path` is reported (with `event` if given). */
async function reported(
  f: Fixture,
  what: string,
  path: string,
  act: () => void,
  event?: WatchEvent,
): Promise<void> {
  f.seen.length = 0;
  act();
  await until(what, () =>
    f.seen.some((s) => s.path === path && (event === undefined || s.event === event)),
  );
}

/** Three saves in a row of `path`, each reported. */
async function savesLand(f: Fixture, path: string, label: string): Promise<void> {
  for (let i = 1; i <= 3; i++) {
    await reported(f, `save ${i} ${label}`, path, () =>
      writeFileSync(path, `export const v = ${i};\n`),
    );
  }
}

describe('a folder of the sources goes away and comes back (issue 20, item 1)', () => {
  for (const usePolling of [false, true]) {
    const mode = usePolling ? 'polling' : 'events';
    it(`renamed away and back (${mode}): the return is reported, every later save is seen`, async () => {
      const f = await watchPackage({ usePolling });
      await savesLand(f, f.entry, 'before the rename');
      const away = `${f.src}-away`;
      await reported(f, 'the entry gone', f.entry, () => renameSync(f.src, away), 'unlink');
      await reported(f, 'the entry back', f.entry, () => renameSync(away, f.src));
      await savesLand(f, f.entry, 'after the folder came back');
    });
  }

  it('edited while away: the return is reported, so the build reads the new content', async () => {
    const f = await watchPackage();
    const away = `${f.src}-away`;
    await reported(f, 'the entry gone', f.entry, () => renameSync(f.src, away), 'unlink');
    writeFileSync(join(away, 'index.ts'), 'export const v = 42;\n');
    await reported(f, 'the entry back', f.entry, () => renameSync(away, f.src));
    await savesLand(f, f.entry, 'after the edited folder came back');
  });

  it('removed and made again, as a branch switch does: the new file is reported, later saves are seen', async () => {
    const f = await watchPackage();
    await reported(
      f,
      'the entry gone',
      f.entry,
      () => rmSync(f.src, { recursive: true }),
      'unlink',
    );
    await reported(f, 'the new entry', f.entry, () => {
      mkdirSync(f.src);
      writeFileSync(f.entry, 'export const v = 7;\n');
    });
    await savesLand(f, f.entry, 'after the folder was made again');
  });

  it('a folder below the moved one: its file is reported on return and its saves are seen', async () => {
    const f = await watchPackage({ extra: { 'src/lib/util.ts': 'export const u = 0;\n' } });
    const util = join(f.src, 'lib', 'util.ts');
    const away = `${f.src}-away`;
    await reported(f, 'the helper gone', util, () => renameSync(f.src, away), 'unlink');
    await reported(f, 'the helper back', util, () => renameSync(away, f.src));
    await savesLand(f, util, 'of the helper after the move back');
    await savesLand(f, f.entry, 'of the entry after the move back');
  });

  it('with no package.json above, the folder above is still watched', async () => {
    const f = await watchPackage({ packageJson: false });
    const away = `${f.src}-away`;
    await reported(f, 'the entry gone', f.entry, () => renameSync(f.src, away), 'unlink');
    await reported(f, 'the entry back', f.entry, () => renameSync(away, f.src));
    await savesLand(f, f.entry, 'after the folder came back');
    expect(f.warnings).toEqual([]);
  });
});

describe('what is watched and what counts', () => {
  it('the folders up to the package, or the parent alone without one', () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'hotshm-watch-')));
    try {
      const deep = join(root, 'pkg', 'src', 'a', 'b');
      mkdirSync(deep, { recursive: true });
      expect(foldersUpToPackage(deep)).toEqual([deep, dirname(deep)]);
      writeFileSync(join(root, 'pkg', 'package.json'), '{}');
      expect(foldersUpToPackage(deep)).toEqual([
        deep,
        join(root, 'pkg', 'src', 'a'),
        join(root, 'pkg', 'src'),
        join(root, 'pkg'),
      ]);
      expect(foldersUpToPackage(join(root, 'pkg'))).toEqual([join(root, 'pkg')]);
      expect(foldersUpToPackage('/')).toEqual(['/']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("a source file appearing counts in a source's folder only, not in the folders above", async () => {
    const f = await watchPackage();
    expect(f.watcher.relevant(join(f.src, 'helper.ts'), 'add')).toBe(true);
    expect(f.watcher.relevant(join(f.src, 'helper.ts'), 'unlink')).toBe(true);
    expect(f.watcher.relevant(join(f.src, 'helper.ts'), 'change')).toBe(false);
    expect(f.watcher.relevant(join(f.src, '.index.ts.swp'), 'add')).toBe(false);
    expect(f.watcher.relevant(f.entry, 'change')).toBe(true);
    expect(f.watcher.relevant(join(f.pkg, 'tool.ts'), 'add')).toBe(false);
    expect(f.watcher.relevant(join(f.pkg, 'package.json'), 'unlink')).toBe(false);
    // A file of the bundle in the package folder makes it a source folder.
    const state = join(f.pkg, 'state.ts');
    writeFileSync(state, 'export const s = 0;\n');
    f.watcher.update([f.entry, state]);
    expect(f.watcher.relevant(join(f.pkg, 'tool.ts'), 'add')).toBe(true);
    await reported(f, 'a save of the state file', state, () =>
      writeFileSync(state, 'export const s = 1;\n'),
    );
  });

  it('a folder no file needs any more stops counting; one above a source folder stays watched', async () => {
    // The workspace is a package too: a file at its root makes chokidar watch it, above `pkg/src`.
    const f = await watchPackage({
      workspace: true,
      extra: { '../tool.ts': 'export const t = 0;\n' },
    });
    const tool = join(dirname(f.pkg), 'tool.ts');
    await reported(f, 'a save of the tool', tool, () =>
      writeFileSync(tool, 'export const t = 1;\n'),
    );
    f.watcher.update([f.entry]);
    expect(f.watcher.relevant(tool, 'change')).toBe(false);
    expect(f.watcher.relevant(join(dirname(f.pkg), 'y.ts'), 'add')).toBe(false);
    // chokidar's unwatch of the workspace folder would ignore everything that appears below it
    // from then on: a new helper, the entry replaced by an atomic save.
    await savesLand(f, f.entry, 'after the workspace folder was dropped');
    const helper = join(f.src, 'helper.ts');
    await reported(f, 'a new helper', helper, () => writeFileSync(helper, 'export {};\n'), 'add');
    await reported(f, 'an atomic save of the entry', f.entry, () => {
      writeFileSync(`${f.entry}.tmp`, 'export const v = 9;\n');
      renameSync(`${f.entry}.tmp`, f.entry);
    });
  });
});
