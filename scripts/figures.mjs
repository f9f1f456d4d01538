#!/usr/bin/env node
/**
 * The README's figures table, generated from bench-results.json (what the last `pnpm bench`
 * wrote), between the markers `<!-- figures:start -->` and `<!-- figures:end -->`. Never typed by
 * hand: `pnpm figures` rewrites it, and `pnpm figures --check` (run by `pnpm test`) fails when the
 * README says something the results file does not.
 *
 *   pnpm bench && pnpm figures     measure, then write the table
 */
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const readmePath = new URL('README.md', root);
const resultsPath = new URL('bench-results.json', root);
const START = '<!-- figures:start -->';
const END = '<!-- figures:end -->';

/**
 * id, what it measures, the floor the issues set (a string with its comparison), and how a value
 * compares with it. Ids absent from the results are left out (a bench that did not run).
 */
const ROWS = [
  [
    'reload.p50_ms',
    '`pnpm dev` with its window: a save → the new frame in shared memory, p50 of in-place and atomic saves',
    '≤ 15',
    (v) => v <= 15,
  ],
  ['reload.p95_ms', '… p95', '≤ 30', (v) => v <= 30],
  ['reload.max_ms', '… the slowest of them', '≤ 60', (v) => v <= 60],
  ['reload.inplace_p50_ms', 'in-place saves (truncate, then write), p50', '', null],
  ['reload.atomic_p50_ms', 'atomic saves (a temporary file renamed over), p50', '', null],
  [
    'reload.formatter_ms',
    "a save, then a formatter's rewrite 20 ms later: the rewrite → its frame",
    '',
    null,
  ],
  ['reload.helper_p50_ms', 'an edit of a module the entry imports (draw.ts), p50', '', null],
  [
    'reload.burst_last_ms',
    '50 saves 20 ms apart: the last save → its frame',
    '≤ 60',
    (v) => v <= 60,
  ],
  ['reload.burst_reloads', '… renderers started for those 50 saves', '', null],
  [
    'reload.cold_starts',
    'reloads that waited for a process that was not warm, whole run',
    '= 0',
    (v) => v === 0,
  ],
  [
    'reload.vs_full_restart',
    'the whole app restarted on each save ÷ a reload',
    '≥ 5×',
    (v) => v >= 5,
  ],
  [
    'reload.rss_growth_mb_500',
    "the owner's RSS after 500 more reloads, after GC",
    '< 10',
    (v) => v < 10,
  ],
  [
    'reload_synthetic.p50_ms',
    'the library alone (no window, a tiny renderer): save → frame, p50',
    '',
    null,
  ],
  [
    'channel.async_rtt_p50_us',
    'round trip between two processes, `await recv()` / `for await` on both sides, p50',
    '',
    null,
  ],
  ['channel.async_rtt_p99_us', '… p99', '≤ ½ of process.send', null],
  ['channel.async_rtt_p50_vs_process_send', '`process.send` p50 ÷ ours', '', null],
  ['channel.async_rtt_p99_vs_process_send', '`process.send` p99 ÷ ours', '≥ 2×', (v) => v >= 2],
  ['channel.async_rtt_p50_vs_uds', 'Unix socket p50 ÷ ours', '', null],
  [
    'channel.sync_spin_rtt_p50_us',
    'round trip, both sides spinning in `recvSync`, p50',
    '≤ 5',
    (v) => v <= 5,
  ],
  ['channel.sync_spin_rtt_p99_us', '… p99', '', null],
  ['channel.throughput_msgs_per_s', '16-byte messages, one way', '≥ 1 M/s', (v) => v >= 1e6],
  ['channel.throughput_vs_process_send', '… ÷ `process.send`', '', null],
  ['channel.parked_cpu_percent', 'a receiver parked for 5 s', '< 1 %', (v) => v < 1],
  [
    'frames.handoff_1080p_fps',
    '1920×1080 frames renderer → owner, never torn',
    '≥ 200',
    (v) => v >= 200,
  ],
  ['frames.handoff_vs_process_send', '… ÷ `process.send` of the frame', '', null],
  ['region.open_ms', "open + validate + bind the example's state", '< 5', (v) => v < 5],
  ['field.u32_access_ratio', 'a u32 field get+set ÷ a plain `Uint32Array`', '≤ 3×', (v) => v <= 3],
  [
    'slice.fill_1080p_ratio',
    'filling a 1080p slice ÷ a plain typed array',
    '≤ 1.5×',
    (v) => v <= 1.5,
  ],
  ['owner.frame_ms_300', "the owner's own work per frame, 300×300", '< 1', (v) => v < 1],
  ['owner.frame_ms_1080p', '… at 1920×1080', '< 2', (v) => v < 2],
  [
    'owner.loop_delay_p99_ms',
    "the owner's event-loop delay while rendering at 60 fps, p99",
    '< 20',
    (v) => v < 20,
  ],
  ['owner.rss_mb', 'the owner as `pnpm dev` runs it', '< 150', (v) => v < 150],
];

function format(value, unit) {
  const abs = Math.abs(value);
  const n =
    Number.isInteger(value) || abs >= 1000
      ? Math.round(value).toLocaleString('en-US')
      : abs >= 100
        ? value.toFixed(0)
        : abs >= 10
          ? value.toFixed(1)
          : value.toPrecision(3);
  return unit === '×' ? `${n}×` : `${n} ${unit}`;
}

export function table(results) {
  const meta = results._meta;
  const lines = [];
  lines.push(
    meta
      ? `From \`pnpm bench\` on ${meta.date}: Node ${meta.node}, ${meta.cores} cores, ${meta.os}. Each ratio's baseline was measured in the same run.`
      : 'From `pnpm bench` (the results file does not say which machine or Node).',
  );
  lines.push('');
  lines.push('| metric | what | figure | floor | baseline (same run) |');
  lines.push('| --- | --- | --- | --- | --- |');
  for (const [id, what, floor, meets] of ROWS) {
    const m = results[id];
    if (!m) continue;
    const verdict = meets === null ? '' : meets(m.value) ? '' : ' — **misses**';
    lines.push(
      `| \`${id}\` | ${what} | **${format(m.value, m.unit)}**${verdict} | ${floor} | ${(m.baseline ?? '').replaceAll('|', '\\|')} |`,
    );
  }
  return lines.join('\n');
}

function main() {
  const check = process.argv.includes('--check');
  const results = JSON.parse(readFileSync(resultsPath, 'utf8'));
  const readme = readFileSync(readmePath, 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) {
    console.error(`README.md: expected the markers ${START} … ${END}`);
    process.exit(1);
  }
  const next = `${readme.slice(0, start + START.length)}\n${table(results)}\n${readme.slice(end)}`;
  if (check) {
    if (next !== readme) {
      console.error(
        'README.md: the figures table is not what bench-results.json says; run `pnpm figures` (after `pnpm bench`)',
      );
      process.exit(1);
    }
    console.log('figures: the README table matches bench-results.json');
    return;
  }
  writeFileSync(readmePath, next);
  console.log('figures: README table written from bench-results.json');
}

main();
