/**
 * The library's layers import one way only (README "How the code is laid out"):
 *
 *   errors, lifetime                 (no library imports)
 *   native                           (the C library, loaded one way; errors)
 *   schema · sync · memory           (the above; not each other)
 *   channel · frames                 (the three above)
 *   state                            (everything above; knows no host)
 *   canvas                           (frames and below: Skia drawing into a framebuffer)
 *   host                             (everything above)
 *   owner.ts                         (composes state and a host)
 *   index.ts, exports/               (the public entries)
 *
 * Every import of every source file, static or dynamic, is checked against that list. Biome's
 * noImportCycles (in `pnpm test`'s lint step) catches cycles inside a layer.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

/** The layer a source file belongs to. */
function layerOf(file: string): string {
  const rel = relative(SRC, file).replaceAll('\\', '/');
  const top = rel.split('/')[0]!;
  if (rel === 'errors.ts' || rel === 'lifetime.ts') return 'base';
  if (rel === 'owner.ts') return 'owner';
  if (rel === 'index.ts' || top === 'exports') return 'entry';
  return top;
}

const LOW = ['base', 'native'];
const DATA = [...LOW, 'schema', 'sync', 'memory'];
const ALLOWED: Record<string, readonly string[]> = {
  base: [],
  native: ['base'],
  schema: LOW,
  sync: LOW,
  memory: LOW,
  channel: DATA,
  frames: DATA,
  state: [...DATA, 'channel', 'frames'],
  canvas: [...DATA, 'frames'],
  host: [...DATA, 'channel', 'frames', 'state'],
  owner: [...DATA, 'channel', 'frames', 'state', 'host'],
  entry: [...DATA, 'channel', 'frames', 'state', 'host', 'owner', 'canvas', 'entry'],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.ts$/.test(name) && !/\.test\.ts$|test-helper\.ts$|test-context\.ts$/.test(name)
      ? [path]
      : [];
  });
}

/** Relative specifiers imported by `file`: `from '…'`, `import('…')`, `export … from '…'`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    found.push(m[1]!);
  }
  return found;
}

describe('layers', () => {
  const files = sources(SRC);

  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.some((f) => importsOf(f).length > 0)).toBe(true);
  });

  it('every import points to the same layer or one below', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const from = layerOf(file);
      for (const spec of importsOf(file)) {
        const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
        const to = layerOf(target);
        if (to === from || ALLOWED[from]?.includes(to)) continue;
        wrong.push(`${relative(SRC, file)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a layer that imports upward is caught (the check can fail)', () => {
    // state importing the host layer, as define.ts once did to construct the supervisor.
    const from = layerOf(join(SRC, 'state', 'define.ts'));
    const to = layerOf(join(SRC, 'host', 'supervisor', 'supervisor.ts'));
    expect(ALLOWED[from]?.includes(to)).toBe(false);
  });
});
