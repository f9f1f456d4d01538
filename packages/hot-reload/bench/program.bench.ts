/**
 * The program path against the bundle path, on a copy of the example's renderer (its entry and
 * draw.ts, importing the workspace's hot-reloaded-state, which imports this library by URL):
 *
 * - build.fast_p50_ms: a body edit of the entry (a colour constant), saved and built by the
 *   program builder's fast path (read, oxc's two transforms, maps composed, program assembled).
 * - build.esbuild_rebuild_p50_ms: the same edit rebuilt by today's bundler (an incremental esbuild
 *   context with inline source maps), beside it.
 * - build.full_p50_ms: an import edit (the full path: a one-shot esbuild build for the graph, then
 *   every file transformed).
 * - program.evaluate_p50_ms / program.import_bundle_p50_ms: in a fresh process warmed up as a
 *   standby is (the library loaded; `warmUpEvaluation()`, or the runner's warm module for the
 *   bundle), the example's program read from its JSON file and run, against `import()` of the
 *   bundle of the same code.
 * - program.three_evaluate_p50_ms / program.three_import_bundle_p50_ms: the same with the entry
 *   importing `three` whole; the program path's standby has preloaded the program's externals
 *   (`preloadExternals`), the bundle path imports three with the bundle, as standbys do today.
 * - library.build_ms: what every owner start spends building the runner and the public modules
 *   from the sources (a workspace; a published dist serves as it is, with no build).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { percentile, record } from '../../../scripts/bench-record.js';
import { createBundler } from '../src/host/build/bundler.js';
import { buildLibrary } from '../src/host/build/library.js';
import { createProgramBuilder } from '../src/host/build/program.js';

const EDITS = 60;
const WARM = 10;
const FRESH = 30;

const here = fileURLToPath(new URL('.', import.meta.url));
const impl = join(here, '..', '..', 'example-impl');
// Inside example-impl, so that `hot-reloaded-state` resolves as it does for the real entry.
const work = join(impl, 'node_modules', '.cache', 'hotshm-bench-program');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(join(impl, 'src'), join(work, 'src'), { recursive: true });
const entry = join(work, 'src', 'index.ts');
const original = readFileSync(entry, 'utf8');
if (!original.includes('rgb(1.0, 0.7, 0.0)'))
  throw new Error('the example entry changed: update the bench');
const edit = (i: number): void =>
  writeFileSync(entry, original.replace('rgb(1.0, 0.7, 0.0)', `rgb(1.0, 0.7, ${(i % 100) / 100})`));

const libraryMs: number[] = [];
let library = await buildLibrary(join(work, 'lib-0'));
libraryMs.push(library.ms);
for (let i = 1; i < 4; i++) {
  library = await buildLibrary(join(work, `lib-${i}`));
  libraryMs.push(library.ms);
}

const builder = createProgramBuilder(entry, { aliases: library.aliases });
const bundler = await createBundler(entry, { aliases: library.aliases, outDir: work });
await builder.build();
await bundler.build();

/** `save(i)` writes the file, then only `build(i)` is timed. */
async function timed(
  n: number,
  save: (i: number) => void,
  build: (i: number) => Promise<unknown>,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n + WARM; i++) {
    save(i);
    const t0 = performance.now();
    await build(i);
    if (i >= WARM) out.push(performance.now() - t0);
  }
  return out;
}

let fastPaths = 0;
const fast = await timed(EDITS, edit, async () => {
  await builder.build([entry]);
  if (builder.lastBuild?.path === 'fast') fastPaths++;
});
const rebuild = await timed(
  EDITS,
  (i) => edit(i + 1000),
  () => bundler.build(),
);
const IMPORT = "import 'node:path';\n";
const full = await timed(
  20,
  (i) => writeFileSync(entry, i % 2 === 0 ? `${IMPORT}${original}` : original),
  async () => {
    await builder.build([entry]);
    if (builder.lastBuild?.path !== 'full') throw new Error('an import edit took the fast path');
  },
);
if (fastPaths !== EDITS + WARM) throw new Error(`only ${fastPaths} body edits took the fast path`);

// What a standby would run: the program (JSON) and the bundle of the same source.
/** The program (JSON) and the bundle of the entry as `source` has it, as a standby would get them. */
async function artefacts(
  name: string,
  source: string,
): Promise<{ program: string; bundle: string }> {
  writeFileSync(entry, source);
  const program = join(work, `${name}.json`);
  writeFileSync(program, JSON.stringify(await builder.build([entry])));
  const bundle = join(work, `${name}.mjs`);
  writeFileSync(bundle, (await bundler.build()).code);
  return { program, bundle };
}
const example = await artefacts('example', original);
// The same renderer with `three` (1.3 MB of ESM) imported whole.
const withThree = await artefacts(
  'three',
  `import * as THREE from 'three';\n${original}\nexport const revision: string = THREE.REVISION;\n`,
);
writeFileSync(entry, original);
const runner = join(work, 'evaluate.mjs');
await esbuild.build({
  entryPoints: [join(here, '..', 'src', 'host', 'build', 'evaluate.ts')],
  outfile: runner,
  bundle: true,
  platform: 'node',
  format: 'esm',
  logLevel: 'silent',
});
await builder.dispose();
await bundler.dispose();
const child = join(work, 'fresh.mjs');
writeFileSync(
  child,
  `import { readFileSync } from 'node:fs';
const [mode, file] = process.argv.slice(2);
await import(${JSON.stringify(library.aliases['@hotshm/hot-reload'])});
const { evaluateProgram, preloadExternals, warmUpEvaluation } = await import(${JSON.stringify(pathToFileURL(runner).href)});
// Warm up as a standby does, each path its own way: the program path also preloads the
// program's externals (what the last program imported), the bundle path warms the loader up.
let program;
if (mode === 'program') {
  await warmUpEvaluation();
  await preloadExternals(JSON.parse(readFileSync(file, 'utf8')).externals);
} else {
  await import(${JSON.stringify(pathToFileURL(library.warm).href)});
}
const t0 = performance.now();
if (mode === 'program') await evaluateProgram(JSON.parse(readFileSync(file, 'utf8')));
else await import(new URL('file://' + file).href);
process.stdout.write(String(performance.now() - t0));
`,
);
/** p50 of `FRESH` fresh processes each way, alternating. */
function freshRuns(files: { program: string; bundle: string }): {
  program: number[];
  bundle: number[];
} {
  const out = { program: [] as number[], bundle: [] as number[] };
  for (let i = 0; i < FRESH; i++) {
    for (const mode of ['program', 'bundle'] as const) {
      const r = spawnSync(process.execPath, ['--enable-source-maps', child, mode, files[mode]], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`fresh ${mode} failed: ${r.stderr}`);
      out[mode].push(Number(r.stdout));
    }
  }
  return out;
}
const fresh = freshRuns(example);
const three = freshRuns(withThree);
rmSync(work, { recursive: true, force: true });

const p50 = (xs: number[]): number => percentile(xs, 50);
console.log(
  `program benchmark (the example's renderer; ${EDITS} body edits, 20 import edits, ${FRESH} fresh processes each way)`,
);
console.log(
  `  fast p95 ${percentile(fast, 95).toFixed(3)} ms, esbuild rebuild p95 ${percentile(rebuild, 95).toFixed(2)} ms, full p95 ${percentile(full, 95).toFixed(2)} ms`,
);
record({
  'build.fast_p50_ms': { value: p50(fast), unit: 'ms' },
  'build.esbuild_rebuild_p50_ms': { value: p50(rebuild), unit: 'ms' },
  'build.fast_vs_esbuild': {
    value: p50(rebuild) / p50(fast),
    unit: '×',
    baseline: "the bundler's incremental esbuild rebuild of the same edit",
    ratio: p50(rebuild) / p50(fast),
  },
  'build.full_p50_ms': { value: p50(full), unit: 'ms' },
  'program.evaluate_p50_ms': { value: p50(fresh.program), unit: 'ms' },
  'program.import_bundle_p50_ms': { value: p50(fresh.bundle), unit: 'ms' },
  'program.evaluate_vs_import': {
    value: p50(fresh.bundle) / p50(fresh.program),
    unit: '×',
    baseline: 'import() of the bundle of the same code in a fresh process',
    ratio: p50(fresh.bundle) / p50(fresh.program),
  },
  'program.three_evaluate_p50_ms': { value: p50(three.program), unit: 'ms' },
  'program.three_import_bundle_p50_ms': { value: p50(three.bundle), unit: 'ms' },
  'library.build_ms': { value: p50(libraryMs), unit: 'ms' },
});
