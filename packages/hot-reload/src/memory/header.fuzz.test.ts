/**
 * Property tests: a region's header is the first thing read from another process, so random
 * bytes there, or a header that lies about sizes and offsets, must be rejected with a HotshmError
 * of the right class before any view over the data is made.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CorruptRegionError,
  HotshmError,
  LayoutMismatchError,
  SizeMismatchError,
} from '../errors.js';
import {
  FORMAT_VERSION,
  HEADER_MAGIC,
  HEADER_SIZE,
  HeaderOffset,
  readHeader,
  validateHeader,
} from './header.js';
import type { Region } from './region.js';

/** A Region over plain memory: what validateHeader sees of a mapping, without the OS. */
function fakeRegion(bytes: Uint8Array): Region {
  const buffer = new ArrayBuffer(bytes.length);
  new Uint8Array(buffer).set(bytes);
  return {
    name: '/hotshm-fuzz',
    size: bytes.length,
    address: 0n,
    buffer,
    closed: false,
    close() {},
    unlink() {},
  };
}

const fingerprint = new Uint8Array(16).fill(7);

describe('region header fed random bytes', () => {
  it('validateHeader rejects random headers with a HotshmError, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 600 }), (bytes) => {
        const region = fakeRegion(bytes);
        let error: unknown;
        try {
          validateHeader(region, { fingerprint });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(HotshmError);
      }),
      { numRuns: 2000 },
    );
  });

  it('readHeader never reads outside the mapping, whatever the offsets say', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: HEADER_SIZE, max: 1024 }),
        fc.nat(),
        fc.nat(),
        (size, descriptorOffset, descriptorLength) => {
          const bytes = new Uint8Array(size);
          const view = new DataView(bytes.buffer);
          view.setUint32(HeaderOffset.descriptorOffset, descriptorOffset >>> 0, true);
          view.setUint32(HeaderOffset.descriptorLength, descriptorLength >>> 0, true);
          const header = readHeader(fakeRegion(bytes));
          if (header.descriptor !== undefined) {
            expect(header.descriptorOffset + header.descriptorLength).toBeLessThanOrEqual(size);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  /** A well-formed header of this library, then one field set to a lie. */
  const wellFormed = (size: number): Uint8Array => {
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    view.setUint32(HeaderOffset.magic, HEADER_MAGIC, true);
    view.setUint32(HeaderOffset.formatVersion, FORMAT_VERSION, true);
    view.setUint32(HeaderOffset.headerSize, HEADER_SIZE, true);
    view.setUint32(HeaderOffset.ownerPid, process.pid, true);
    view.setBigUint64(HeaderOffset.totalSize, BigInt(size), true);
    view.setUint32(HeaderOffset.descriptorOffset, HEADER_SIZE, true);
    view.setUint32(HeaderOffset.descriptorLength, 2, true);
    bytes.set([0x7b, 0x7d], HEADER_SIZE);
    return bytes;
  };

  it('a header claiming more bytes than are mapped → SizeMismatchError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: HEADER_SIZE + 2, max: 4096 }),
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        (size, extra) => {
          const bytes = wellFormed(size);
          const claimed =
            BigInt(size) + extra > 2n ** 64n - 1n ? 2n ** 64n - 1n : BigInt(size) + extra;
          new DataView(bytes.buffer).setBigUint64(HeaderOffset.totalSize, claimed, true);
          expect(() => validateHeader(fakeRegion(bytes), { fingerprint })).toThrow(
            SizeMismatchError,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a descriptor placed outside the region or inside the header → CorruptRegionError', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: HEADER_SIZE + 2, max: 4096 }),
        fc.nat(),
        fc.nat(),
        (size, offset, length) => {
          const fits = offset >= HEADER_SIZE && offset + length <= size;
          fc.pre(!fits);
          const bytes = wellFormed(size);
          const view = new DataView(bytes.buffer);
          view.setUint32(HeaderOffset.descriptorOffset, offset, true);
          view.setUint32(HeaderOffset.descriptorLength, length, true);
          expect(() => validateHeader(fakeRegion(bytes), { fingerprint })).toThrow(
            CorruptRegionError,
          );
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the positive control: a well-formed header passes up to the fingerprint check', () => {
    expect(() => validateHeader(fakeRegion(wellFormed(512)), { fingerprint })).toThrow(
      LayoutMismatchError,
    );
  });
});
