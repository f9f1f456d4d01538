/**
 * Property tests: a channel's indices and slots live in shared memory that another process
 * writes. With random bytes there, `verify` (run before any accessor exists) rejects indices
 * that claim more queued messages than the ring holds, and a receiver either gets valid messages
 * or a HotshmError; it never reads outside its ring and never takes more than `capacity`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CorruptRegionError, HotshmError } from '../errors.js';
import { HEADER_SIZE } from '../memory/header.js';
import { fixedString, fixedVec, struct, u8, u32 } from '../schema/index.js';
import { TestContext } from '../schema/test-context.js';
import { channel } from './channel.js';

const Message = struct({ id: u32, name: fixedString(6), list: fixedVec(u8, 3) });

describe('channels fed random bytes', () => {
  for (const capacity of [1, 4, 16]) {
    it(`ring of ${capacity}: verify rejects impossible indices; receivers get valid messages or a HotshmError`, () => {
      const schema = channel(Message, { capacity });
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: schema.size, maxLength: schema.size }),
          fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          fc.integer({ min: 0, max: 2 ** 32 - 1 }),
          fc.boolean(),
          (bytes, write, read, nearby) => {
            const ctx = new TestContext(HEADER_SIZE + schema.size);
            new Uint8Array(ctx.buffer).set(bytes, HEADER_SIZE);
            // Half the runs use indices close together (a plausible ring), half anything at all.
            const r = read >>> 0;
            const w = nearby ? (r + (write % (capacity + 2))) >>> 0 : write >>> 0;
            ctx.view.setUint32(HEADER_SIZE, w, true);
            ctx.view.setUint32(HEADER_SIZE + 64, r, true);
            const used = (w - r) >>> 0;
            if (used > capacity) {
              expect(() => schema.verify!(ctx.view, HEADER_SIZE, 'fuzz')).toThrow(
                CorruptRegionError,
              );
              return;
            }
            schema.verify!(ctx.view, HEADER_SIZE, 'fuzz');
            const ch = schema.bind(ctx, HEADER_SIZE, 'fuzz');
            expect(ch.length).toBe(used);
            let got: unknown[] = [];
            try {
              got = ch.drain();
            } catch (error) {
              expect(error).toBeInstanceOf(HotshmError);
            }
            expect(got.length).toBeLessThanOrEqual(used);
            for (const m of got) expect(() => Message.check(m, 'm')).not.toThrow(RangeError);
          },
        ),
        { numRuns: 500 },
      );
    });
  }

  it('handled ring: random claim words and slots give valid messages or a HotshmError; releases and repairs stay in range', () => {
    const capacity = 4;
    const schema = channel(Message, { capacity, delivery: 'handled' });
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: schema.size, maxLength: schema.size }),
        fc.integer({ min: 0, max: capacity }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.constantFrom<'owner' | 'reloadable'>('owner', 'reloadable'),
        (bytes, queued, epoch, crashed, role) => {
          const ctx = new TestContext(HEADER_SIZE + schema.size, { role });
          new Uint8Array(ctx.buffer).set(bytes, HEADER_SIZE);
          // Plausible indices (so that the claim words, not the indices, are what is random).
          const read = ctx.view.getUint32(HEADER_SIZE + 64, true);
          ctx.view.setUint32(HEADER_SIZE, (read + queued) >>> 0, true);
          schema.verify!(ctx.view, HEADER_SIZE, 'fuzz');
          const ch = schema.bind(ctx, HEADER_SIZE, 'fuzz');
          const got: unknown[] = [];
          try {
            for (let i = 0; i <= capacity; i++) {
              got.push(...ch.drain());
              ch.ack();
            }
          } catch (error) {
            expect(error).toBeInstanceOf(HotshmError);
          }
          expect(got.length).toBeLessThanOrEqual(queued);
          for (const m of got) expect(() => Message.check(m, 'm')).not.toThrow(RangeError);
          if (role === 'owner') {
            const released = ch.releaseClaims(epoch, { crashed });
            expect(released.released).toBeLessThanOrEqual(capacity);
            if (released.poison) expect(released.poison.total).toBeGreaterThan(0);
            expect(() => schema.repair!(ctx.view, HEADER_SIZE, 'fuzz', true)).not.toThrow();
            // Whatever was there, the ring is usable again: verify passes and a send fits or
            // finds it full.
            schema.verify!(ctx.view, HEADER_SIZE, 'fuzz');
            expect(typeof ch.trySend({ id: 1, name: 'a', list: [1] })).toBe('boolean');
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('latest channel: random sequence and slot bytes give a value or a HotshmError', () => {
    const schema = channel(Message, { capacity: 1, latest: true });
    fc.assert(
      fc.property(fc.uint8Array({ minLength: schema.size, maxLength: schema.size }), (bytes) => {
        const ctx = new TestContext(HEADER_SIZE + schema.size);
        new Uint8Array(ctx.buffer).set(bytes, HEADER_SIZE);
        schema.verify?.(ctx.view, HEADER_SIZE, 'fuzz');
        const ch = schema.bind(ctx, HEADER_SIZE, 'fuzz');
        try {
          const got = ch.drain();
          expect(got.length).toBeLessThanOrEqual(1);
        } catch (error) {
          expect(error).toBeInstanceOf(HotshmError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
