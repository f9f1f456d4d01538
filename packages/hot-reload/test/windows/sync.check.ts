/**
 * Waiting and waking across Windows processes: the semaphore per word (sync/windows.ts), reached
 * through the public waitSync / waitAsync / wake on words of a real region.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Region } from '@hotshm/hot-reload';
import { createRegion, newRegionName } from '@hotshm/hot-reload/memory';
import { sharedWord, syncBackendName, waitAsync, waitSync, wake } from '@hotshm/hot-reload/sync';
import { type Peer, startPeer, waitFor } from './helpers.js';

const peers: Peer[] = [];
const regions: Region[] = [];
after(() => {
  for (const p of peers) p.kill();
  for (const r of regions) r.close();
});

/** Word indexes: each word is followed by its waiter count (sharedWord's default). */
const WORD = 0;
const WAITERS = 1;
const FLAG = 8;
const PING = 16;
const PONG = 18;

function setup(): { r: Region; words: Int32Array; word: ReturnType<typeof sharedWord> } {
  const r = createRegion(newRegionName(), 4096);
  regions.push(r);
  return { r, words: new Int32Array(r.buffer), word: sharedWord(r.buffer, r.address, WORD * 4) };
}

async function peerOn(r: Region): Promise<Peer> {
  const peer = startPeer('region.child', [r.name]);
  peers.push(peer);
  peer.send('open');
  const answer = await peer.line();
  assert.match(answer, /^size \d+ backend windows-semaphore$/, 'the peer waits with semaphores');
  return peer;
}

test('this process waits with the Windows semaphore module', () => {
  assert.equal(syncBackendName(), 'windows-semaphore');
});

test('a process parked in waitSync wakes when another process stores and wakes', async () => {
  const { r, words } = setup();
  const peer = await peerOn(r);
  peer.send(`wait ${WORD} 0 30000 0 ${FLAG}`);
  await waitFor('the peer to count itself as a waiter', () =>
    Atomics.load(words, WAITERS) === 1 ? true : undefined,
  );
  Atomics.store(words, WORD, 1);
  wake(sharedWord(r.buffer, r.address, WORD * 4));
  assert.equal(await peer.line(), 'ok');
  assert.equal(Atomics.load(words, WAITERS), 0, 'the waiter uncounted itself');
});

test('this process parked in waitSync wakes when another process stores and wakes', async () => {
  const { r, words, word } = setup();
  const peer = await peerOn(r);
  // The peer stores and wakes once it sees this process counted as parked.
  peer.send(`wakeWhenParked ${WORD} 7`);
  const result = waitSync(word, 0, 30_000, { spinMicros: 0 });
  assert.equal(result, 'ok');
  assert.equal(Atomics.load(words, WORD), 7);
  assert.equal(await peer.line(), 'ok');
});

test('one plain wake (semaphore tokens) reaches three processes parked on the same word', async () => {
  const { r, words, word } = setup();
  const parked = await Promise.all([peerOn(r), peerOn(r), peerOn(r)]);
  parked.forEach((p, i) => {
    p.send(`wait ${WORD} 0 30000 0 ${FLAG + i}`);
  });
  await waitFor('three waiters', () => (Atomics.load(words, WAITERS) === 3 ? true : undefined));
  Atomics.store(words, WORD, 1);
  wake(word);
  for (const p of parked) assert.equal(await p.line(), 'ok');
});

test("waitSync says 'timed-out' when nothing changes and 'not-equal' when it already had", async () => {
  const { r, words, word } = setup();
  assert.equal(waitSync(word, 0, 250, { spinMicros: 0 }), 'timed-out');
  Atomics.store(words, WORD, 5);
  assert.equal(waitSync(word, 0, 250), 'not-equal');
  const peer = await peerOn(r);
  assert.equal(
    await new Promise((res) => {
      peer.send(`wait ${WORD} 5 250 0 ${FLAG}`);
      void peer.line().then(res);
    }),
    'timed-out',
  );
});

test('waitAsync in this process resolves on another process’s wake, with the event loop free', async () => {
  const { r, words } = setup();
  const peer = await peerOn(r);
  const word = sharedWord(r.buffer, r.address, WORD * 4);
  const pending = waitAsync(word, 0, 30_000);
  // The event loop runs while we wait: timers fire.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  await waitFor('a few timer ticks while parked', () => (ticks >= 3 ? true : undefined));
  assert.equal(Atomics.load(words, WAITERS), 1, 'the parker counted itself on the word');
  peer.send(`storeAndWake ${WORD} 9`);
  assert.equal(await peer.line(), 'ok');
  assert.equal(await pending, 'ok');
  clearInterval(timer);
});

test('waitAsync in another process resolves on this process’s wake', async () => {
  const { r, words, word } = setup();
  const peer = await peerOn(r);
  peer.send(`waitAsync ${WORD} 0 30000`);
  await waitFor('the peer to park', () => (Atomics.load(words, WAITERS) === 1 ? true : undefined));
  Atomics.store(words, WORD, 3);
  wake(word);
  assert.equal(await peer.line(), 'ok');
});

test('2,000 round trips between two processes, every wait in the kernel, lose no wake-up', async () => {
  const { r, words } = setup();
  const peer = await peerOn(r);
  const rounds = 2000;
  const ping = sharedWord(r.buffer, r.address, PING * 4);
  const pong = sharedWord(r.buffer, r.address, PONG * 4);
  peer.send(`pong ${PING} ${PONG} ${rounds}`);
  for (let i = 1; i <= rounds; i++) {
    Atomics.store(words, PING, i);
    wake(ping);
    for (let seen = Atomics.load(words, PONG); seen !== i; seen = Atomics.load(words, PONG)) {
      if (waitSync(pong, seen, 30_000, { spinMicros: 0 }) === 'timed-out') {
        peer.kill();
        const { code, signal, stderr } = await peer.exited;
        assert.fail(
          `round ${i}: no answer (ping ${Atomics.load(words, PING)}, pong ${Atomics.load(words, PONG)}, waiters ${Atomics.load(words, PING + 1)}/${Atomics.load(words, PONG + 1)}; peer ${code ?? signal}: ${peer.output.join(' | ')} ${stderr})`,
        );
      }
    }
  }
  assert.equal(await peer.line(), 'ok');
});
