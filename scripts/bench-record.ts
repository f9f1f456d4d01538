/**
 * Shared by every package's benchmarks: `record()` merges figures into the file named by
 * HOTSHM_BENCH_OUT (the root `pnpm bench` sets it), and prints them, so each bench script also
 * runs alone.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface Metric {
  readonly value: number;
  readonly unit: string;
  /** What the ratio compares against, measured in the same run. */
  readonly baseline?: string;
  readonly ratio?: number;
}

export function record(metrics: Record<string, Metric>): void {
  for (const [id, m] of Object.entries(metrics)) {
    const ratio = m.ratio === undefined ? '' : `  (${m.ratio.toFixed(2)}× vs ${m.baseline})`;
    console.log(`  ${id.padEnd(36)} ${formatValue(m.value).padStart(12)} ${m.unit}${ratio}`);
  }
  const out = process.env.HOTSHM_BENCH_OUT;
  if (!out) return;
  let all: Record<string, Metric> = {};
  try {
    all = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Metric>;
  } catch {
    // first figures of the run
  }
  writeFileSync(out, `${JSON.stringify({ ...all, ...metrics }, null, 2)}\n`);
}

function formatValue(v: number): string {
  if (Number.isInteger(v) || Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toPrecision(4);
}

/** Percentile of an unsorted sample (nearest rank). */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}
