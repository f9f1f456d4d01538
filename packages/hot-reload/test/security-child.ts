/**
 * Child for security.test.ts: an owner whose first region names are already taken by "someone
 * else". Node's crypto.randomBytes is replaced before the library loads (the library itself is
 * untouched) so that the names it draws first are the one "someone else" created: this process
 * creates it first, with other bytes, as a squatter of the same user would.
 *
 *   node --import tsx security-child.ts <taken-suffix-hex> <times> <entry>
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const [suffix, times, entry] = process.argv.slice(2) as [string, string, string];
const require = createRequire(import.meta.url);
const crypto = require('node:crypto') as typeof import('node:crypto');
const real = crypto.randomBytes;
let left = Number(times);
(crypto as { randomBytes: unknown }).randomBytes = (size: number, ...rest: unknown[]) =>
  size === 4 && left-- > 0
    ? Buffer.from(suffix, 'hex')
    : (real as (...a: unknown[]) => Buffer)(size, ...rest);
syncBuiltinESMExports();
const squatted = `/dev/shm/hotshm-${process.pid}-${suffix}`;
writeFileSync(squatted, 'squatter', { mode: 0o600 });

const { defineState, u8, u16, struct } = await import('../src/index.js');
const State = defineState({
  name: 'security-collide',
  reloadable: entry,
  args: struct({ n: u16 }),
  fields: () => ({ value: u8, more: u8, more2: u8 }),
});
try {
  // The taken names are reported as host `warning` events: the logger's lines go to stderr.
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  const state = await State.owner({ n: 1 }, { hot: false, entry, log });
  const squatter = readFileSync(squatted, 'utf8');
  process.stdout.write(
    `${JSON.stringify({ ok: true, pid: process.pid, region: state.region.name, squatter })}\n`,
  );
  await state.close();
} catch (e) {
  process.stdout.write(
    `${JSON.stringify({ ok: false, name: (e as Error).name, message: (e as Error).message })}\n`,
  );
}
rmSync(squatted, { force: true });
process.exit(0);
