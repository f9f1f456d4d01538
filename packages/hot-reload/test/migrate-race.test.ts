/**
 * A migration carries a channel's pending messages while a consumer in another process (a
 * renderer still stopping) keeps taking from the old ring: every message ends up in exactly one
 * place (taken by the consumer, or carried into the new region), in order, none lost, none twice.
 * The carry claims the pending messages with the consumers' own commit (one CAS), so this holds
 * however the two interleave.
 */
import { describe, expect, it } from 'vitest';
import { type Channel, channel } from '../src/channel/index.js';
import { type Cell, struct, u32 } from '../src/schema/index.js';
import { defineStateCore } from '../src/state/define.js';
import { describeLayout } from '../src/state/descriptor.js';
import { layoutState } from '../src/state/layout.js';
import { spawnChild } from './channel-spawn.js';

const MESSAGES = 1000;

describe('a migration racing a consumer on the old region', () => {
  it.each([50, 300, 700])(
    'after the consumer took about %i: each message is taken once or carried once, in order',
    async (after) => {
      const core = defineStateCore({
        name: `migrate-race-${process.pid}-${after}`,
        reloadable: '/renderer.ts',
        args: struct({ n: u32 }),
        fields: () => ({ input: channel(u32, { capacity: 1024 }), progress: u32 }),
      });
      const owned = core.create({ n: 1 });
      try {
        const fields = owned.fields as unknown as {
          input: Channel<number>;
          progress: Cell<number>;
        };
        for (let i = 0; i < MESSAGES; i++) expect(fields.input.trySend(i)).toBe(true);
        const child = spawnChild('./migrate-child.ts', [owned.region.name]);
        // Wait (without blocking the event loop) until the consumer is well into the ring.
        while (fields.progress.get() < after) await new Promise((r) => setTimeout(r, 0));
        const next = describeLayout(
          layoutState(
            core.name,
            { input: channel(u32, { capacity: 2048 }), progress: u32 },
            owned.layout.start,
          ),
        );
        const p = owned.prepareMigration(next);
        const report = owned.commitMigration(p, { epoch: 2 });
        const { taken } = (await child.result) as { taken: number[] };
        owned.releaseRegion(p);
        const carried = fields.input.drain();
        expect(report.channels[0]?.carried).toBe(carried.length);
        expect(report.droppedMessages).toBe(0);
        // The consumer took a prefix, the migration carried the rest: together, every message once.
        expect([...taken, ...carried]).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
        expect(taken.length).toBeGreaterThanOrEqual(after);
      } finally {
        owned.close();
      }
    },
  );
});
