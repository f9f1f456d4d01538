/**
 * Regions on Windows, for real: CreateFileMappingW / OpenFileMappingW / MapViewOfFile between two
 * Windows processes. Each error path is reached through the OS (a real GetLastError), and the
 * size on open comes from a real VirtualQuery, so a wrong constant or a wrong offset in
 * MEMORY_BASIC_INFORMATION fails here rather than being restated.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Region } from '@hotshm/hot-reload';
import { RegionExistsError, RegionNotFoundError } from '@hotshm/hot-reload/errors';
import { createRegion, newRegionName, openRegion, unlinkRegion } from '@hotshm/hot-reload/memory';
import { type Peer, startPeer } from './helpers.js';

const PAGE = 4096;
const peers: Peer[] = [];
const regions: Region[] = [];
after(() => {
  for (const p of peers) p.kill();
  for (const r of regions) r.close();
});

function region(size: number): Region {
  const r = createRegion(newRegionName(), size);
  regions.push(r);
  return r;
}

async function peerOn(r: Region): Promise<{ peer: Peer; size: number }> {
  const peer = startPeer('region.child', [r.name]);
  peers.push(peer);
  peer.send('open');
  const answer = await peer.line();
  const m = /^size (\d+) /.exec(answer);
  assert.ok(m, `the peer could not open ${r.name}: ${answer}`);
  return { peer, size: Number(m[1]) };
}

async function ask(peer: Peer, command: string): Promise<string> {
  peer.send(command);
  return peer.line();
}

test('a region created here is opened by another process, and each sees the other write', async () => {
  const r = region(PAGE);
  const words = new Int32Array(r.buffer);
  Atomics.store(words, 0, 0x1234_5678);
  const { peer } = await peerOn(r);
  assert.equal(await ask(peer, 'load 0'), String(0x1234_5678));
  assert.equal(await ask(peer, 'store 1 -99'), 'ok');
  assert.equal(Atomics.load(words, 1), -99);
  // The last word of the region too: the whole mapping is shared, not only its first page.
  const last = r.size / 4 - 1;
  Atomics.store(words, last, 77);
  assert.equal(await ask(peer, `load ${last}`), '77');
});

test('atomic adds from two processes at once all land (2 × 200,000)', async () => {
  const r = region(PAGE);
  const words = new Int32Array(r.buffer);
  const { peer } = await peerOn(r);
  const [STARTED, GO, COUNTER] = [0, 1, 16];
  const count = 200_000;
  peer.send(`add ${STARTED} ${GO} ${COUNTER} ${count}`);
  while (Atomics.load(words, STARTED) !== 1) await new Promise((res) => setTimeout(res, 1));
  Atomics.store(words, GO, 1);
  for (let i = 0; i < count; i++) Atomics.add(words, COUNTER, 1);
  assert.equal(await peer.line(), 'ok');
  assert.equal(Atomics.load(words, COUNTER), 2 * count);
});

test('opening a name nobody created is RegionNotFoundError (ERROR_FILE_NOT_FOUND from the OS)', () => {
  const name = newRegionName();
  assert.throws(() => openRegion(name), RegionNotFoundError);
});

test('creating a name that exists is RegionExistsError, and the existing region is untouched', async () => {
  const r = region(PAGE);
  new Int32Array(r.buffer)[3] = 31337;
  assert.throws(() => createRegion(r.name, PAGE), RegionExistsError);
  // Another process still finds the first region, with its data.
  const { peer } = await peerOn(r);
  assert.equal(await ask(peer, 'load 3'), '31337');
});

test('a region opened by name has the size Windows gives its view: the created size in whole pages', async () => {
  for (const size of [1, PAGE, PAGE + 1, 10 * PAGE + 123]) {
    const r = region(size);
    assert.equal(r.size, size, 'the creator maps exactly what it asked for');
    const { size: opened } = await peerOn(r);
    assert.equal(opened, Math.ceil(size / PAGE) * PAGE, `opened size of a ${size}-byte region`);
  }
});

test('a region of 64 MiB is shared end to end', async () => {
  const size = 64 << 20;
  const r = region(size);
  const words = new Int32Array(r.buffer);
  const last = size / 4 - 1;
  const { peer, size: opened } = await peerOn(r);
  assert.equal(opened, size);
  assert.equal(await ask(peer, `store ${last} 4242`), 'ok');
  assert.equal(Atomics.load(words, last), 4242);
});

test('the largest region, 4 GiB (its size needs the high DWORD of CreateFileMappingW), is shared end to end', async () => {
  const size = 2 ** 32;
  const r = region(size);
  const { peer, size: opened } = await peerOn(r);
  assert.equal(opened, size);
  const last = size / 4 - 1;
  assert.equal(await ask(peer, `store ${last} 99`), 'ok');
  assert.equal(new Int32Array(r.buffer, size - 4, 1)[0], 99);
});

test('after close, the old view reads zeros and never faults, while the other process keeps the data', async () => {
  const r = region(PAGE);
  const { peer } = await peerOn(r);
  assert.equal(await ask(peer, 'store 5 555'), 'ok');
  const mine = new Int32Array(r.buffer);
  assert.equal(mine[5], 555);
  r.close();
  assert.equal(r.closed, true);
  assert.equal(mine[5], 0, 'a stale view reads the zero page put where the mapping was');
  mine[5] = 1; // writing is harmless too: it lands in private memory
  assert.equal(await ask(peer, 'load 5'), '555');
  // The same in the other process: it closes, then reads its stale view.
  assert.equal(await ask(peer, 'close'), 'closed');
  assert.equal(await ask(peer, 'loadAfterClose 5'), '0');
});

test('Windows frees a region with its last handle: once both processes closed it, the name is gone', async () => {
  const r = region(PAGE);
  const { peer } = await peerOn(r);
  r.close();
  // The peer still has it mapped: the name still opens.
  const again = openRegion(r.name);
  again.close();
  assert.equal(await ask(peer, 'close'), 'closed');
  assert.throws(() => openRegion(r.name), RegionNotFoundError);
  // Nothing to unlink on Windows: the OS already removed it.
  assert.equal(unlinkRegion(r.name), false);
});
