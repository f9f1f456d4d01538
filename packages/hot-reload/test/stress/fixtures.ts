/**
 * The renderer entry the stress owners run: a file in a temporary folder that calls the shared
 * renderer with a revision number. Rewriting it with another revision is a real source change:
 * the supervisor sees it, rebuilds, and swaps renderers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const RENDERER = fileURLToPath(new URL('./stress-renderer.ts', import.meta.url));

export function writeEntry(file: string, revision: number): void {
  writeFileSync(
    file,
    [
      `import { runRenderer } from ${JSON.stringify(RENDERER)};`,
      `export const REVISION = ${revision};`,
      'export async function main(): Promise<void> {',
      '  await runRenderer(REVISION);',
      '}',
      '',
    ].join('\n'),
  );
}

export function makeEntry(revision = 1): { dir: string; entry: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-stress-'));
  const entry = join(dir, 'entry.ts');
  writeEntry(entry, revision);
  return { dir, entry };
}

/** Renderer stderr: kept short (an out-of-memory report is long), never printed. */
export function stderrSink(): Writable & { text(): string } {
  let tail = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      tail = (tail + chunk.toString('utf8')).slice(-4096);
      done();
    },
  });
  return Object.assign(sink, { text: () => tail });
}

/** Supervisor options for stress owners: restart after every crash, without giving up. */
export const STRESS_SUPERVISOR = {
  // Every crash counts as "not quick", so the back-off stays at its first step (100 ms) and the
  // supervisor never parks waiting for a change: 200 kills in a row must each be restarted.
  quickCrashMs: 0,
  graceMs: 1000,
  // The allocating renderer dies at a small heap limit instead of taking the machine's memory.
  env: { NODE_OPTIONS: '--max-old-space-size=64' },
} as const;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `stepMs` until it returns a value other than undefined/false, or times out. */
export async function until<T>(
  check: () => T | undefined | false,
  timeoutMs: number,
  stepMs = 5,
): Promise<T | undefined> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) return undefined;
    await sleep(stepMs);
  }
}
