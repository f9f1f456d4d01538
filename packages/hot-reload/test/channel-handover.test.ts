/**
 * A reload overlaps two renderers for a moment: the new one has its state (it began its epoch)
 * while the owner has not yet retired the old one. Messages must still be received in order by
 * the current renderer: from the instant the new renderer begins its epoch, the old one commits
 * no take. If the new start then fails and the owner gives the floor back (the old epoch again),
 * the old renderer takes messages again. Found by `pnpm stress` (editing faults): about one
 * graceful reload in twelve had the old renderer acknowledge a message after the new one had
 * taken an earlier one.
 *
 * Both renderers' bindings are over one real shared region, as in two processes.
 */
import { describe, expect, it } from 'vitest';
import { channel, u32 } from '../src/index.js';
import { HEADER_SIZE, HeaderSlot } from '../src/memory/header.js';
import { createFields, openFields } from './channel-context.js';

/** What `reloadable()` (or the owner giving the floor back) does to the header's epoch word. */
const beginEpoch = (buffer: ArrayBuffer, epoch: number): void => {
  Atomics.store(new Int32Array(buffer, 0, HEADER_SIZE / 4), HeaderSlot.epoch, epoch);
};

describe('channels across a hand-over', () => {
  for (const latest of [false, true]) {
    it(`${latest ? 'latest-value' : 'ring'} channel: a renderer superseded by a newer epoch takes nothing; given the floor back, it takes again`, () => {
      const schema = latest
        ? channel(u32, { capacity: 1, latest: true })
        : channel(u32, { capacity: 8 });
      const owner = createFields([schema] as const);
      const name = owner.ctx.regionName;
      const old = openFields([schema] as const, name, 'reloadable', 1);
      const next = openFields([schema] as const, name, 'reloadable', 2);
      try {
        const [queue] = owner.fields;
        const [oldQueue] = old.fields;
        const [nextQueue] = next.fields;
        beginEpoch(owner.ctx.buffer, 1);
        queue.send(1);
        expect(oldQueue.tryRecv()).toBe(1);

        queue.send(2);
        if (!latest) queue.send(3);
        beginEpoch(owner.ctx.buffer, 2);
        expect(oldQueue.tryRecv()).toBeUndefined();
        expect(oldQueue.drain()).toEqual([]);
        expect(nextQueue.drain()).toEqual(latest ? [2] : [2, 3]);

        // The new start failed: the owner gives the floor back to epoch 1.
        queue.send(4);
        beginEpoch(owner.ctx.buffer, 1);
        expect(oldQueue.tryRecv()).toBe(4);
      } finally {
        for (const side of [old, next, owner]) side.ctx.region.close();
        owner.ctx.region.unlink();
      }
    });
  }
});
