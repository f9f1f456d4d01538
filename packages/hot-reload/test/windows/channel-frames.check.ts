/**
 * Channels and the framebuffer between two Windows processes: the owner (app/owner.mjs) creates
 * the region, its renderer process opens it; messages go both ways through the rings (async recv
 * on both sides, parked on the region's doorbell semaphore; recvSync in the renderer), and frames
 * are handed from the renderer to the owner.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type AppOwner, copyApp, startAppOwner, waitFor } from './helpers.js';

let app: AppOwner;

before(async () => {
  app = startAppOwner(copyApp());
  await app.next('the owner to start', (e) => e.event === 'started');
  await waitFor('the first frame', async () =>
    (await app.command('front', 'front')).front !== null ? true : undefined,
  );
});

after(() => {
  app?.stop('channel-frames-owner');
});

test('500 round trips between the owner and its renderer process arrive, each once and in order', async (t) => {
  const result = await app.command('pingpong 500', 'rounds', 120_000);
  assert.equal(result.rounds, 500);
  assert.equal(result.wrong, 0);
  t.diagnostic(`round trip ms: ${JSON.stringify(result.ms)}, whole command ${result.commandMs} ms`);
});

test('5,000 messages through a 16-slot ring that fills up arrive in order', async () => {
  const result = await app.command('stream 5000', 'streamed', 120_000);
  assert.equal(result.inOrder, 5000);
  assert.equal(result.outOfOrder, 0);
  // The renderer waits for a full ring before it takes anything: the owner met it full.
  assert.ok((result.full as number) > 0, `the ring never filled up: ${JSON.stringify(result)}`);
});

test('frames drawn in the renderer process reach the owner whole, in order, ending with the last', async () => {
  const result = await app.command('frames', 'samples', 120_000);
  assert.ok((result.samples as number) > 0, 'the owner saw frames');
  assert.equal(result.torn, 0, 'no frame the owner saw was half drawn');
  assert.equal(result.backwards, 0, 'frame numbers never went back');
  assert.equal(result.lastFront, 0xff000000 + 200, 'the last frame drawn is the one shown');
});
