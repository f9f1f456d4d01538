/**
 * Test helper for the channel and frames tests: the state layer's own BindContext over a real
 * shared region, with a header-sized gap at the start so the region's doorbell words sit where
 * the state layer puts them, fields laid out one after another on 64-byte lines, and a few
 * scratch words after them that tests use to talk to their child processes.
 */
import { HEADER_SIZE } from '../src/memory/header.js';
import { createRegion, newRegionName, openRegion, type Region } from '../src/memory/index.js';
import type { Access, Schema } from '../src/schema/types.js';
import { RegionContext } from '../src/state/context.js';

export const SCRATCH_WORDS = 16;

type Fields = readonly Schema<unknown, unknown>[];
type Accessors<F extends Fields> = { -readonly [K in keyof F]: Access<F[K]> };

function offsets(fields: Fields): { at: number[]; scratch: number; size: number } {
  const at: number[] = [];
  let offset = HEADER_SIZE;
  for (const f of fields) {
    offset = Math.ceil(offset / f.align) * f.align;
    at.push(offset);
    offset += f.size;
  }
  const scratch = Math.ceil(offset / 64) * 64;
  return { at, scratch, size: scratch + SCRATCH_WORDS * 4 };
}

export interface Bound<F extends Fields> {
  readonly ctx: RegionContext;
  readonly fields: Accessors<F>;
  /** Words for test coordination, after the fields. */
  readonly scratch: Int32Array;
  /** Byte offset of each field. */
  readonly offsets: readonly number[];
}

function bind<F extends Fields>(
  fields: F,
  region: Region,
  role: 'owner' | 'reloadable',
  epoch: number,
): Bound<F> {
  const ctx = new RegionContext(region, role, epoch);
  const { at, scratch } = offsets(fields);
  const accessors = fields.map((f, i) => f.bind(ctx, at[i]!)) as unknown as Accessors<F>;
  return {
    ctx,
    fields: accessors,
    scratch: new Int32Array(region.buffer, scratch, SCRATCH_WORDS),
    offsets: at,
  };
}

/** Owner side: creates the region, runs each field's init, binds. */
export function createFields<F extends Fields>(fields: F, epoch = 1): Bound<F> {
  const { at, size } = offsets(fields);
  const region = createRegion(newRegionName(), size);
  const view = new DataView(region.buffer);
  for (const [i, f] of fields.entries()) f.init?.(view, at[i]!);
  return bind(fields, region, 'owner', epoch);
}

/** Another process's side: opens the region by name and binds the same fields. */
export function openFields<F extends Fields>(
  fields: F,
  name: string,
  role: 'owner' | 'reloadable' = 'reloadable',
  epoch = 1,
): Bound<F> {
  return bind(fields, openRegion(name), role, epoch);
}
