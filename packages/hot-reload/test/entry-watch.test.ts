/**
 * Issue 11, case 1: the entry deleted or renamed away and back, or swapped for a symlink and then
 * for a file again. Each must end with the last content on screen, and every later save must
 * still land (chokidar re-watches a removed file only when it is the single path it watches;
 * the host watches the entry's folder instead). Issue 20, item 1: the entry's folder renamed away
 * and back (chokidar drops a watched folder that goes away; the host watches the folders above it
 * up to the package too). Real files, the real watcher, real renderers.
 */
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frontPixel, type Owner, openOwner, type Recorded, record } from './fixtures/owners.js';
import {
  createWorkspace,
  isAlive,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const colour = (n: number): number => (0xff000000 | (n * 0x010203)) >>> 0;

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

/**
 * The renderer in a folder of its own (`src/`), the state one folder up: as in the example, the
 * entry is the only file the host watches in its folder (with a sibling watched in the same
 * folder, chokidar saw a removed file come back even before the fix).
 */
function srcWorkspace(): TempWorkspace {
  const base = createWorkspace('');
  rmSync(base.rendererPath);
  mkdirSync(join(base.dir, 'src'));
  const rendererPath = join(base.dir, 'src', 'index.ts');
  // A package, as the example's renderer is: the watcher looks up to its package.json.
  writeFileSync(join(base.dir, 'package.json'), '{ "name": "renderer", "private": true }\n');
  return {
    dir: base.dir,
    statePath: base.statePath,
    rendererPath,
    writeRenderer: (source) => writeFileSync(rendererPath, source),
    remove: () => base.remove(),
  };
}

/** The fixture renderer, importing the state from one folder up. */
const source = (n: number): string =>
  rendererSource(colour(n)).replace("from './state.ts'", "from '../state.ts'");

async function start(): Promise<{ owner: Owner; ws: TempWorkspace; seen: Recorded }> {
  ws = srcWorkspace();
  ws.writeRenderer(source(1));
  owner = await openOwner(ws);
  const seen = record(owner);
  await until('the first frame', () => frontPixel(owner!) === colour(1));
  return { owner, ws, seen };
}

/** Saves `n` in place and waits until it is on screen. */
async function saveAndSee(o: Owner, w: TempWorkspace, n: number, what: string): Promise<void> {
  w.writeRenderer(source(n));
  await until(what, () => frontPixel(o) === colour(n));
}

describe('the entry goes away and comes back (issue 11, case 1)', () => {
  it('deleted: a build error is reported, the renderer keeps running, the restored file renders, later saves land', async () => {
    const { owner, ws, seen } = await start();
    const pid = owner.host.rendererPid;
    rmSync(ws.rendererPath);
    await until('a build error for the missing entry', () => seen.buildErrors.length > 0);
    expect(seen.buildErrors[0]!.messages.join('\n')).toMatch(/index\.ts/);
    // A failed build leaves the running renderer alone.
    expect(owner.host.rendererPid).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    expect(frontPixel(owner)).toBe(colour(1));

    // Restored with new content: that content renders.
    writeFileSync(ws.rendererPath, source(2));
    await until('the restored entry on screen', () => frontPixel(owner) === colour(2));
    // Not just once: the rest of the run keeps reloading.
    await saveAndSee(owner, ws, 3, 'a save after the restore');
    await saveAndSee(owner, ws, 4, 'a second save after the restore');

    // Deleted again and restored with the very content that runs (nothing to reload), then
    // saved: the save lands.
    const errors = seen.buildErrors.length;
    rmSync(ws.rendererPath);
    await until('a second build error', () => seen.buildErrors.length > errors);
    writeFileSync(ws.rendererPath, source(4));
    await saveAndSee(owner, ws, 5, 'a save after the same content came back');
  });

  it('renamed away and back (in its folder and to another folder): the last content renders, later saves land', async () => {
    const { owner, ws, seen } = await start();
    const away = `${ws.rendererPath}.away`;
    renameSync(ws.rendererPath, away);
    await until('a build error for the renamed entry', () => seen.buildErrors.length > 0);
    // Edited while away (not a source file name: nobody rebuilds for it), then renamed back.
    writeFileSync(away, source(2));
    renameSync(away, ws.rendererPath);
    await until('the renamed-back entry on screen', () => frontPixel(owner) === colour(2));
    await saveAndSee(owner, ws, 3, 'a save after the rename back');

    // Into another folder and back, as a `git stash` or a branch switch does.
    const elsewhere = join(ws.dir, 'stash');
    mkdirSync(elsewhere);
    const errors = seen.buildErrors.length;
    renameSync(ws.rendererPath, join(elsewhere, 'index.ts'));
    await until('a build error for the moved entry', () => seen.buildErrors.length > errors);
    writeFileSync(join(elsewhere, 'index.ts'), source(4));
    renameSync(join(elsewhere, 'index.ts'), ws.rendererPath);
    await until('the moved-back entry on screen', () => frontPixel(owner) === colour(4));
    await saveAndSee(owner, ws, 5, 'a save after the move back');
  });

  it('a symlink swapped in for the entry, then a file again: each ends with the last content on screen', async () => {
    const { owner, ws } = await start();
    // The symlink's target sits beside the entry (its imports are relative to where it really is).
    const target = join(dirname(ws.rendererPath), 'renderer-v2.ts');
    writeFileSync(target, source(2));
    // Swapped atomically, as deploy tools and some editors do: a new link renamed over the file.
    const link = join(dirname(ws.rendererPath), 'renderer.link.tmp');
    symlinkSync(target, link);
    renameSync(link, ws.rendererPath);
    await until('the symlinked entry on screen', () => frontPixel(owner) === colour(2));
    // Editing the file the link points at is editing the entry.
    writeFileSync(target, source(3));
    await until("an edit of the link's target on screen", () => frontPixel(owner) === colour(3));

    // A regular file again, renamed over the link.
    const tmp = join(dirname(ws.rendererPath), 'renderer.file.tmp');
    writeFileSync(tmp, source(4));
    renameSync(tmp, ws.rendererPath);
    await until('the file that replaced the link on screen', () => frontPixel(owner) === colour(4));
    await saveAndSee(owner, ws, 5, 'a save in place after the link is gone');
    // The old target is no longer the entry: editing it changes nothing on screen, and the
    // entry's next save still lands.
    writeFileSync(target, source(6));
    await saveAndSee(owner, ws, 7, 'a save after the old target was edited');
    expect(frontPixel(owner)).toBe(colour(7));
  });

  it("the entry's folder renamed away and back (issue 20, item 1): edited while away, it renders; later saves land", async () => {
    const { owner, ws, seen } = await start();
    const src = dirname(ws.rendererPath);
    const away = `${src}-away`;
    renameSync(src, away);
    await until(
      'a build error for the entry whose folder went away',
      () => seen.buildErrors.length > 0,
    );
    writeFileSync(join(away, 'index.ts'), source(2));
    renameSync(away, src);
    await until('the folder back, with its edit on screen', () => frontPixel(owner) === colour(2));
    await saveAndSee(owner, ws, 3, 'a save after the folder came back');
    await saveAndSee(owner, ws, 4, 'a second save after the folder came back');

    // Away and back with nothing changed, then saved.
    const errors = seen.buildErrors.length;
    renameSync(src, away);
    await until('a second build error', () => seen.buildErrors.length > errors);
    renameSync(away, src);
    await saveAndSee(owner, ws, 5, 'a save after the same folder came back');
  });
});
