#!/usr/bin/env node
/**
 * `pnpm bench`: runs every package's benchmarks one after another (never in parallel: they would
 * steal each other's two cores), then prints one table and writes every figure to
 * bench-results.json at the root: { "<metric id>": { value, unit, baseline?, ratio? } }.
 * `pnpm bench <filter>` runs only the bench files whose path contains <filter>.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv[2] ?? '';
const files = readdirSync(join(root, 'packages'))
  .flatMap((pkg) => {
    const dir = join(root, 'packages', pkg, 'bench');
    return existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.bench.ts'))
          .map((f) => join(dir, f))
      : [];
  })
  .filter((f) => f.includes(filter))
  .sort();

const scratch = mkdtempSync(join(tmpdir(), 'hotshm-bench-'));
const out = join(scratch, 'results.json');
const failed = [];
for (const file of files) {
  console.log(`\n▶ ${relative(root, file)}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', file], {
    stdio: 'inherit',
    cwd: join(file, '..', '..'),
    env: { ...process.env, HOTSHM_BENCH_OUT: out },
  });
  if (r.status !== 0) failed.push(`${relative(root, file)} (exit ${r.status ?? r.signal})`);
}

const measured = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
rmSync(scratch, { recursive: true, force: true });
// A filtered run updates its own figures and keeps the others of the last full run.
const previous =
  filter && existsSync(join(root, 'bench-results.json'))
    ? JSON.parse(readFileSync(join(root, 'bench-results.json'), 'utf8'))
    : {};
const results = {
  ...previous,
  ...measured,
  _meta: {
    date: new Date().toISOString().slice(0, 10),
    node: process.version,
    cores: cpus().length,
    os: `${process.platform} ${release()}`,
  },
};
writeFileSync(join(root, 'bench-results.json'), `${JSON.stringify(results, null, 2)}\n`);

const rows = Object.entries(measured).map(([id, m]) => [
  id,
  `${Number.isInteger(m.value) ? m.value : m.value.toPrecision(4)} ${m.unit}`,
  m.ratio === undefined ? '' : `${m.ratio.toFixed(2)}×`,
  m.baseline ?? '',
]);
const header = ['metric', 'value', 'ratio', 'baseline'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const r of rows) console.log(line(r));
console.log(
  `\n${rows.length} figures written to bench-results.json; \`pnpm figures\` puts them in the README`,
);
if (failed.length > 0) {
  console.error(`benchmarks that failed: ${failed.join(', ')}`);
  process.exit(1);
}
