/**
 * The 192-byte header at the start of every region. It lets a process that maps a region by
 * name decide, before it trusts any other byte, that the region is hotshm's, of this format
 * version, of the layout it expects, complete, and still owned by a live process.
 *
 * The header is a `struct()` like any other layout (`Header` below): little-endian, C offsets.
 * The identity fields come first and are written once by the owner; the words other processes
 * write while the region is live (ready/epoch/retired, then the doorbell) each sit on their own
 * 64-byte cache line, so a process ringing the doorbell does not keep invalidating the line
 * everyone reads at validation.
 *
 * The owner's layout descriptor (JSON text, see state/descriptor.ts) is stored at the very end of
 * the region, after the data, so any process can learn the region's layout from the region
 * itself, and a reloadable with a different layout can say *what* differs.
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
import { array, struct, u8, u32, u64 } from '../schema/index.js';
import { describe } from './backend.js';
import type { Region } from './region.js';
import { isProcessAlive } from './stale.js';

export const HEADER_MAGIC = 0x4d485348;
/** 3: the layout descriptor (JSON data) replaced the layout signature at the end of the region. */
export const FORMAT_VERSION = 3;
export const FINGERPRINT_SIZE = 16;
/** Regions keep data and the descriptor on cache-line boundaries. */
export const REGION_ALIGNMENT = 64;

const LINE = 64;

/**
 * The region header, as a layout. `reserved*` members pad the live words onto their own lines:
 * `ready` (stored last by the owner), `epoch` (the writer epoch) and `retired` (renderers of this
 * epoch or older must stop) on the second line, the doorbell and its waiter count on the third.
 * `magic` is 0x4D485348 ('HSHM' read as little-endian bytes); `headerSize` is where the fields
 * start; `totalSize` the bytes as created.
 */
export const Header = struct({
  magic: u32,
  formatVersion: u32,
  headerSize: u32,
  ownerPid: u32,
  totalSize: u64,
  fingerprint: array(u8, FINGERPRINT_SIZE),
  descriptorOffset: u32,
  descriptorLength: u32,
  reserved0: array(u8, 16),
  ready: u32,
  epoch: u32,
  retired: u32,
  reserved1: array(u8, 52),
  doorbell: u32,
  doorbellWaiters: u32,
  reserved2: array(u8, 56),
});

export const HEADER_SIZE: number = Header.size;

type HeaderMember = Exclude<keyof typeof Header.fields, `reserved${number}`>;

/** Byte offset of every header field (from `Header`'s layout). */
export const HeaderOffset: { readonly [K in HeaderMember]: number } = Object.freeze(
  Object.fromEntries(
    Header.layout.filter((m) => !m.name.startsWith('reserved')).map((m) => [m.name, m.offset]),
  ) as { [K in HeaderMember]: number },
);

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

/** The identity fields: every byte before the first live word, written once by the owner. */
const IDENTITY_BYTES = HeaderOffset.ready;

// What the rest of this file (and every reader of a region) relies on, checked once at load: a
// change of `Header` that breaks it fails here rather than in a race.
if (
  IDENTITY_BYTES % LINE !== 0 ||
  Math.floor(HeaderOffset.retired / LINE) !== IDENTITY_BYTES / LINE ||
  Math.floor(HeaderOffset.doorbell / LINE) === Math.floor(HeaderOffset.epoch / LINE) ||
  HEADER_SIZE % LINE !== 0
) {
  throw new Error('memory/header.ts: the live words must each start a cache line of their own');
}

export interface HeaderLayout {
  /** Where the caller's data starts: right after the header. */
  readonly dataOffset: number;
  readonly dataSize: number;
  /** Where the owner's layout descriptor goes: the end of the region. */
  readonly descriptorOffset: number;
  readonly descriptorLength: number;
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
  readonly descriptorOffset: number;
  readonly descriptorLength: number;
  /** The owner's layout descriptor (JSON text), or undefined if it falls outside the mapping. */
  readonly descriptor: string | undefined;
  readonly ready: boolean;
  readonly epoch: number;
}

export interface HeaderFields {
  /** The layout fingerprint (16 bytes). */
  readonly fingerprint: Uint8Array;
  /** The owner's layout descriptor (JSON text), stored so anyone can learn the layout. */
  readonly descriptor: string;
  readonly ownerPid: number;
}

export interface HeaderExpectation {
  readonly fingerprint: Uint8Array;
  /** The exact size the header must claim, when the caller knows it. */
  readonly totalSize?: number;
  /** Lists what differs between the owner's layout descriptor and the caller's layout. */
  readonly explain?: (ownerDescriptor: string) => string[];
}

const align = (value: number, to: number): number => Math.ceil(value / to) * to;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The identity members, in order, each with what damage() calls it ("format version"). */
const IDENTITY = Header.layout
  .filter((m) => m.offset < IDENTITY_BYTES)
  .map((m) => ({
    ...m,
    label: m.name.startsWith('reserved')
      ? 'reserved bytes'
      : m.name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`),
  }));

/**
 * How big a region holding `dataSize` bytes of data and a layout descriptor of `descriptorBytes`
 * UTF-8 bytes must be, and where each part goes.
 *
 * @example
 * const layout = headerLayout(schema.size, Buffer.byteLength(descriptor));
 * const region = createRegion(newRegionName(), layout.totalSize);
 */
export function headerLayout(dataSize: number, descriptorBytes: number): HeaderLayout {
  for (const [what, value] of [
    ['dataSize', dataSize],
    ['descriptorBytes', descriptorBytes],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new InvalidArgumentError(
        `headerLayout ${what}: expected a non-negative integer, got ${describe(value)}`,
      );
    }
  }
  const descriptorOffset = align(HEADER_SIZE + dataSize, REGION_ALIGNMENT);
  return {
    dataOffset: HEADER_SIZE,
    dataSize,
    descriptorOffset,
    descriptorLength: descriptorBytes,
    // Whole cache lines: every word-sized view over the region (Int32Array for futex words)
    // then covers it exactly.
    totalSize: align(descriptorOffset + descriptorBytes, REGION_ALIGNMENT),
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
 * Writes the identity fields (leaving the live words, ready, epoch, retired and the doorbell,
 * alone), and puts the layout descriptor at the end of the region. Call `markReady` once the data
 * is in place too.
 */
export function writeHeader(region: Region, fields: HeaderFields): void {
  assertHeaderFits(region);
  checkFingerprint(fields.fingerprint, 'writeHeader');
  if (typeof fields.descriptor !== 'string') {
    throw new InvalidArgumentError(
      `writeHeader descriptor: expected a string, got ${describe(fields.descriptor)}`,
    );
  }
  if (
    !Number.isSafeInteger(fields.ownerPid) ||
    fields.ownerPid <= 0 ||
    fields.ownerPid > 2 ** 32 - 1
  ) {
    throw new InvalidArgumentError(
      `writeHeader ownerPid: expected a positive integer, got ${describe(fields.ownerPid)}`,
    );
  }
  const descriptor = utf8.encode(fields.descriptor);
  const descriptorOffset = region.size - descriptor.length;
  if (descriptorOffset < HEADER_SIZE) {
    throw new SizeMismatchError(
      `region ${region.name} is ${region.size} bytes: expected at least ${HEADER_SIZE + descriptor.length} for the header and a ${descriptor.length}-byte layout descriptor (size it with headerLayout)`,
    );
  }
  const identity: Record<string, unknown> = {
    magic: HEADER_MAGIC,
    formatVersion: FORMAT_VERSION,
    headerSize: HEADER_SIZE,
    ownerPid: fields.ownerPid,
    totalSize: BigInt(region.size),
    fingerprint: [...fields.fingerprint],
    descriptorOffset,
    descriptorLength: descriptor.length,
  };
  const view = new DataView(region.buffer);
  for (const m of IDENTITY) {
    if (m.name.startsWith('reserved'))
      new Uint8Array(region.buffer, m.offset, m.schema.size).fill(0);
    else m.schema.write(view, m.offset, identity[m.name]);
  }
  new Uint8Array(region.buffer, descriptorOffset, descriptor.length).set(descriptor);
}

/**
 * Publishes the region: stores ready = 1. Call it last. Atomics.store is sequentially
 * consistent, so every earlier write (header, descriptor, initial data) is visible to a process
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
  const id: Record<string, unknown> = {};
  for (const m of IDENTITY) {
    if (!m.name.startsWith('reserved')) id[m.name] = m.schema.read(view, m.offset);
  }
  const descriptorOffset = id.descriptorOffset as number;
  const descriptorLength = id.descriptorLength as number;
  const descriptorFits =
    descriptorOffset >= HEADER_SIZE && descriptorOffset + descriptorLength <= region.size;
  return {
    magic: id.magic as number,
    formatVersion: id.formatVersion as number,
    headerSize: id.headerSize as number,
    ownerPid: id.ownerPid as number,
    // A u64 in the region; past 2**53 it loses precision but still fails the size check.
    totalSize: Number(id.totalSize as bigint),
    fingerprint: Uint8Array.from(id.fingerprint as number[]),
    descriptorOffset,
    descriptorLength,
    descriptor: descriptorFits
      ? fromUtf8.decode(new Uint8Array(region.buffer, descriptorOffset, descriptorLength))
      : undefined,
    ready,
    epoch,
  };
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Checks the header of a region someone else made, whatever its layout: everything
 * `validateHeader` checks except the fingerprint (the caller compares the layout itself, from the
 * descriptor). Returns the parsed header, its descriptor present.
 */
export function validateForeignHeader(
  region: Region,
): RegionHeader & { readonly descriptor: string } {
  return checkHeader(region, undefined) as RegionHeader & { readonly descriptor: string };
}

/**
 * Checks, in this order, that the region is what the caller expects, and throws the first
 * mismatch: mapping too small for a header (SizeMismatchError), magic (BadMagicError), format
 * version (VersionMismatchError), header size (CorruptRegionError), the size the header claims
 * vs. the mapping (SizeMismatchError), the descriptor's place (CorruptRegionError), fingerprint
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
 * validateHeader(region, { fingerprint, totalSize, explain: (d) => diffLayouts(d, mine) });
 */
export function validateHeader(region: Region, expected: HeaderExpectation): RegionHeader {
  checkFingerprint(expected.fingerprint, 'validateHeader');
  return checkHeader(region, expected);
}

function checkHeader(region: Region, expected: HeaderExpectation | undefined): RegionHeader {
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
  const descriptorEnd = header.descriptorOffset + header.descriptorLength;
  if (
    header.descriptorOffset < HEADER_SIZE ||
    descriptorEnd > header.totalSize ||
    header.descriptor === undefined
  ) {
    throw new CorruptRegionError(
      `region ${name}: its layout descriptor is at bytes ${header.descriptorOffset}..${descriptorEnd}, expected within ${HEADER_SIZE}..${header.totalSize}`,
    );
  }
  if (
    expected !== undefined &&
    !Buffer.from(header.fingerprint).equals(Buffer.from(expected.fingerprint))
  ) {
    const differences = expected.explain?.(header.descriptor) ?? [];
    throw new LayoutMismatchError(
      name,
      `fingerprint ${hex(expected.fingerprint)}`,
      `fingerprint ${hex(header.fingerprint)}`,
      differences,
    );
  }
  if (expected?.totalSize !== undefined && header.totalSize !== expected.totalSize) {
    throw new SizeMismatchError(
      `region ${name} is ${header.totalSize} bytes according to its header, expected ${expected.totalSize}`,
    );
  }
  if (!header.ready) throw new RegionNotReadyError(name);
  if (!isProcessAlive(header.ownerPid)) throw new OwnerGoneError(name, header.ownerPid);
  return header;
}

/**
 * What the owner wrote into its header: the identity line (everything before the live words) and
 * the descriptor. The owner alone writes them, once, so any later difference is damage (a stray
 * write, a hostile process of the same user). `damage()` names it; `restore()` writes the owner's
 * bytes back and marks the region ready again. Live words (ready, epoch, retired, doorbell) are
 * not part of it.
 */
export interface HeaderSnapshot {
  /** What differs from what the owner wrote, or undefined when nothing does. */
  damage(): string | undefined;
  restore(): void;
}

export function snapshotHeader(region: Region): HeaderSnapshot {
  assertHeaderFits(region);
  const view = new DataView(region.buffer);
  const identity = new Uint8Array(region.buffer, 0, IDENTITY_BYTES).slice();
  const descriptorOffset = view.getUint32(HeaderOffset.descriptorOffset, true);
  const descriptorLength = view.getUint32(HeaderOffset.descriptorLength, true);
  const descriptor = new Uint8Array(region.buffer, descriptorOffset, descriptorLength).slice();
  const words = new Int32Array(region.buffer, 0, HEADER_SIZE / 4);
  return {
    damage() {
      if (region.closed) return undefined;
      const now = new Uint8Array(region.buffer, 0, IDENTITY_BYTES);
      const changed: string[] = [];
      for (const m of IDENTITY) {
        for (let i = m.offset; i < m.offset + m.schema.size; i++) {
          if (now[i] !== identity[i]) {
            changed.push(m.label);
            break;
          }
        }
      }
      const now2 = new Uint8Array(region.buffer, descriptorOffset, descriptorLength);
      if (!Buffer.from(now2).equals(Buffer.from(descriptor))) changed.push('layout descriptor');
      if (Atomics.load(words, HeaderSlot.ready) !== 1) changed.push('ready flag');
      return changed.length === 0
        ? undefined
        : `the header of region ${region.name} was overwritten (${changed.join(', ')})`;
    },
    restore() {
      if (region.closed) return;
      new Uint8Array(region.buffer, 0, IDENTITY_BYTES).set(identity);
      new Uint8Array(region.buffer, descriptorOffset, descriptorLength).set(descriptor);
      Atomics.store(words, HeaderSlot.ready, 1);
    },
  };
}
