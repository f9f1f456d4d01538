/**
 * Every way an editor saves, against the real watcher, esbuild and renderer processes: in place
 * (truncate, then write, even with a pause between the two), atomically (a temporary file renamed
 * over the source), a save followed by a formatter's rewrite, a burst of 50 different saves, and an
 * edit of a module the entry imports. Each ends with the last content in shared memory, and none
 * starts a renderer from a partial file. Nothing here asserts on time.
 */
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CrashEvent } from '../src/index.js';
import { frontPixel, type Owner, openOwner } from './fixtures/owners.js';
import {
  createWorkspace,
  isAlive,
  processesOwnedBy,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const colour = (i: number): number => (0xff000000 + ((i * 2654435761) & 0xffffff)) >>> 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

async function started(first: number) {
  ws = createWorkspace(rendererSource(first));
  owner = await openOwner(ws);
  const o = owner;
  await until('the first frame', () => frontPixel(o) === first);
  const crashes: CrashEvent[] = [];
  o.host.on('crash', (e) => crashes.push(e));
  const buildErrors: string[] = [];
  o.host.on('build-error', (e) => buildErrors.push(e.messages.join('\n')));
  return { o, w: ws, crashes, buildErrors };
}

describe('every way an editor saves', () => {
  it('in place, truncated then written with a pause: never starts a renderer from the empty file', async () => {
    const { o, w, crashes } = await started(colour(0));
    const before = o.host.stats.reloads;
    for (let i = 1; i <= 5; i++) {
      // What `cat > file` and many editors do: O_TRUNC, then the bytes, here with a gap the
      // watcher and a build can fit into.
      const fd = openSync(w.rendererPath, 'r+');
      ftruncateSync(fd, 0);
      await sleep(i * 3);
      writeSync(fd, rendererSource(colour(i)));
      closeSync(fd);
      await until(`save ${i} on screen`, () => frontPixel(o) === colour(i));
    }
    expect(crashes).toEqual([]);
    // Each save started exactly one renderer: none was spent on the empty file. Once the host is
    // idle no hand-over is in flight, so the count is final.
    await o.host.idle();
    expect(o.host.stats.reloads - before).toBe(5);
  });

  it('an empty file, then the content: no crash, no renderer for the empty file, the content runs', async () => {
    const { o, w, crashes } = await started(colour(10));
    const before = o.host.stats.reloads;
    writeFileSync(w.rendererPath, '');
    await sleep(10);
    writeFileSync(w.rendererPath, rendererSource(colour(11)));
    await until('the content on screen', () => frontPixel(o) === colour(11));
    expect(crashes).toEqual([]);
    await o.host.idle();
    expect(o.host.stats.reloads - before).toBe(1);
  });

  it('an empty file left alone is reported as a build error, and the running renderer stays', async () => {
    const { o, w, crashes, buildErrors } = await started(colour(20));
    const pid = o.host.rendererPid;
    writeFileSync(w.rendererPath, '');
    await until('the build error', () => buildErrors.length > 0);
    expect(buildErrors[0]).toContain('exports no main()');
    expect(o.host.rendererPid).toBe(pid);
    expect(frontPixel(o)).toBe(colour(20));
    expect(crashes).toEqual([]);
  });

  it('atomically: a temporary file renamed over the source', async () => {
    const { o, w, crashes } = await started(colour(30));
    for (let i = 31; i <= 33; i++) {
      const tmp = join(w.dir, `.renderer.ts.${i}.tmp`);
      writeFileSync(tmp, rendererSource(colour(i)));
      renameSync(tmp, w.rendererPath);
      await until(`rename ${i} on screen`, () => frontPixel(o) === colour(i));
    }
    expect(crashes).toEqual([]);
  });

  it("a save followed 20 ms later by a formatter's rewrite ends with the rewrite", async () => {
    const { o, w, crashes } = await started(colour(40));
    writeFileSync(w.rendererPath, rendererSource(colour(41)));
    await sleep(20);
    writeFileSync(w.rendererPath, `${rendererSource(colour(42))}\n// formatted\n`);
    await until('the rewrite on screen', () => frontPixel(o) === colour(42));
    // And it stays: no late renderer of the first save replaces it.
    await sleep(300);
    expect(frontPixel(o)).toBe(colour(42));
    expect(crashes).toEqual([]);
  });

  it('a burst of 50 different saves 20 ms apart ends with the last content and one renderer', async () => {
    const { o, w, crashes } = await started(colour(100));
    const renderers = new Set<number>([o.host.rendererPid!]);
    o.host.on('reload', (e) => renderers.add(e.pid));
    for (let i = 1; i <= 50; i++) {
      const source = rendererSource(colour(100 + i));
      if (i % 2 === 0) {
        writeFileSync(w.rendererPath, source);
      } else {
        const tmp = join(w.dir, `.renderer.ts.${i}.tmp`);
        writeFileSync(tmp, source);
        renameSync(tmp, w.rendererPath);
      }
      await sleep(20);
    }
    await until('the last save on screen', () => frontPixel(o) === colour(150));
    await o.host.idle();
    await sleep(300);
    // Still the last content, and only the live renderer of all those started is running.
    expect(frontPixel(o)).toBe(colour(150));
    const live = o.host.rendererPid!;
    await until('replaced renderers to exit', () =>
      [...renderers].every((pid) => pid === live || !isAlive(pid)),
    );
    expect(processesOwnedBy(process.pid)).toContain(live);
    expect(crashes).toEqual([]);
  });

  it('an edit of a module the entry imports reloads', async () => {
    const { o, w, crashes } = await started(colour(200));
    const helper = join(w.dir, 'colour.ts');
    writeFileSync(helper, `export const COLOUR = 0x${colour(201).toString(16)};\n`);
    writeFileSync(
      w.rendererPath,
      rendererSource(0)
        .replace(
          "import { State } from './state.ts';",
          "import { State } from './state.ts';\nimport { COLOUR } from './colour.ts';",
        )
        .replace('px.fill(0x0)', 'px.fill(COLOUR)'),
    );
    await until('the helper colour on screen', () => frontPixel(o) === colour(201));
    writeFileSync(helper, `export const COLOUR = 0x${colour(202).toString(16)};\n`);
    await until('the edited helper colour on screen', () => frontPixel(o) === colour(202));
    expect(crashes).toEqual([]);
  });

  it('an import of an installed package added by an edit is imported from node_modules, not bundled', async () => {
    const { o, w, crashes } = await started(colour(300));
    // An installed package (a real folder in node_modules) that says where it was loaded from.
    const pkg = join(w.dir, 'node_modules', 'where-am-i');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(
      join(pkg, 'package.json'),
      '{ "name": "where-am-i", "type": "module", "main": "index.js" }',
    );
    writeFileSync(join(pkg, 'index.js'), 'export const where = import.meta.url;\n');
    const source = (c: number): string =>
      rendererSource(0)
        .replace(
          "import { State } from './state.ts';",
          "import { State } from './state.ts';\nimport { where } from 'where-am-i';",
        )
        .replace(
          'px.fill(0x0)',
          `px.fill(where.includes('/node_modules/where-am-i/') ? 0x${c.toString(16)} : 0xff0000ff)`,
        );
    writeFileSync(w.rendererPath, source(colour(301)));
    await until('the frame of a renderer that imported it', () => frontPixel(o) === colour(301));
    // The next save is built by the context that knows the package now: still imported.
    writeFileSync(w.rendererPath, source(colour(302)));
    await until('the next frame', () => frontPixel(o) === colour(302));
    expect(crashes).toEqual([]);
  });
});
