/**
 * The example on Windows, as `pnpm dev` runs it (`hotshm dev src/main.ts`), with the headless back
 * end: the launcher under Windows Node bundles the owner with esbuild and runs it; the owner
 * supervises example-impl (a copy the check edits, through HOTSHM_EXAMPLE_ENTRY), and reloads it
 * on a save. What the owner
 * shows is read from its region by this process, a passive reader (test/e2e/observe.ts: it maps
 * the region and reads the front buffer where the example's layout puts it).
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  descendants,
  isAlive,
  type Peer,
  projectDir,
  startPeer,
  waitFor,
} from '../../../hot-reload/test/windows/helpers.js';
import { type FrameObserver, observeFrames } from '../e2e/observe.js';

const ORANGE_LINE = 'export const ORANGE: number = rgb(1.0, 0.7, 0.0);';
/** rgb(1.0, 0.7, 0.0) and rgb(0.0, 0.7, 1.0), as example-impl computes them. */
const ORANGE = 0xffffb200;
const SKY = 0xff00b2ff;
/** The one line the owner prints per reload. */
const RELOAD_LINE = /^\[hotshm\] reloaded in /;

let owner: Peer;
let entry = '';
let observer: FrameObserver | undefined;

before(() => {
  const dir = mkdtempSync(join(projectDir, 'work-example-'));
  mkdirSync(join(dir, 'src'));
  entry = join(dir, 'src', 'index.ts');
  // The whole src folder: index.ts imports its helpers (draw.ts).
  const src = join(projectDir, 'packages', 'example-impl', 'src');
  for (const name of readdirSync(src)) copyFileSync(join(src, name), join(dir, 'src', name));
  owner = startPeer(
    join(projectDir, 'node_modules', '@hotshm', 'hot-reload', 'bin', 'hotshm.mjs'),
    ['dev', 'src/main.ts'],
    {
      cwd: join(projectDir, 'packages', 'example-app'),
      env: { HOTSHM_BACKEND: 'headless', HOTSHM_EXAMPLE_ENTRY: entry },
    },
  );
});

after(() => {
  owner?.kill();
  observer?.close();
});

/** The first pixel of the frame the owner shows, or undefined before there is one. */
function shown(): number | undefined {
  return observer?.frontPixel();
}

function ownerSaid(pattern: RegExp): RegExpExecArray | undefined {
  for (const line of owner.output) {
    const m = pattern.exec(line);
    if (m) return m;
  }
  if (owner.gone)
    throw new Error(`the example exited: ${owner.output.join('\n')}\n${owner.stderr}`);
  return undefined;
}

test('the example starts hot with the headless back end and shows orange', async () => {
  const m = await waitFor(
    'the example to say where it runs',
    () => ownerSaid(/^hotshm: region (\/hotshm-[\w-]+), backend (\w+), hot reload on$/),
    120_000,
  );
  assert.equal(m[2], 'headless');
  observer = observeFrames(m[1]!);
  await waitFor('an orange frame', () => (shown() === ORANGE ? true : undefined), 60_000);
});

test('saving an edit of the renderer reloads it, and the owner shows the new colour', async () => {
  const source = readFileSync(entry, 'utf8');
  assert.ok(
    source.includes(ORANGE_LINE),
    'example-impl still declares ORANGE as the check expects',
  );
  writeFileSync(
    entry,
    source.replace(ORANGE_LINE, 'export const ORANGE: number = rgb(0.0, 0.7, 1.0);'),
  );
  await waitFor('the reload line', () => ownerSaid(RELOAD_LINE), 60_000);
  await waitFor('a sky-blue frame', () => (shown() === SKY ? true : undefined), 30_000);
});

test('killing the example leaves no process of its tree behind', async () => {
  // Killed once its tree has settled (renderer, standby, esbuild's service): a parent killed in
  // the middle of CreateProcess leaves under Wine 8 a child that never starts and never ends (a
  // Wine defect: the same child on Windows runs, and its runner's owner check ends it).
  let last = '';
  let since = Date.now();
  const tree = await waitFor('the owner’s processes to settle', () => {
    const now = descendants(owner.pid);
    const key = now.join(',');
    if (key !== last) {
      last = key;
      since = Date.now();
      return undefined;
    }
    return now.length >= 2 && Date.now() - since >= 1000 ? now : undefined;
  });
  assert.ok(tree.length >= 2, `a renderer and a standby run under the owner: ${tree}`);
  observer?.close();
  observer = undefined;
  owner.kill();
  // 'exit', not 'close': a process holding the owner's stdout must not hold this up.
  await waitFor('the owner to end', () => (owner.gone ? true : undefined));
  const left = await waitFor(
    'every process of the tree to end',
    () => {
      const alive = tree.filter(isAlive);
      return alive.length === 0 ? alive : undefined;
    },
    15_000,
  ).catch(() => tree.filter(isAlive));
  assert.deepEqual(left, []);
});
