/**
 * The one interface every platform module implements, plus the pure checks shared by all of them
 * (region names, sizes). Platform modules only talk to the OS; everything that can be decided
 * without the OS lives here so it can be unit-tested on any machine.
 */

import { InvalidArgumentError } from '../errors.js';
import type { RegionDiagnostic, RegionRecords } from './records.js';

/** A live mapping of a region into this process. */
export interface NativeMapping {
  /** Native address of byte 0. */
  readonly address: bigint;
  /** Bytes mapped. */
  readonly size: number;
  /**
   * Gives the shared pages back. Must leave no view pointing at unmapped memory where the
   * platform allows it (see each module). Called at most once.
   */
  release(): void;
  /** What creating it could not do without failing (its record not written). */
  readonly diagnostics?: readonly RegionDiagnostic[];
}

export interface RegionBackend {
  readonly platform: 'linux' | 'darwin' | 'win32';
  /** Creates a fresh region (fails if the name exists) and maps it read-write. */
  create(name: string, size: number, reserve: boolean): NativeMapping;
  /** Maps an existing region; its size comes from the OS. */
  open(name: string): NativeMapping;
  /**
   * Removes the name. True if it was removed, false if there was nothing to remove. A record of
   * the name that cannot be removed stays; the next stale scan drops it (its region is gone) or
   * reports the directory it cannot use.
   */
  unlink(name: string): boolean;
  /**
   * The hotshm-looking region names this user can see (with their leading '/'), or undefined
   * where the OS offers no way to list named shared memory (macOS, Windows).
   */
  listNames(): string[] | undefined;
  /**
   * The regions this user's owners recorded as they created them (records.ts), where regions
   * outlive their processes (POSIX); absent where the kernel frees them with their last handle
   * (Windows).
   */
  readonly records?: RegionRecords | undefined;
}

/** macOS caps shm names at 31 bytes (PSHMNAMLEN); we hold every platform to it. */
export const MAX_NAME_LENGTH = 31;
/**
 * The largest region we agree to create: 4 GiB, the most koffi.view can expose as one ArrayBuffer
 * on Node 20 (past it, napi fails and koffi aborts the process). Far beyond any framebuffer, and
 * a typo (a size in bits, a negative number cast to unsigned) is caught before the OS sees it.
 */
export const MAX_REGION_SIZE = 2 ** 32;

const NAME_PATTERN = /^\/[A-Za-z0-9._-]+$/;

/** Throws InvalidArgumentError unless `name` is a portable POSIX shm name like '/hotshm-1-ab'. */
export function validateRegionName(name: unknown): asserts name is string {
  if (typeof name !== 'string') {
    throw new InvalidArgumentError(`region name: expected a string, got ${describe(name)}`);
  }
  if (!name.startsWith('/')) {
    throw new InvalidArgumentError(
      `region name: expected a name starting with '/', got ${JSON.stringify(name)}`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `region name: expected at most ${MAX_NAME_LENGTH} characters (the macOS limit), got ${name.length} in ${JSON.stringify(name)}`,
    );
  }
  // '/.' and '/..' would name the shm directory itself on Linux.
  if (!NAME_PATTERN.test(name) || name === '/.' || name === '/..') {
    throw new InvalidArgumentError(
      `region name: expected '/' followed by one or more of [A-Za-z0-9._-] and no other '/', got ${JSON.stringify(name)}`,
    );
  }
}

/** Throws InvalidArgumentError unless `size` is a positive integer of at most MAX_REGION_SIZE. */
export function validateRegionSize(size: unknown): asserts size is number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
    throw new InvalidArgumentError(
      `region size: expected a positive integer number of bytes, got ${describe(size)}`,
    );
  }
  if (size > MAX_REGION_SIZE) {
    throw new InvalidArgumentError(
      `region size: expected at most ${MAX_REGION_SIZE} bytes (4 GiB), got ${size}`,
    );
  }
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  if (typeof value === 'function') return 'a function';
  return String(value);
}
