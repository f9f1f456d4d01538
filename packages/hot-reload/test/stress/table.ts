/** The stress report: one row per kind of fault, and the table the issue asks for. */

export interface Row {
  fault: string;
  injected: number;
  survived: number;
  /** Messages lost (gaps), duplicated or out of order. */
  lost: number;
  /** Frames not uniform, or no frame shown after the first. */
  torn: number;
  /** Processes of a dead owner's tree alive more than a second after it. */
  orphaned: number;
  /** Regions of a dead owner still in /dev/shm after the next start. */
  leaked: number;
}

/** A row with nothing counted yet. */
export const blankRow = (fault: string): Row => ({
  fault,
  injected: 0,
  survived: 0,
  lost: 0,
  torn: 0,
  orphaned: 0,
  leaked: 0,
});

export interface Report {
  readonly mode: 'short' | 'long';
  readonly rows: readonly Row[];
  readonly notes: readonly string[];
  readonly seconds: number;
}

export function ok(report: Report): boolean {
  return report.rows.every(
    (r) =>
      r.injected > 0 &&
      r.survived === r.injected &&
      r.lost === 0 &&
      r.torn === 0 &&
      r.orphaned === 0 &&
      r.leaked === 0,
  );
}

export function formatTable(report: Report): string {
  const head = [
    'fault',
    'injected',
    'survived',
    'messages lost',
    'frames torn',
    'processes orphaned',
    'regions leaked',
  ];
  const body = report.rows.map((r) =>
    [r.fault, r.injected, r.survived, r.lost, r.torn, r.orphaned, r.leaked].map(String),
  );
  const total = [
    'total',
    ...[1, 2, 3, 4, 5, 6].map((i) => String(body.reduce((s, row) => s + Number(row[i]), 0))),
  ];
  const rows = [head, ...body, total];
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(head), sep, ...body.map(line), line(total)].join('\n');
}
