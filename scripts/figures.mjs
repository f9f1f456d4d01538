#!/usr/bin/env node
/**
 * The README's figures table, generated from bench-results.json (what the last `pnpm bench`
 * wrote), between the markers `<!-- figures:start -->` and `<!-- figures:end -->`, and, when
 * bench-results.node24.json exists, the reload figures of that run under Node 24 beside it. Never
 * typed by hand: `pnpm figures` rewrites them, and `pnpm figures --check` (run by `pnpm test`)
 * fails when the README says something the results files do not.
 *
 *   pnpm bench && pnpm figures     measure, then write the table
 *   PATH=<node 24>/bin:$PATH HOTSHM_BENCH_RESULTS=bench-results.node24.json pnpm bench reload.bench
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const readmePath = new URL('README.md', root);
const resultsPath = new URL('bench-results.json', root);
const node24Path = new URL('bench-results.node24.json', root);
const START = '<!-- figures:start -->';
const END = '<!-- figures:end -->';
const STRESS_START = '<!-- stress:start -->';
const STRESS_END = '<!-- stress:end -->';
const stressPath = new URL('stress-results.json', root);

/**
 * id, what it measures, the floor the issues set (a string with its comparison), and how a value
 * compares with it. Ids absent from the results are left out (a bench that did not run).
 */
const ROWS = [
  [
    'reload.p50_ms',
    '`pnpm dev` with its window: a save → the new frame in shared memory, p50 of in-place and atomic saves',
    '≤ 6',
    (v) => v <= 6,
  ],
  ['reload.p95_ms', '… p95', '≤ 10', (v) => v <= 10],
  ['reload.max_ms', '… the slowest of them', '≤ 25', (v) => v <= 25],
  ['reload.inplace_p50_ms', 'in-place saves (truncate, then write), p50', '', null],
  ['reload.inplace_p95_ms', '… p95', '', null],
  ['reload.atomic_p50_ms', 'atomic saves (a temporary file renamed over), p50', '', null],
  ['reload.atomic_p95_ms', '… p95', '', null],
  [
    'reload.formatter_ms',
    "a save, then a formatter's rewrite 20 ms later: the rewrite → its frame",
    '',
    null,
  ],
  ['reload.helper_p50_ms', 'an edit of a module the entry imports (draw.ts), p50', '', null],
  [
    'reload.phase_change_to_built_ms',
    "phases, p50 of the owner's reload lines: change seen → built",
    '',
    null,
  ],
  ['reload.phase_esbuild_ms', '… of which the rebuild (esbuild)', '', null],
  ['reload.phase_deliver_ms', '… handed over → the standby has the bundle', '', null],
  ['reload.phase_import_ms', "… the standby's import of the bundle", '', null],
  ['reload.phase_state_ms', '… imported → `main()` has its state, drew, and yielded', '', null],
  ['reload.phase_frame_ms', '… handed over → the first frame, as the owner saw it', '', null],
  [
    'reload.deps_p50_ms',
    'the same in-place saves, the entry importing `three` whole, p50',
    '≤ 10',
    (v) => v <= 10,
  ],
  ['reload.deps_p95_ms', '… p95', '', null],
  [
    'reload.deps_phase_import_ms',
    "… the standby's import of the bundle (three preloaded)",
    '',
    null,
  ],
  [
    'reload.deps_bun_hot_p50_ms',
    '`bun --hot` on a module importing `three` whole, saved the same way, p50',
    '',
    null,
  ],
  ['reload.deps_vs_bun_hot', "… Bun's p50 ÷ ours with `three`", '', null],
  [
    'reload.trivial_p50_ms',
    'a trivial module (fills the buffer, writes its version), saved in place, p50',
    '',
    null,
  ],
  [
    'reload.bun_hot_p50_ms',
    '`bun --hot` on the same module, saved the same way, p50 (in process, no isolation)',
    '',
    null,
  ],
  [
    'reload.vs_bun_hot',
    "… Bun's p50 ÷ ours (above 1 once hotshm is ahead)",
    'aim: > 1',
    (v) => v > 1,
  ],
  [
    'reload.burst_last_ms',
    '50 saves 20 ms apart: the last save → its frame',
    '≤ 40',
    (v) => v <= 40,
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
  ['reload.rss_warmup_mb', "the owner's RSS over its first reloads, to its working size", '', null],
  [
    'reload.rss_growth_mb_500',
    '… then over 500 more reloads, each measured after a full and a memory-reducing GC (a leak would show here)',
    '< 10',
    (v) => v < 10,
  ],
  [
    'migrate.p50_ms',
    "`pnpm dev` with its window: a save of the state definition (a field added, then removed) → the new renderer's first frame on the new region, p50",
    '≤ 25',
    (v) => v <= 25,
  ],
  ['migrate.p95_ms', '… p95', '≤ 50', (v) => v <= 50],
  ['migrate.max_ms', '… the slowest of them', '', null],
  ['migrate.owner_p50_ms', "… the owner's own figure for them (its one line), p50", '', null],
  [
    'migrate.cold_starts',
    '… renderers of those migrations that waited for a cold process',
    '',
    null,
  ],
  [
    'migrate.copy_ms_1080p',
    'carrying a state with a 1920×1080 framebuffer and a full 1024-message channel over, p50',
    '≤ 5',
    (v) => v <= 5,
  ],
  ['migrate.prepare_ms_1080p', '… making and preparing the new region for it, p50', '', null],
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
  [
    'canvas.frame_ms_300',
    "the canvas template's frame, 300×300: Skia drawing + hand-over into the framebuffer, p50",
    '≤ 1',
    (v) => v <= 1,
  ],
  ['canvas.draw_ms_300', '… the drawing', '', null],
  ['canvas.handover_ms_300', '… the hand-over (`present()`: one copy, publish)', '', null],
  ['canvas.frame_ms_1080p', '… at 1920×1080', '≤ 4', (v) => v <= 4],
  ['canvas.draw_ms_1080p', '… the drawing', '', null],
  ['canvas.handover_ms_1080p', '… the hand-over', '', null],
  [
    'canvas.draw_bgra_vs_rgba_1080p',
    '… the drawing into an argb8888 framebuffer ÷ into abgr8888',
    '',
    null,
  ],
  [
    'canvas.handover_vs_js_loop_1080p',
    '… a hand-over converting each pixel in JavaScript ÷ ours',
    '',
    null,
  ],
  ['region.open_ms', "open + validate + bind the example's state", '< 5', (v) => v < 5],
  ['field.u32_access_ratio', 'a u32 field get+set ÷ a plain `Uint32Array`', '≤ 3×', (r) => r <= 3],
  [
    'slice.fill_1080p_ratio',
    'filling a 1080p slice ÷ a plain typed array',
    '≤ 1.5×',
    (r) => r <= 1.5,
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
  [
    'owner.idle_cpu_percent',
    "the owner's CPU over 10 s of `pnpm dev` with no edits, no input and a static frame, % of a core",
    '≤ 2',
    (v) => v <= 2,
  ],
  ['owner.launcher_idle_cpu_percent', '… the `hotshm dev` launcher above it', '', null],
  ['renderer.idle_cpu_percent', '… the renderer that drew the frame', '', null],
  ['renderer.standbys_idle_cpu_percent', '… the standby processes, together', '', null],
];

/**
 * Ids ending in `_ratio` are ratios: their floor applies to `ratio`, and the figure shows the ratio
 * first, then the time it was computed from (`value`, `unit`).
 */
const isRatio = (id, m) => id.endsWith('_ratio') && typeof m.ratio === 'number';

/**
 * A Markdown table laid out as Biome formats one (`biome check` runs over the README): each column
 * padded to its widest cell, `---:` columns aligned right.
 */
export function markdownTable(head, align, rows) {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(3, ...all.map((r) => [...r[c]].length)));
  const pad = (cell, c) => {
    const fill = ' '.repeat(widths[c] - [...cell].length);
    return align[c] === 'right' ? fill + cell : cell + fill;
  };
  const line = (r) => `| ${r.map(pad).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (align[c] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

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

export function table(results, only = () => true) {
  const meta = results._meta;
  const lines = [];
  lines.push(
    meta
      ? `From \`pnpm bench\` on ${meta.date}: Node ${meta.node}, ${meta.cores} cores, ${meta.os}. Each ratio's baseline was measured in the same run.`
      : 'From `pnpm bench` (the results file does not say which machine or Node).',
  );
  lines.push('');
  const rows = [];
  for (const [id, what, floor, meets] of ROWS) {
    if (!only(id)) continue;
    const m = results[id];
    if (!m) continue;
    const ratio = isRatio(id, m);
    const compared = ratio ? m.ratio : m.value;
    const verdict = meets === null ? '' : meets(compared) ? '' : ' — **misses**';
    const figure = ratio
      ? `**${format(m.ratio, '×')}** (${format(m.value, m.unit)})`
      : `**${format(m.value, m.unit)}**`;
    rows.push([
      `\`${id}\``,
      what,
      figure + verdict,
      floor,
      (m.baseline ?? '').replaceAll('|', '\\|'),
    ]);
  }
  lines.push(
    markdownTable(
      ['metric', 'what', 'figure', 'floor', 'baseline (same run)'],
      ['left', 'left', 'left', 'left', 'left'],
      rows,
    ),
  );
  return lines.join('\n');
}

/** The long `pnpm stress` run: its table and its notes, as the harness wrote them. */
export function stressTable(report) {
  // The delivery columns only for a report that has them (older results files do not).
  const withDelivery = report.rows.some((r) => r.delivery !== undefined);
  const head = [
    'fault',
    'injected',
    'survived',
    'messages lost',
    'frames torn',
    'processes orphaned',
    'regions leaked',
    ...(withDelivery ? ["lost per kill, 'taken'", "lost per kill, 'handled'"] : []),
  ];
  const keys = ['injected', 'survived', 'lost', 'torn', 'orphaned', 'leaked'];
  // What each channel delivery lost to renderer kills (rows that have it), as table.ts shows it.
  const perKill = (d) =>
    d === undefined
      ? ''
      : `${(d.kills === 0 ? 0 : d.lost / d.kills).toFixed(2)} (${d.lost} of ${d.sent})`;
  const body = report.rows.map((r) => [
    r.fault,
    ...keys.map((k) => String(r[k])),
    ...(withDelivery ? [perKill(r.delivery?.taken), perKill(r.delivery?.handled)] : []),
  ]);
  const total = [
    'total',
    ...keys.map((k) => String(report.rows.reduce((n, r) => n + r[k], 0))),
    ...(withDelivery ? ['', ''] : []),
  ];
  const meta = report._meta;
  return [
    `A long run: \`pnpm stress\`, ${Math.round(report.seconds)} s${meta ? `, ${meta.date}, Node ${meta.node}, ${meta.cores} cores` : ''}.`,
    '',
    markdownTable(
      head,
      head.map((_, i) => (i === 0 ? 'left' : 'right')),
      [...body, total],
    ),
    '',
    'What the harness reported beside the table:',
    '',
    ...report.notes.map((n) => `- ${n}`),
  ].join('\n');
}

function between(text, start, end, body, file) {
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    console.error(`README.md: expected the markers ${start} … ${end} (for ${file})`);
    process.exit(1);
  }
  return `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`;
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
  let body = table(results);
  if (existsSync(node24Path)) {
    const n24 = JSON.parse(readFileSync(node24Path, 'utf8'));
    body += `\n\nThe reload figures again, under Node ${n24._meta?.node ?? '24'} (\`bench-results.node24.json\`):\n\n`;
    body += table(n24, (id) => id.startsWith('reload.'))
      .split('\n')
      .slice(2)
      .join('\n');
  }
  let next = `${readme.slice(0, start + START.length)}\n${body}\n${readme.slice(end)}`;
  if (existsSync(stressPath)) {
    const stress = JSON.parse(readFileSync(stressPath, 'utf8'));
    next = between(next, STRESS_START, STRESS_END, stressTable(stress), 'stress-results.json');
  }
  if (check) {
    if (next !== readme) {
      console.error(
        'README.md: the figures are not what bench-results.json and stress-results.json say; run `pnpm figures` (after `pnpm bench` or `pnpm stress`)',
      );
      process.exit(1);
    }
    console.log('figures: the README matches bench-results.json and stress-results.json');
    return;
  }
  writeFileSync(readmePath, next);
  console.log('figures: README table written from bench-results.json');
}

main();
