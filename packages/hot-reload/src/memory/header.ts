/**
 * The 192-byte header at the start of every region. It lets a process that maps a region by
 * name decide, before it trusts any other byte, that the region is hotshm's, of this format
 * version, of the layout it expects, complete, and still owned by a live process.
 *
 * Layout (little-endian; offsets in `HeaderOffset`):
 *
 *   0  magic u32 = 0x4D485348 ('HSHM' read as little-endian bytes)
 *   4  formatVersion u32      8  headerSize u32 (= 192: the fields start here)
 *  12  ownerPid u32          16  totalSize u64 (bytes as created)
 *  24  fingerprint 16 bytes  40  signatureOffset u32   44  signatureLength u32
 *  48..63 reserved
 *  64  ready u32 (stored last, by the owner)   68  epoch u32 (writer epoch)
 *  72  retired u32 (renderers of this epoch or older must stop)   76..127 reserved
 * 128  doorbell u32   132  doorbellWaiters u32   136..191 reserved
 *
 * The words other processes write while the region is live (ready/epoch, doorbell) each sit on
 * their own 64-byte cache line, away from the read-mostly identity fields, so a process ringing
 * the doorbell does not keep invalidating the line everyone reads at validation.
 *
 * The owner's layout signature (UTF-8 text from the schema) is stored at the very end of the
 * region, after the data, so a reloadable with a different layout can say *what* differs.
 */

import {
  BadMagicError,
  CorruptRegionError,
  InvalidArgumentError,
  LayoutMismatchError,
  OwnerGoneError,
  RegionClosedError,
  RegionNotReadyError,
  SizeMismatchError,
  VersionMismatchError,
} from '../errors.js';
import { describe } from './backend.js';
import type { Region } from './region.js';
import { isProcessAlive } from './stale.js';

export const HEADER_MAGIC = 0x4d485348;
export const FORMAT_VERSION = 2;
export const HEADER_SIZE = 192;
export const FINGERPRINT_SIZE = 16;
/** Regions keep data and the signature on cache-line boundaries. */
export const REGION_ALIGNMENT = 64;

/** Byte offset of every header field. */
export const HeaderOffset = {
  magic: 0,
  formatVersion: 4,
  headerSize: 8,
  ownerPid: 12,
  totalSize: 16,
  fingerprint: 24,
  signatureOffset: 40,
  signatureLength: 44,
  ready: 64,
  epoch: 68,
  retired: 72,
  doorbell: 128,
  doorbellWaiters: 132,
} as const;

/**
 * Index of each live 32-bit word in an Int32Array over the whole region (offset / 4), for
 * Atomics and futex calls: `Atomics.load(i32, HeaderSlot.ready)`.
 */
export const HeaderSlot = {
  ready: HeaderOffset.ready / 4,
  epoch: HeaderOffset.epoch / 4,
  retired: HeaderOffset.retired / 4,
  doorbell: HeaderOffset.doorbell / 4,
  doorbellWaiters: HeaderOffset.doorbellWaiters / 4,
} as const;

export interface HeaderLayout {
  /** Where the caller's data starts: right after the header. */
  readonly dataOffset: number;
  readonly dataSize: number;
  /** Where the owner's signature goes: the end of the region. */
  readonly signatureOffset: number;
  readonly signatureLength: number;
  /** The size to pass to `createRegion`. */
  readonly totalSize: number;
}

export interface RegionHeader {
  readonly magic: number;
  readonly formatVersion: number;
  readonly headerSize: number;
  readonly ownerPid: number;
  readonly totalSize: number;
  readonly fingerprint: Uint8Array;
  readonly signatureOffset: number;
  readonly signatureLength: number;
  /** The owner's layout signature, or undefined if its offset/length fall outside the mapping. */
  readonly signature: string | undefined;
  readonly ready: boolean;
  readonly epoch: number;
}

export interface HeaderFields {
  /** The layout fingerprint (16 bytes). */
  readonly fingerprint: Uint8Array;
  /** The owner's layout signature, stored so a mismatch can be explained. */
  readonly signature: string;
  readonly ownerPid: number;
}

export interface HeaderExpectation {
  readonly fingerprint: Uint8Array;
  /** The exact size the header must claim, when the caller knows it. */
  readonly totalSize?: number;
  /** Lists what differs between the owner's signature and the caller's layout. */
  readonly explain?: (ownerSignature: string) => string[];
}

const align = (value: number, to: number): number => Math.ceil(value / to) * to;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * How big a region holding `dataSize` bytes of data and a signature of `signatureBytes` UTF-8
 * bytes must be, and where each part goes.
 *
 * @example
 * const layout = headerLayout(schema.size, Buffer.byteLength(signature));
 * const region = createRegion(newRegionName(), layout.totalSize);
 */
export function headerLayout(dataSize: number, signatureBytes: number): HeaderLayout {
  for (const [what, value] of [
    ['dataSize', dataSize],
    ['signatureBytes', signatureBytes],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(
        `headerLayout ${what}: expected a non-negative integer, got ${describe(value)}`,
      );
    }
  }
  const signatureOffset = align(HEADER_SIZE + dataSize, REGION_ALIGNMENT);
  return {
    dataOffset: HEADER_SIZE,
    dataSize,
    signatureOffset,
    signatureLength: signatureBytes,
    // Whole cache lines: every word-sized view over the region (Int32Array for futex words)
    // then covers it exactly.
    totalSize: align(signatureOffset + signatureBytes, REGION_ALIGNMENT),
  };
}

function checkFingerprint(fingerprint: unknown, where: string): asserts fingerprint is Uint8Array {
  if (!(fingerprint instanceof Uint8Array) || fingerprint.length !== FINGERPRINT_SIZE) {
    const got =
      fingerprint instanceof Uint8Array ? `${fingerprint.length} bytes` : describe(fingerprint);
    throw new InvalidArgumentError(
      `${where} fingerprint: expected a Uint8Array of ${FINGERPRINT_SIZE} bytes, got ${got}`,
    );
  }
}

function assertHeaderFits(region: Region): void {
  if (region.closed) throw new RegionClosedError(region.name, 'region');
  if (region.size < HEADER_SIZE) {
    throw new SizeMismatchError(
      `region ${region.name} is ${region.size} bytes: expected at least ${HEADER_SIZE} bytes for its header`,
    );
  }
}

/**
 * Writes every header field except `ready` (and leaves the live words, epoch and doorbell,
 * alone), and puts the signature at the end of the region. Call `markReady` once the data is
 * in place too.
 */
export function writeHeader(region: Region, fields: HeaderFields): void {
  assertHeaderFits(region);
  checkFingerprint(fields.fingerprint, 'writeHeader');
  if (typeof fields.signature !== 'string') {
    throw new InvalidArgumentError(
      `writeHeader signature: expected a string, got ${describe(fields.signature)}`,
    );
  }
  if (!Number.isSafeInteger(fields.ownerPid) || fields.ownerPid <= 0) {
    throw new InvalidArgumentError(
      `writeHeader ownerPid: expected a positive integer, got ${describe(fields.ownerPid)}`,
    );
  }
  const signature = utf8.encode(fields.signature);
  const signatureOffset = region.size - signature.length;
  if (signatureOffset < HEADER_SIZE) {
    throw new SizeMismatchError(
      `region ${region.name} is ${region.size} bytes: expected at least ${HEADER_SIZE + signature.length} for the header and a ${signature.length}-byte signature (size it with headerLayout)`,
    );
  }
  const view = new DataView(region.buffer);
  view.setUint32(HeaderOffset.magic, HEADER_MAGIC, true);
  view.setUint32(HeaderOffset.formatVersion, FORMAT_VERSION, true);
  view.setUint32(HeaderOffset.headerSize, HEADER_SIZE, true);
  view.setUint32(HeaderOffset.ownerPid, fields.ownerPid, true);
  view.setBigUint64(HeaderOffset.totalSize, BigInt(region.size), true);
  new Uint8Array(region.buffer, HeaderOffset.fingerprint, FINGERPRINT_SIZE).set(fields.fingerprint);
  view.setUint32(HeaderOffset.signatureOffset, signatureOffset, true);
  view.setUint32(HeaderOffset.signatureLength, signature.length, true);
  new Uint8Array(region.buffer, signatureOffset, signature.length).set(signature);
}

/**
 * Publishes the region: stores ready = 1. Call it last. Atomics.store is sequentially
 * consistent, so every earlier write (header, signature, initial data) is visible to a process
 * that sees ready = 1 through Atomics.load.
 */
export function markReady(region: Region): void {
  assertHeaderFits(region);
  Atomics.store(new Int32Array(region.buffer, 0, HEADER_SIZE / 4), HeaderSlot.ready, 1);
}

/** Parses the header as it is, without judging it. */
export function readHeader(region: Region): RegionHeader {
  assertHeaderFits(region);
  const view = new DataView(region.buffer);
  const words = new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
  // Read ready first (acquire): whatever we read after it is at least as new as the owner's
  // writes before its markReady.
  const ready = Atomics.load(words, HeaderSlot.ready) === 1;
  const epoch = Atomics.load(words, HeaderSlot.epoch) >>> 0;
  const signatureOffset = view.getUint32(HeaderOffset.signatureOffset, true);
  const signatureLength = view.getUint32(HeaderOffset.signatureLength, true);
  const signatureFits =
    signatureOffset >= HEADER_SIZE && signatureOffset + signatureLength <= region.size;
  return {
    magic: view.getUint32(HeaderOffset.magic, true),
    formatVersion: view.getUint32(HeaderOffset.formatVersion, true),
    headerSize: view.getUint32(HeaderOffset.headerSize, true),
    ownerPid: view.getUint32(HeaderOffset.ownerPid, true),
    // A u64 in the region; past 2**53 it loses precision but still fails the size check.
    totalSize: Number(view.getBigUint64(HeaderOffset.totalSize, true)),
    fingerprint: new Uint8Array(region.buffer, HeaderOffset.fingerprint, FINGERPRINT_SIZE).slice(),
    signatureOffset,
    signatureLength,
    signature: signatureFits
      ? fromUtf8.decode(new Uint8Array(region.buffer, signatureOffset, signatureLength))
      : undefined,
    ready,
    epoch,
  };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Checks, in this order, that the region is what the caller expects, and throws the first
 * mismatch: mapping too small for a header (SizeMismatchError), magic (BadMagicError), format
 * version (VersionMismatchError), header size (CorruptRegionError), the size the header claims
 * vs. the mapping (SizeMismatchError), the signature's place (CorruptRegionError), fingerprint
 * (LayoutMismatchError, explained by `expected.explain`), the exact size if given
 * (SizeMismatchError), ready (RegionNotReadyError), owner alive (OwnerGoneError).
 * Returns the parsed header.
 *
 * The order goes from "is this ours at all" to "is it usable now", so the error names the most
 * basic problem. The expected size is compared after the fingerprint: two different layouts
 * differ in size too, and the fingerprint's explanation says much more than two numbers.
 *
 * @example
 * const region = openRegion(name);
 * validateHeader(region, { fingerprint, totalSize, explain: (s) => diffSignatures(s, mine) });
 */
export function validateHeader(region: Region, expected: HeaderExpectation): RegionHeader {
  checkFingerprint(expected.fingerprint, 'validateHeader');
  const header = readHeader(region);
  const { name, size } = region;
  if (header.magic !== HEADER_MAGIC) throw new BadMagicError(name, HEADER_MAGIC, header.magic);
  if (header.formatVersion !== FORMAT_VERSION) {
    throw new VersionMismatchError(name, FORMAT_VERSION, header.formatVersion);
  }
  if (header.headerSize !== HEADER_SIZE) {
    throw new CorruptRegionError(
      `region ${name} has a header size of ${header.headerSize} bytes, expected ${HEADER_SIZE} for format version ${FORMAT_VERSION}`,
    );
  }
  // Smaller than mapped is fine: macOS and Windows round the mapping up to a page.
  if (header.totalSize > size) {
    throw new SizeMismatchError(
      `region ${name}: its header says it is ${header.totalSize} bytes, but only ${size} bytes are mapped`,
    );
  }
  if (header.totalSize < HEADER_SIZE) {
    throw new CorruptRegionError(
      `region ${name}: its header says it is ${header.totalSize} bytes, expected at least ${HEADER_SIZE} (the header alone)`,
    );
  }
  const signatureEnd = header.signatureOffset + header.signatureLength;
  if (
    header.signatureOffset < HEADER_SIZE ||
    signatureEnd > header.totalSize ||
    header.signature === undefined
  ) {
    throw new CorruptRegionError(
      `region ${name}: its layout signature is at bytes ${header.signatureOffset}..${signatureEnd}, expected within ${HEADER_SIZE}..${header.totalSize}`,
    );
  }
  if (!Buffer.from(header.fingerprint).equals(Buffer.from(expected.fingerprint))) {
    const differences = expected.explain?.(header.signature) ?? [];
    throw new LayoutMismatchError(
      name,
      `fingerprint ${hex(expected.fingerprint)}`,
      `fingerprint ${hex(header.fingerprint)}`,
      differences,
    );
  }
  if (expected.totalSize !== undefined && header.totalSize !== expected.totalSize) {
    throw new SizeMismatchError(
      `region ${name} is ${header.totalSize} bytes according to its header, expected ${expected.totalSize}`,
    );
  }
  if (!header.ready) throw new RegionNotReadyError(name);
  if (!isProcessAlive(header.ownerPid)) throw new OwnerGoneError(name, header.ownerPid);
  return header;
}

/**
 * What the owner wrote into its header: the identity line (bytes 0..63) and the signature. The
 * owner alone writes them, once, so any later difference is damage (a stray write, a hostile
 * process of the same user). `damage()` names it; `restore()` writes the owner's bytes back and
 * marks the region ready again. Live words (ready, epoch, retired, doorbell) are not part of it.
 */
export interface HeaderSnapshot {
  /** What differs from what the owner wrote, or undefined when nothing does. */
  damage(): string | undefined;
  restore(): void;
}

const IDENTITY_BYTES = 64;

export function snapshotHeader(region: Region): HeaderSnapshot {
  assertHeaderFits(region);
  const view = new DataView(region.buffer);
  const identity = new Uint8Array(region.buffer, 0, IDENTITY_BYTES).slice();
  const signatureOffset = view.getUint32(HeaderOffset.signatureOffset, true);
  const signatureLength = view.getUint32(HeaderOffset.signatureLength, true);
  const signature = new Uint8Array(region.buffer, signatureOffset, signatureLength).slice();
  const words = new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
  return {
    damage() {
      if (region.closed) return undefined;
      const now = new Uint8Array(region.buffer, 0, IDENTITY_BYTES);
      const changed: string[] = [];
      const fields: ReadonlyArray<readonly [string, number, number]> = [
        ['magic', HeaderOffset.magic, 4],
        ['format version', HeaderOffset.formatVersion, 4],
        ['header size', HeaderOffset.headerSize, 4],
        ['owner pid', HeaderOffset.ownerPid, 4],
        ['total size', HeaderOffset.totalSize, 8],
        ['fingerprint', HeaderOffset.fingerprint, FINGERPRINT_SIZE],
        ['signature offset', HeaderOffset.signatureOffset, 4],
        ['signature length', HeaderOffset.signatureLength, 4],
        ['reserved bytes', HeaderOffset.signatureLength + 4, IDENTITY_BYTES - 48],
      ];
      for (const [what, at, length] of fields) {
        for (let i = at; i < at + length; i++) {
          if (now[i] !== identity[i]) {
            changed.push(what);
            break;
          }
        }
      }
      const sig = new Uint8Array(region.buffer, signatureOffset, signatureLength);
      if (!Buffer.from(sig).equals(Buffer.from(signature))) changed.push('layout signature');
      if (Atomics.load(words, HeaderSlot.ready) !== 1) changed.push('ready flag');
      return changed.length === 0
        ? undefined
        : `the header of region ${region.name} was overwritten (${changed.join(', ')})`;
    },
    restore() {
      if (region.closed) return;
      new Uint8Array(region.buffer, 0, IDENTITY_BYTES).set(identity);
      new Uint8Array(region.buffer, signatureOffset, signatureLength).set(signature);
      Atomics.store(words, HeaderSlot.ready, 1);
    },
  };
}
