/**
 * The example on Windows, as `pnpm dev` runs it (`node scripts/run.mjs`), with the headless back
 * end: the owner under Windows Node bundles itself with esbuild, supervises example-impl (a copy
 * the check edits, through HOTSHM_EXAMPLE_ENTRY), and reloads it on a save. What the owner
 * shows is read from its region by this process, which maps it as a reader (the example's own
 * state definition, as the renderer would).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { State } from 'hot-reloaded-state';
import {
  descendants,
  isAlive,
  type Peer,
  projectDir,
  startPeer,
  waitFor,
} from '../../../hot-reload/test/windows/helpers.js';

const ORANGE_LINE = 'export const ORANGE: number = rgb(1.0, 0.7, 0.0);';
/** rgb(1.0, 0.7, 0.0) and rgb(0.0, 0.7, 1.0), as example-impl computes them. */
const ORANGE = 0xffffb200;
const SKY = 0xff00b2ff;
const RELOAD_LINE = /^hotshm: reload (\d+) in /;

let owner: Peer;
let entry = '';
let state: ReturnType<typeof State.reloadable> | undefined;

before(() => {
  const dir = mkdtempSync(join(projectDir, 'work-example-'));
  mkdirSync(join(dir, 'src'));
  entry = join(dir, 'src', 'index.ts');
  copyFileSync(join(projectDir, 'packages', 'example-impl', 'src', 'index.ts'), entry);
  owner = startPeer(join(projectDir, 'packages', 'example-app', 'scripts', 'run.mjs'), [], {
    cwd: join(projectDir, 'packages', 'example-app'),
    env: { HOTSHM_BACKEND: 'headless', HOTSHM_EXAMPLE_ENTRY: entry },
  });
});

after(() => {
  owner?.kill();
  state?.region.close();
});

/** The first pixel of the frame the owner shows, or undefined before there is one. */
function shown(): number | undefined {
  const fb = state?.framebuffer;
  const front = fb?.acquireFront();
  if (!fb || !front) return undefined;
  const pixel = front.pixels[0]!;
  fb.releaseFront();
  return pixel;
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
  process.env.HOTSHM_REGION = m[1];
  process.env.HOTSHM_OWNER_PID = String(owner.pid);
  process.env.HOTSHM_ARGS = JSON.stringify({ width: 300, height: 300 });
  process.env.HOTSHM_EPOCH = '1';
  state = State.reloadable();
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
  const m = await waitFor('the reload line', () => ownerSaid(RELOAD_LINE), 60_000);
  assert.equal(m[1], '2');
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
  state?.region.close();
  state = undefined;
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
