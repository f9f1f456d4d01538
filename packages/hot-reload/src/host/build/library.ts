/**
 * Builds, once per owner, what renderers run on: the standby runner, the worker entry, and this
 * library's public modules, as plain JavaScript in the owner's temporary folder. One esbuild
 * build with code splitting, so the runner and every public module share their chunks: a bundle
 * that imports `@hotshm/hot-reload` (or a subpath) by the URL of these modules gets, in a standby,
 * the very module instances the runner loaded while it was warming up — its mapped region, its
 * futex bindings, its compiled code. Renderer bundles then hold only the app's own code.
 *
 * Whether this library runs from its TypeScript sources (a workspace) or from its published
 * `dist`, the same build makes the same files, and standbys start with bare `node`: no TypeScript
 * loader on the reload path.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';
import { SpawnError } from '../../errors.js';
import { installedPackagesPlugin, loadEsbuild } from './bundler.js';
import { HOST_MODULES, LIBRARY_NAME, PUBLIC_MODULES, WARM_MODULE } from './modules.js';

export interface LibraryBuild {
  /** The standby runner to start with `node`. */
  readonly runner: string;
  /** The worker thread's entry module. */
  readonly worker: string;
  /** A tiny module with an inline source map that a runner imports to warm its loader up. */
  readonly warm: string;
  /** Import specifier of each public module → the file URL of its built copy. */
  readonly aliases: Readonly<Record<string, string>>;
  readonly ms: number;
}

/**
 * Where this library's sources are: beside this module (TypeScript in a workspace, or dist),
 * or, when the library was bundled into an app, in the installed package.
 */
export function librarySources(): { root: string; ext: '.ts' | '.js'; layout: 'src' | 'dist' } {
  const here = fileURLToPath(import.meta.url);
  const roots: string[] = [];
  // src/host/build/library.ts → src; dist/<chunk>.js → dist
  if (here.endsWith('.ts')) roots.push(join(dirname(here), '..', '..'));
  else roots.push(dirname(here));
  try {
    const pkg = createRequire(import.meta.url).resolve(`${LIBRARY_NAME}/package.json`);
    roots.push(join(dirname(pkg), 'src'), join(dirname(pkg), 'dist'));
  } catch {
    // not installed as a package: the folder beside this module is all there is
  }
  for (const root of roots) {
    if (existsSync(join(root, 'index.ts')) && existsSync(join(root, 'host'))) {
      return { root, ext: '.ts', layout: 'src' };
    }
    if (existsSync(join(root, 'runner.js')) && existsSync(join(root, 'index.js'))) {
      return { root, ext: '.js', layout: 'dist' };
    }
  }
  throw new SpawnError(
    `cannot find the sources of ${LIBRARY_NAME} to build the renderer runner; looked in ${roots.join(', ')}`,
  );
}

/**
 * The optional peer dependencies of public modules (`/canvas` imports canvaskit-wasm): when the
 * app has not installed one, its import stays as it is, so the build succeeds and the module says
 * what is missing when a renderer uses it (`CanvasError`).
 */
const OPTIONAL_PEERS = /^canvaskit-wasm$/;
export const optionalPeers: esbuild.Plugin = {
  name: 'hotshm-optional-peers',
  setup(build) {
    build.onResolve({ filter: OPTIONAL_PEERS }, async (args) => {
      // Our own look-up, or the installed-packages plugin's (it resolves through every plugin).
      if (args.pluginData === 'hotshm-optional' || args.pluginData === 'hotshm-inner') {
        return undefined;
      }
      const r = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'hotshm-optional',
      });
      if (r.errors.length > 0) return { path: args.path, external: true };
      return { path: r.path, external: r.external };
    });
  },
};

export async function buildLibrary(dir: string): Promise<LibraryBuild> {
  const t0 = performance.now();
  const esbuild = await loadEsbuild();
  const { root, ext, layout } = librarySources();
  const outdir = join(dir, 'lib');
  mkdirSync(outdir, { recursive: true });
  const entryPoints: Record<string, string> = {};
  const names: Record<string, string> = {};
  for (const [specifier, files] of Object.entries(PUBLIC_MODULES)) {
    const name = files.dist;
    entryPoints[name] = join(root, `${files[layout]}${ext}`);
    names[specifier] = name;
  }
  for (const [name, files] of Object.entries(HOST_MODULES)) {
    entryPoints[name] = join(root, `${files[layout]}${ext}`);
  }
  try {
    await esbuild.build({
      entryPoints,
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      sourcemap: 'inline',
      sourcesContent: false,
      logLevel: 'silent',
      plugins: [optionalPeers, installedPackagesPlugin().plugin],
    });
  } catch (e) {
    throw new SpawnError(
      `could not build the renderer runner from ${root}: ${(e as Error).message.split('\n')[0]}`,
      { cause: e },
    );
  }
  const warm = join(outdir, WARM_MODULE);
  // A real file with a source map, imported once by each standby while it waits: the first
  // import of a file (and the first source map) costs a fresh process a few milliseconds of
  // lazy compilation in Node's own loader, which would otherwise land on the first reload.
  const map = Buffer.from(
    JSON.stringify({ version: 3, sources: ['warm.ts'], names: [], mappings: 'AAAA' }),
  ).toString('base64');
  // Spelled in two parts: tools that look for a source-map comment in THIS file must not find one.
  writeFileSync(
    warm,
    `export const warm = 1;\n//# ${'sourceMappingURL'}=data:application/json;base64,${map}\n`,
  );
  const aliases: Record<string, string> = {};
  for (const [specifier, name] of Object.entries(names)) {
    aliases[specifier] = pathToFileURL(join(outdir, `${name}.mjs`)).href;
  }
  return {
    runner: join(outdir, 'runner.mjs'),
    worker: join(outdir, 'worker.mjs'),
    warm,
    aliases,
    ms: performance.now() - t0,
  };
}
