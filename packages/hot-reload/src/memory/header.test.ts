import koffi from 'koffi';
import { afterEach, describe, expect, it } from 'vitest';
import { deadPid, RegionTracker, startChild } from '../../test/memory-helpers.js';
import {
  BadMagicError,
  CorruptRegionError,
  InvalidArgumentError,
  LayoutMismatchError,
  OwnerGoneError,
  RegionNotReadyError,
  SizeMismatchError,
  VersionMismatchError,
} from '../errors.js';
import { koffiType } from '../schema/koffi-type.test-helper.js';
import {
  FORMAT_VERSION,
  HEADER_MAGIC,
  HEADER_SIZE,
  Header,
  HeaderOffset,
  HeaderSlot,
  headerLayout,
  markReady,
  openRegion,
  type Region,
  readHeader,
  validateHeader,
  writeHeader,
} from './index.js';
import { createRegion } from './region.js';

const regions = new RegionTracker();
afterEach(() => regions.cleanup());

const FINGERPRINT = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const OTHER_FINGERPRINT = Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i);
const DESCRIPTOR = '{"format":1,"state":"t"}';
const DATA_SIZE = 100;

/** A complete, ready region as an owner makes it. */
function ownerRegion(descriptor = DESCRIPTOR, pid = process.pid): Region {
  const layout = headerLayout(DATA_SIZE, Buffer.byteLength(descriptor));
  const region = regions.track(createRegion(regions.name(), layout.totalSize));
  writeHeader(region, { fingerprint: FINGERPRINT, descriptor, ownerPid: pid });
  markReady(region);
  return region;
}

const view = (region: Region): DataView => new DataView(region.buffer);
const headerWords = (region: Region): Int32Array =>
  new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
const validate = (region: Region, totalSize?: number) =>
  validateHeader(
    region,
    totalSize === undefined
      ? { fingerprint: FINGERPRINT }
      : { fingerprint: FINGERPRINT, totalSize },
  );

describe('header layout', () => {
  it('is a struct with the C layout of the same declaration, its live words on their own lines', () => {
    // koffi lays the same members out as a C compiler would: offsets, size and alignment are
    // checked against it, not against numbers written here.
    const c = koffiType(Header);
    expect(Header.size).toBe(koffi.sizeof(c));
    expect(HEADER_SIZE).toBe(Header.size);
    for (const m of Header.layout) expect(m.offset).toBe(koffi.offsetof(c, m.name));
    for (const [name, offset] of Object.entries(HeaderOffset)) {
      expect(offset).toBe(Header.offsetOf(name as keyof typeof HeaderOffset));
    }
    for (const [name, slot] of Object.entries(HeaderSlot)) {
      expect(slot * 4).toBe(HeaderOffset[name as keyof typeof HeaderSlot]);
    }
    const line = (offset: number): number => Math.floor(offset / 64);
    // Identity on the first line, ready/epoch/retired on the second, the doorbell on the third.
    expect(line(HeaderOffset.descriptorLength)).toBe(0);
    expect(
      new Set([HeaderOffset.ready, HeaderOffset.epoch, HeaderOffset.retired].map(line)),
    ).toEqual(new Set([1]));
    expect(new Set([HeaderOffset.doorbell, HeaderOffset.doorbellWaiters].map(line))).toEqual(
      new Set([2]),
    );
    expect(FORMAT_VERSION).toBe(3);
  });

  it.runIf(process.platform === 'linux')(
    'writes the bytes a C reader of the documented header expects',
    () => {
      const region = ownerRegion();
      const bytes = new Uint8Array(region.buffer, 0, HEADER_SIZE);
      // The first 48 bytes, built by hand as little-endian words: magic 'HSHM', version, header
      // size, pid, u64 total size, the fingerprint, then the descriptor's offset and length.
      const expected = new Uint8Array(48);
      const dv = new DataView(expected.buffer);
      expected.set([0x48, 0x53, 0x48, 0x4d], 0);
      dv.setUint32(4, 3, true);
      dv.setUint32(8, 192, true);
      dv.setUint32(12, process.pid, true);
      dv.setBigUint64(16, BigInt(region.size), true);
      expected.set(FINGERPRINT, 24);
      const descriptorBytes = Buffer.byteLength(DESCRIPTOR);
      dv.setUint32(40, region.size - descriptorBytes, true);
      dv.setUint32(44, descriptorBytes, true);
      expect([...bytes.subarray(0, 48)]).toEqual([...expected]);
      // Reserved bytes are zero; the live words are the owner's (ready = 1 after markReady).
      expect([...bytes.subarray(48, 64)]).toEqual(new Array(16).fill(0));
      expect(new DataView(region.buffer).getUint32(64, true)).toBe(1);
    },
  );

  it('headerLayout: data after the header, the descriptor after the data on a 64-byte boundary', () => {
    expect(headerLayout(100, 40)).toEqual({
      dataOffset: 192,
      dataSize: 100,
      descriptorOffset: 320, // align(192 + 100, 64)
      descriptorLength: 40,
      totalSize: 384, // align(320 + 40, 64): whole cache lines
    });
    expect(headerLayout(0, 0).totalSize).toBe(192);
    expect(headerLayout(128, 1).descriptorOffset).toBe(320);
    expect(() => headerLayout(-1, 0)).toThrow(
      'headerLayout dataSize: expected a non-negative integer, got -1',
    );
    expect(() => headerLayout(0, 1.5)).toThrow(InvalidArgumentError);
  });
});

describe.runIf(process.platform === 'linux')('writeHeader / readHeader / validateHeader', () => {
  it('round-trips every field, little-endian, with the descriptor at the end', () => {
    const region = ownerRegion();
    const dv = view(region);
    expect(dv.getUint32(0, true)).toBe(0x4d485348);
    expect(new TextDecoder().decode(new Uint8Array(region.buffer, 0, 4))).toBe('HSHM');
    const descriptorBytes = Buffer.byteLength(DESCRIPTOR);
    expect(readHeader(region)).toEqual({
      magic: HEADER_MAGIC,
      formatVersion: FORMAT_VERSION,
      headerSize: HEADER_SIZE,
      ownerPid: process.pid,
      totalSize: region.size,
      fingerprint: FINGERPRINT,
      descriptorOffset: region.size - descriptorBytes,
      descriptorLength: descriptorBytes,
      descriptor: DESCRIPTOR,
      ready: true,
      epoch: 0,
    });
    // The region is whole cache lines; the descriptor sits at its very end, after the data.
    const { descriptorOffset } = headerLayout(DATA_SIZE, descriptorBytes);
    expect(region.size % 64).toBe(0);
    expect(region.size - descriptorBytes).toBeGreaterThanOrEqual(descriptorOffset);
    expect(validate(region).descriptor).toBe(DESCRIPTOR);
  });

  it('ready stays 0 until markReady', () => {
    const layout = headerLayout(DATA_SIZE, 1);
    const region = regions.track(createRegion(regions.name(), layout.totalSize));
    writeHeader(region, { fingerprint: FINGERPRINT, descriptor: 's', ownerPid: process.pid });
    expect(readHeader(region).ready).toBe(false);
    expect(() => validate(region)).toThrow(RegionNotReadyError);
    expect(() => validate(region)).toThrow(
      `region ${region.name} is not ready: its owner has not finished creating it`,
    );
    markReady(region);
    expect(Atomics.load(headerWords(region), HeaderSlot.ready)).toBe(1);
    expect(validate(region).ready).toBe(true);
  });

  it('another process sees the header written by a child owner and validates it', async () => {
    const name = regions.name();
    const child = startChild('owner', name, 'exit-normally');
    expect(await child.line()).toBe(`ready ${name}`);
    const region = regions.track(openRegion(name));
    const header = validateHeader(region, { fingerprint: new Uint8Array(16) });
    expect(header.ownerPid).toBe(child.process.pid);
    expect(header.descriptor).toBe('x');
    child.send('done');
    await child.exited;
  });

  it('a mapping smaller than the header → SizeMismatchError naming both sizes', () => {
    const region = regions.track(createRegion(regions.name(), 100));
    expect(() => validate(region)).toThrow(SizeMismatchError);
    expect(() => validate(region)).toThrow(
      `region ${region.name} is 100 bytes: expected at least 192 bytes for its header`,
    );
  });

  it('wrong magic → BadMagicError naming both values', () => {
    const region = ownerRegion();
    view(region).setUint32(HeaderOffset.magic, 0x12345678, true);
    expect(() => validate(region)).toThrow(BadMagicError);
    expect(() => validate(region)).toThrow('expected magic 0x4d485348, got 0x12345678');
  });

  it('an all-zero region (created but never written) → BadMagicError', () => {
    const region = regions.track(createRegion(regions.name(), 4096));
    expect(() => validate(region)).toThrow('expected magic 0x4d485348, got 0x0');
  });

  it('wrong version → VersionMismatchError naming both', () => {
    const region = ownerRegion();
    view(region).setUint32(HeaderOffset.formatVersion, 1, true);
    expect(() => validate(region)).toThrow(VersionMismatchError);
    expect(() => validate(region)).toThrow('has format version 1, expected 3');
  });

  it('a header size other than 192 → CorruptRegionError', () => {
    const region = ownerRegion();
    view(region).setUint32(HeaderOffset.headerSize, 64, true);
    expect(() => validate(region)).toThrow(CorruptRegionError);
    expect(() => validate(region)).toThrow('header size of 64 bytes, expected 192');
  });

  it('a header claiming more bytes than are mapped → SizeMismatchError naming both', () => {
    const region = ownerRegion();
    view(region).setBigUint64(HeaderOffset.totalSize, BigInt(region.size + 4096), true);
    expect(() => validate(region)).toThrow(SizeMismatchError);
    expect(() => validate(region)).toThrow(
      `its header says it is ${region.size + 4096} bytes, but only ${region.size} bytes are mapped`,
    );
  });

  it('a truncated region (the mapping is shorter than the owner made it) → SizeMismatchError', () => {
    // A valid header whose region was 4096 bytes, found in a mapping of only 1024.
    const full = ownerRegion();
    const short = regions.track(createRegion(regions.name(), 1024));
    new Uint8Array(short.buffer).set(new Uint8Array(full.buffer));
    view(short).setBigUint64(HeaderOffset.totalSize, 4096n, true);
    expect(() => validate(short)).toThrow(
      `its header says it is 4096 bytes, but only 1024 bytes are mapped`,
    );
  });

  it('a total size below the header → CorruptRegionError', () => {
    const region = ownerRegion();
    view(region).setBigUint64(HeaderOffset.totalSize, 12n, true);
    expect(() => validate(region)).toThrow(CorruptRegionError);
  });

  it('a descriptor outside the region → CorruptRegionError naming where it is and where it may be', () => {
    const region = ownerRegion();
    view(region).setUint32(HeaderOffset.descriptorLength, 10_000, true);
    const offset = view(region).getUint32(HeaderOffset.descriptorOffset, true);
    expect(() => validate(region)).toThrow(CorruptRegionError);
    expect(() => validate(region)).toThrow(
      `its layout descriptor is at bytes ${offset}..${offset + 10_000}, expected within 192..${region.size}`,
    );
    view(region).setUint32(HeaderOffset.descriptorLength, 1, true);
    view(region).setUint32(HeaderOffset.descriptorOffset, 8, true); // inside the header
    expect(() => validate(region)).toThrow(CorruptRegionError);
  });

  it('wrong fingerprint → LayoutMismatchError naming both, explained from the owner descriptor', () => {
    const region = ownerRegion();
    let seen = '';
    let error: unknown;
    try {
      validateHeader(region, {
        fingerprint: OTHER_FINGERPRINT,
        explain: (ownerDescriptor) => {
          seen = ownerDescriptor;
          return ['field x: owner has u32, this side has f64'];
        },
      });
    } catch (caught) {
      error = caught;
    }
    expect(seen).toBe(DESCRIPTOR);
    expect(error).toBeInstanceOf(LayoutMismatchError);
    expect((error as LayoutMismatchError).differences).toEqual([
      'field x: owner has u32, this side has f64',
    ]);
    expect((error as Error).message).toBe(
      `region ${region.name} has layout fingerprint ${Buffer.from(FINGERPRINT).toString('hex')}, expected fingerprint ${Buffer.from(OTHER_FINGERPRINT).toString('hex')}: field x: owner has u32, this side has f64`,
    );
    // Without an explanation the fingerprints alone are named.
    expect(() => validateHeader(region, { fingerprint: OTHER_FINGERPRINT })).toThrow(
      LayoutMismatchError,
    );
  });

  it('an expected total size that differs → SizeMismatchError naming both', () => {
    const region = ownerRegion();
    expect(() => validate(region, region.size + 8)).toThrow(SizeMismatchError);
    expect(() => validate(region, region.size + 8)).toThrow(
      `is ${region.size} bytes according to its header, expected ${region.size + 8}`,
    );
    expect(validate(region, region.size).totalSize).toBe(region.size);
  });

  it('a dead owner pid → OwnerGoneError naming the pid', async () => {
    const pid = await deadPid();
    const region = ownerRegion(DESCRIPTOR, pid);
    expect(() => validate(region)).toThrow(OwnerGoneError);
    expect(() => validate(region)).toThrow(
      `the owner of region ${region.name} (pid ${pid}) is gone`,
    );
  });

  it('checks in order: magic before version before fingerprint before ready before owner', async () => {
    const region = ownerRegion(DESCRIPTOR, await deadPid());
    Atomics.store(headerWords(region), HeaderSlot.ready, 0);
    const dv = view(region);
    dv.setUint32(HeaderOffset.formatVersion, 9, true);
    dv.setUint32(HeaderOffset.magic, 1, true);
    new Uint8Array(region.buffer, HeaderOffset.fingerprint, 16).fill(0xee);
    expect(() => validate(region)).toThrow(BadMagicError);
    dv.setUint32(HeaderOffset.magic, HEADER_MAGIC, true);
    expect(() => validate(region)).toThrow(VersionMismatchError);
    dv.setUint32(HeaderOffset.formatVersion, FORMAT_VERSION, true);
    expect(() => validate(region)).toThrow(LayoutMismatchError);
    new Uint8Array(region.buffer, HeaderOffset.fingerprint, 16).set(FINGERPRINT);
    expect(() => validate(region)).toThrow(RegionNotReadyError);
    markReady(region);
    expect(() => validate(region)).toThrow(OwnerGoneError);
  });

  it('writeHeader refuses a region too small for the header and descriptor, and bad fields', () => {
    const region = regions.track(createRegion(regions.name(), 200));
    expect(() =>
      writeHeader(region, { fingerprint: FINGERPRINT, descriptor: 'abcdefghij', ownerPid: 1 }),
    ).toThrow(
      `region ${region.name} is 200 bytes: expected at least 202 for the header and a 10-byte layout descriptor`,
    );
    expect(() =>
      writeHeader(region, { fingerprint: new Uint8Array(8), descriptor: '', ownerPid: 1 }),
    ).toThrow('writeHeader fingerprint: expected a Uint8Array of 16 bytes, got 8 bytes');
    expect(() =>
      writeHeader(region, { fingerprint: FINGERPRINT, descriptor: '', ownerPid: 0 }),
    ).toThrow('writeHeader ownerPid: expected a positive integer, got 0');
    expect(() => validateHeader(region, { fingerprint: 'abc' as unknown as Uint8Array })).toThrow(
      'validateHeader fingerprint: expected a Uint8Array of 16 bytes, got "abc"',
    );
  });

  it('refuses a closed region', () => {
    const region = ownerRegion();
    region.close();
    expect(() => readHeader(region)).toThrow(`region ${region.name} is closed`);
  });
});
