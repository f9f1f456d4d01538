/**
 * Child of migrate-race.test.ts: a consumer still running on the old region while its owner
 * migrates the state (a renderer that is slow to stop).
 *   node --import tsx test/migrate-child.ts <regionName>
 * It learns the layout from the region's own header (its descriptor), takes messages one by one
 * from `input` (a little work after each, so the owner's migration lands in the middle), counts
 * them in `progress`, and stops once `input` has been empty for 300 ms. Prints the sequence
 * numbers it took, as one JSON line.
 */
import type { Channel } from '../src/channel/index.js';
import { readHeader } from '../src/memory/header.js';
import { openRegion } from '../src/memory/index.js';
import type { Cell } from '../src/schema/index.js';
import { RegionContext } from '../src/state/context.js';
import { layoutFromDescriptor } from '../src/state/descriptor.js';

const region = openRegion(process.argv[2] ?? '');
const layout = layoutFromDescriptor(JSON.parse(readHeader(region).descriptor ?? 'null'));
const ctx = new RegionContext(region, 'reloadable', 1);
const at = (name: string) => layout.fields.find((f) => f.name === name)!;
const input = at('input').schema.bind(ctx, at('input').offset, 'input') as Channel<number>;
const progress = at('progress').schema.bind(ctx, at('progress').offset, 'progress') as Cell<number>;

const taken: number[] = [];
let idleSince = performance.now();
while (performance.now() - idleSince < 300) {
  const m = input.tryRecv();
  if (m === undefined) continue;
  taken.push(m);
  progress.set(taken.length);
  idleSince = performance.now();
  const until = performance.now() + 0.02;
  while (performance.now() < until);
}
process.stdout.write(`${JSON.stringify({ taken })}\n`);
