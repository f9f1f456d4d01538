/**
 * A named shared region: create / open / close / unlink, with a zero-copy view of the whole
 * mapping. The platform module does the OS calls; this file holds argument checks, names, and
 * the lifetime rules that keep stale views from crashing the process.
 */

import { randomBytes } from 'node:crypto';
import koffi from 'koffi';
import { InvalidArgumentError, SizeMismatchError } from '../errors.js';
import { trackMapping } from '../native/mapped.js';
import {
  describe,
  MAX_REGION_SIZE,
  type NativeMapping,
  type RegionBackend,
  validateRegionName,
  validateRegionSize,
} from './backend.js';
import { currentBackend } from './platform.js';
import type { RegionDiagnostic } from './records.js';

export interface Region {
  /** The POSIX-style name, e.g. '/hotshm-1234-0a1b2c3d'. */
  readonly name: string;
  /** Bytes mapped. */
  readonly size: number;
  /** Native address of byte 0 (for futex words and for handing pixels to C). */
  readonly address: bigint;
  /**
   * Zero-copy view of the whole mapping. After `close()` it still points at valid memory, but no
   * longer at the region (see `close`).
   */
  readonly buffer: ArrayBuffer;
  readonly closed: boolean;
  /**
   * What making this region could not do without failing: its record, by which a start after
   * this process is killed finds it where shared memory cannot be listed (macOS), not written.
   * Empty for a region opened by name (absent on a Region made by hand). An owner reports each
   * as a host `warning` event.
   */
  readonly diagnostics?: readonly RegionDiagnostic[];
  /**
   * Unmaps the region from this process. Idempotent. Views made over `buffer` stay safe to touch
   * on Linux and macOS: they then read zeros and no longer see the other process's writes.
   */
  close(): void;
  /** Removes the name so no one else can open it (mapped regions stay usable). Idempotent. */
  unlink(): void;
}

export interface CreateRegionOptions {
  /**
   * Reserve every page at creation (posix_fallocate on Linux) so a full /dev/shm is an error
   * now rather than a SIGBUS at some later write. Default true. Ignored where the OS has no way
   * to do it (macOS) or always commits (Windows).
   */
  readonly reserve?: boolean;
}

class MappedRegion implements Region {
  readonly name: string;
  readonly size: number;
  readonly address: bigint;
  readonly buffer: ArrayBuffer;
  readonly diagnostics: readonly RegionDiagnostic[];
  readonly #backend: RegionBackend;
  #mapping: NativeMapping | undefined;
  readonly #untrack: () => void;

  constructor(name: string, mapping: NativeMapping, backend: RegionBackend) {
    this.name = name;
    this.size = mapping.size;
    this.address = mapping.address;
    this.buffer = koffi.view(mapping.address, mapping.size);
    this.diagnostics = mapping.diagnostics ?? [];
    this.#backend = backend;
    this.#mapping = mapping;
    this.#untrack = trackMapping(name, mapping.address, mapping.size);
  }

  get closed(): boolean {
    return this.#mapping === undefined;
  }

  close(): void {
    const mapping = this.#mapping;
    if (mapping === undefined) return;
    this.#untrack();
    mapping.release();
    this.#mapping = undefined;
  }

  unlink(): void {
    this.#backend.unlink(this.name);
  }
}

/**
 * Creates a fresh region (mode 0600, fails with RegionExistsError if the name is taken) and maps
 * it. Its bytes start as zeros.
 *
 * @example
 * const region = createRegion(newRegionName(), 4096);
 * new Uint32Array(region.buffer)[0] = 42;
 */
export function createRegion(name: string, size: number, options?: CreateRegionOptions): Region {
  validateRegionName(name);
  validateRegionSize(size);
  const reserve = options?.reserve ?? true;
  if (typeof reserve !== 'boolean') {
    throw new InvalidArgumentError(
      `createRegion options.reserve: expected a boolean, got ${describe(reserve)}`,
    );
  }
  const backend = currentBackend();
  return new MappedRegion(name, backend.create(name, size, reserve), backend);
}

/**
 * Maps an existing region by name; its size comes from the OS. Throws RegionNotFoundError if no
 * region has that name. Check its header (`validateHeader`) before trusting its bytes.
 *
 * @example
 * const region = openRegion(process.env.HOTSHM_REGION!);
 */
export function openRegion(name: string): Region {
  validateRegionName(name);
  const backend = currentBackend();
  const mapping = backend.open(name);
  if (mapping.size > MAX_REGION_SIZE) {
    // Not one of ours, and koffi.view would abort the whole process on a buffer this large.
    mapping.release();
    throw new SizeMismatchError(
      `region ${name} is ${mapping.size} bytes: expected at most ${MAX_REGION_SIZE} (4 GiB), the most one view can hold`,
    );
  }
  return new MappedRegion(name, mapping, backend);
}

/** Removes a region's name. True if it existed. Mappings of it stay valid until closed. */
export function unlinkRegion(name: string): boolean {
  validateRegionName(name);
  return currentBackend().unlink(name);
}

/**
 * A fresh, unguessable region name that carries its owner's pid, so regions of dead owners can
 * be found and removed: `/hotshm-<pid>-<8 random hex>`.
 *
 * @example
 * newRegionName(); // '/hotshm-4242-9f3a0c1e'
 */
export function newRegionName(pid: number = process.pid): string {
  if (!Number.isSafeInteger(pid) || pid <= 0) {
    throw new InvalidArgumentError(`pid: expected a positive integer, got ${describe(pid)}`);
  }
  const name = `/hotshm-${pid}-${randomBytes(4).toString('hex')}`;
  validateRegionName(name);
  return name;
}
