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
  /**
   * Rows whose renderers were killed while messages flowed: what each channel delivery lost to
   * the kills (messages taken by a renderer that died before it used them).
   */
  delivery?: { taken: DeliveryLoss; handled: DeliveryLoss };
}

export interface DeliveryLoss {
  /** Messages sent on a channel of this delivery while renderers were killed. */
  readonly sent: number;
  /** Of those, taken away by a renderer that died (with 'handled': dropped as poison, or lost). */
  readonly lost: number;
  /** Renderer kills meanwhile. */
  readonly kills: number;
}

/** `0.42 per kill (84 of 31200)`, or '' for a row without delivery figures. */
export function lossPerKill(d: DeliveryLoss | undefined): string {
  if (d === undefined) return '';
  const per = d.kills === 0 ? 0 : d.lost / d.kills;
  return `${per.toFixed(2)} (${d.lost} of ${d.sent})`;
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
    "lost per kill, 'taken'",
    "lost per kill, 'handled'",
  ];
  const body = report.rows.map((r) => [
    ...[r.fault, r.injected, r.survived, r.lost, r.torn, r.orphaned, r.leaked].map(String),
    lossPerKill(r.delivery?.taken),
    lossPerKill(r.delivery?.handled),
  ]);
  const total = [
    'total',
    ...[1, 2, 3, 4, 5, 6].map((i) => String(body.reduce((s, row) => s + Number(row[i]), 0))),
    '',
    '',
  ];
  const rows = [head, ...body, total];
  const widths = head.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]): string =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(head), sep, ...body.map(line), line(total)].join('\n');
}
