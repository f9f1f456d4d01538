/**
 * Hot mode on Windows: an owner process (app/owner.mjs, a user's app in plain JavaScript using the
 * installed package) supervises its renderer while the checks edit the renderer's source, make it
 * crash, and kill the owner. The checks run in order on one owner, each from where the previous
 * one left it; the last one kills it.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type AppOwner,
  copyApp,
  descendants,
  isAlive,
  type OwnerEvent,
  type Peer,
  startAppOwner,
  waitFor,
} from './helpers.js';

const ORIGINAL = 0xff2040a0;
const EDITED = 0xff10c060;

let dir = '';
let app: AppOwner;
let owner: Peer;
const next = (what: string, match: (e: OwnerEvent) => boolean): Promise<OwnerEvent> =>
  app.next(what, match);
const command = (line: string, key: string): Promise<OwnerEvent> => app.command(line, key);

async function frontPixel(): Promise<{ front: number | null; uniform: boolean }> {
  const e = await command('front', 'front');
  return { front: e.front as number | null, uniform: e.uniform as boolean };
}

const rendererFile = (): string => join(dir, 'renderer.mjs');
const hex = (n: number): string => `0x${n.toString(16)}`;

before(async () => {
  dir = copyApp();
  app = startAppOwner(dir);
  owner = app.peer;
});

after(() => {
  app?.stop('supervisor-owner');
});

test('the owner builds its renderer and the first frame reaches it through shared memory', async () => {
  // owner() resolves once the first renderer is ready; its 'reload' event (sent at its first
  // frame) may come before the owner listens, so look at the frame itself.
  await next('the owner to start', (e) => e.event === 'started');
  const { renderer } = await command('pids', 'renderer');
  assert.ok(typeof renderer === 'number' && isAlive(renderer), 'a renderer process runs');
  await waitFor('the first frame', async () => {
    const { front, uniform } = await frontPixel();
    return front === ORIGINAL && uniform ? true : undefined;
  });
});

test('editing the renderer reloads it: a new process draws the new colour, state kept', async () => {
  const before = (await command('pids', 'renderer')).renderer as number;
  const source = readFileSync(rendererFile(), 'utf8');
  writeFileSync(rendererFile(), source.replace(hex(ORIGINAL), hex(EDITED)));
  const reload = await next('a reload after the edit', (e) => e.event === 'reload');
  assert.equal(reload.reason, 'change');
  assert.notEqual(reload.pid, before, 'a new renderer process took over');
  await waitFor('the edited colour', async () => {
    const { front, uniform } = await frontPixel();
    return front === EDITED && uniform ? true : undefined;
  });
  owner.send('send 3');
  const replies = await waitFor('a reply', async () => {
    const r = (await command('replies', 'replies')).replies as number[];
    return r.length > 0 ? r : undefined;
  });
  assert.deepEqual(replies, [2], 'the second renderer counted on from the first one’s state');
  assert.equal(isAlive(before), false, 'the replaced renderer is gone');
});

test('a syntax error is reported with its place, and the running renderer keeps going', async () => {
  const running = (await command('pids', 'renderer')).renderer as number;
  const good = readFileSync(rendererFile(), 'utf8');
  writeFileSync(
    rendererFile(),
    good.replace('export async function main() {', 'export async function main( {'),
  );
  const failure = await next('a build error', (e) => e.event === 'build-error');
  const locations = failure.locations as string[];
  assert.match(locations[0] ?? '', /renderer\.mjs:\d+:\d+$/);
  assert.equal((await command('pids', 'renderer')).renderer, running);
  assert.equal(isAlive(running), true);
  assert.equal((await frontPixel()).front, EDITED, 'the last frame stays');
  writeFileSync(rendererFile(), good);
  // The fixed source builds to what already runs: nothing to reload, nothing crashed.
  owner.send('send 3');
  const replies = await waitFor('a reply from the same renderer', async () => {
    const r = (await command('replies', 'replies')).replies as number[];
    return r.length > 0 ? r : undefined;
  });
  assert.deepEqual(replies, [2]);
});

test('a renderer that exits is reported as a crash with its code and restarted', async () => {
  const crashed = (await command('pids', 'renderer')).renderer as number;
  owner.send('send 1');
  const crash = await next('the crash', (e) => e.event === 'crash');
  assert.equal(crash.pid, crashed);
  assert.equal(crash.code, 3);
  assert.equal(crash.willRestart, true);
  const restart = await next('the restart', (e) => e.event === 'reload');
  // 'change' when a late file event of the previous check's save builds
  // the same code first: the new renderer then starts from that build instead of the timer.
  assert.ok(['restart', 'change'].includes(restart.reason as string), String(restart.reason));
  assert.notEqual(restart.pid, crashed);
  owner.send('send 3');
  const replies = await waitFor('a reply from the restarted renderer', async () => {
    const r = (await command('replies', 'replies')).replies as number[];
    return r.length > 0 ? r : undefined;
  });
  assert.deepEqual(replies, [3], 'the restarted renderer is the third start');
});

test('killing the owner leaves no process of its tree, even a renderer stuck in a loop', async () => {
  // Windows kills a Node process's children with it: libuv puts each child it spawns, unless
  // `detached`, in a job object that ends its processes when its last handle closes, the
  // parent's. A detached process is the control: it must survive, or this check proves nothing.
  const { detached } = (await command('detached', 'detached')) as { detached: number };
  owner.send('send 2'); // the renderer spins forever: its own owner check never runs again
  const { renderer, standby } = await waitFor('a renderer and a standby', async () => {
    const e = await command('pids', 'renderer');
    return e.renderer && e.standby ? (e as { renderer: number; standby: number }) : undefined;
  });
  // Under Wine 8 a process killed while it is creating a child leaves that child stuck before it
  // runs (on Windows the child runs, and its owner check ends it: the README's limits). The owner
  // boots standbys in the background, so it is killed once its tree has not changed for 2 s: no
  // creation is then in progress. (A fresh-clone CI run killed it mid-boot: one process was left.)
  let last = '';
  let since = Date.now();
  await waitFor(
    'the owner to have started every process it means to',
    () => {
      const now = descendants(owner.pid)
        .sort((a, b) => a - b)
        .join(',');
      if (now !== last) {
        last = now;
        since = Date.now();
      }
      return Date.now() - since >= 2_000 ? true : undefined;
    },
    30_000,
    250,
  );
  const tree = descendants(owner.pid).filter((pid) => pid !== detached);
  assert.ok(tree.includes(renderer), `the renderer ${renderer} is in the owner's tree ${tree}`);
  assert.ok(tree.includes(standby), `the standby ${standby} is in the owner's tree ${tree}`);
  owner.kill(); // TerminateProcess: no handler of the owner runs
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
  assert.deepEqual(left, [], `still running after the owner was killed: ${left}`);
  assert.equal(isAlive(detached), true, 'the detached process outlived the owner');
  process.kill(detached);
  await waitFor('the detached process to end', () => (isAlive(detached) ? undefined : true));
  assert.deepEqual(descendants(owner.pid), []);
});
