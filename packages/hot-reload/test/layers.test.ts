/**
 * The library's layers import one way only (README "How the code is laid out"):
 *
 *   errors, lifetime                 (no library imports)
 *   native                           (the C library, loaded one way; errors)
 *   schema · sync · memory           (the above; memory's header is a schema layout, else not each other)
 *   channel · frames                 (the three above)
 *   state                            (everything above; knows no host)
 *   canvas                           (frames and below: Skia drawing into a framebuffer)
 *   host                             (everything above)
 *   window                           (everything above: shows a state, knows its host's events)
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
  memory: [...LOW, 'schema'],
  channel: DATA,
  frames: DATA,
  state: [...DATA, 'channel', 'frames'],
  canvas: [...DATA, 'frames'],
  host: [...DATA, 'channel', 'frames', 'state'],
  window: [...DATA, 'channel', 'frames', 'state', 'host'],
  owner: [...DATA, 'channel', 'frames', 'state', 'host'],
  entry: [...DATA, 'channel', 'frames', 'state', 'host', 'window', 'owner', 'canvas', 'entry'],
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

/** Relative specifiers a source imports: `from '…'`, `import('…')`, `export … from '…'`. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)'(\.{1,2}\/[^']+)'/g)) {
    found.push(m[1]!);
  }
  return found;
}

/** Every import of `files` that points to a layer above its own, as `file (layer) imports spec (layer)`. */
function wrongImports(
  files: ReadonlyArray<{ readonly path: string; readonly text: string }>,
): string[] {
  const wrong: string[] = [];
  for (const { path, text } of files) {
    const from = layerOf(path);
    for (const spec of importsOf(text)) {
      const target = resolve(dirname(path), spec.replace(/\.js$/, '.ts'));
      const to = layerOf(target);
      if (to === from || ALLOWED[from]?.includes(to)) continue;
      wrong.push(`${relative(SRC, path)} (${from}) imports ${spec} (${to})`);
    }
  }
  return wrong;
}

describe('layers', () => {
  const files = sources(SRC).map((path) => ({ path, text: readFileSync(path, 'utf8') }));

  it('finds the source files and their imports', () => {
    expect(files.length).toBeGreaterThan(30);
    expect(files.some((f) => importsOf(f.text).length > 0)).toBe(true);
  });

  it('every import points to the same layer or one below', () => {
    expect(wrongImports(files)).toEqual([]);
  });

  it('the check catches an import upward, in every form, and passes one downward (it can fail)', () => {
    const at = (rel: string): string => join(SRC, ...rel.split('/'));
    const found = wrongImports([
      {
        // state importing the host layer, as define.ts once did to construct the supervisor.
        path: at('state/define.ts'),
        text: [
          "import { Supervisor } from '../host/supervisor/supervisor.js';",
          "import type { HostEvents } from '../host/events.js';",
          "export { reapOrphans } from '../host/orphans.js';",
          "const w = await import('../host/worker/worker-host.js');",
          "import { channel } from '../channel/index.js';",
          "import { layoutState } from './layout.js';",
        ].join('\n'),
      },
      { path: at('errors.ts'), text: "import { loadLibc } from './native/libc.js';" },
      { path: at('memory/region.ts'), text: "import { sharedWord } from '../sync/index.js';" },
      { path: at('host/temp.ts'), text: "import { onProcessExit } from '../lifetime.js';" },
    ]);
    expect(found).toEqual([
      'state/define.ts (state) imports ../host/supervisor/supervisor.js (host)',
      'state/define.ts (state) imports ../host/events.js (host)',
      'state/define.ts (state) imports ../host/orphans.js (host)',
      'state/define.ts (state) imports ../host/worker/worker-host.js (host)',
      'errors.ts (base) imports ./native/libc.js (native)',
      'memory/region.ts (memory) imports ../sync/index.js (sync)',
    ]);
  });
});
