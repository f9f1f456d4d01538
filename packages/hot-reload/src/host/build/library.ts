/**
 * Builds, once per owner, what renderers run on: the standby runner, the worker entry, and this
 * library's public modules, as plain JavaScript in the owner's temporary folder. One esbuild
 * build with code splitting, so the runner and every public module share their chunks: a bundle
 * that imports `@hotshm/hot-reload` (or a subpath) by the URL of these modules gets, in a standby,
 * the very module instances the runner loaded while it was warming up — its mapped region, its
 * futex bindings, its compiled code. Renderer bundles then hold only the app's own code.
 *
 * Running from its published `dist`, the library needs no build: tsup made the same files with
 * the same shared chunks, and they serve as they are (`distLibrary`). From its TypeScript sources
 * (a workspace), the build runs at every owner start, and standbys start with bare `node`: no
 * TypeScript loader on the reload path.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SpawnError } from '../../errors.js';
import { installedPackagesPlugin } from './bundler.js';
import { HOST_MODULES, LIBRARY_NAME, PUBLIC_MODULES } from './modules.js';
import { leaseEsbuild } from './service.js';

export interface LibraryBuild {
  /** The standby runner to start with `node`. */
  readonly runner: string;
  /** The worker thread's entry module. */
  readonly worker: string;
  /** A tiny module with a source map that a runner imports to warm its loader up (warm.ts). */
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
 * What renderers run on. Running from the published package, its `dist` serves as it is: the
 * runner, the worker entry and the public modules are files tsup made with shared chunks, so
 * nothing is built and nothing is written (an owner start saves the ~200 ms a build costs here).
 * From the TypeScript sources (a workspace: Node 20 cannot run them), one esbuild build into
 * `dir`.
 */
export async function buildLibrary(dir: string): Promise<LibraryBuild> {
  const t0 = performance.now();
  // Running from a build of itself (`hotshm dev` builds one for the owners it starts), the
  // library serves that build as it is: its renderers run on the owner's own copy.
  const built = builtHere();
  if (built !== undefined) return distLibrary(built, t0, '.mjs');
  const sources = librarySources();
  return sources.layout === 'dist' ? distLibrary(sources.root, t0) : buildFrom(sources, dir, t0);
}

/** The folder of the library build this module runs from, if it runs from one. */
function builtHere(): string | undefined {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.mjs')) return undefined;
  const dir = dirname(here);
  const names = [HOST_MODULES.runner.dist, PUBLIC_MODULES[LIBRARY_NAME]?.dist ?? 'index'];
  return names.every((n) => existsSync(join(dir, `${n}.mjs`))) ? dir : undefined;
}

/**
 * The library as the published `dist` at `root` has it (or a build of it, `ext` '.mjs'); a
 * `SpawnError` names a missing file.
 */
export function distLibrary(root: string, t0 = performance.now(), ext = '.js'): LibraryBuild {
  const file = (name: string): string => join(root, `${name}${ext}`);
  const missing = [...Object.values(HOST_MODULES), ...Object.values(PUBLIC_MODULES)]
    .map((f) => file(f.dist))
    .filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new SpawnError(
      `the published ${LIBRARY_NAME} in ${root} is incomplete: expected ${missing.join(', ')} (reinstall the package)`,
    );
  }
  const aliases: Record<string, string> = {};
  for (const [specifier, files] of Object.entries(PUBLIC_MODULES)) {
    aliases[specifier] = pathToFileURL(file(files.dist)).href;
  }
  return {
    runner: file(HOST_MODULES.runner.dist),
    worker: file(HOST_MODULES.worker.dist),
    warm: file(HOST_MODULES.warm.dist),
    aliases,
    ms: performance.now() - t0,
  };
}

/** One esbuild build of the TypeScript sources into `dir`/lib (a workspace). */
async function buildFrom(
  { root, ext, layout }: ReturnType<typeof librarySources>,
  dir: string,
  t0: number,
): Promise<LibraryBuild> {
  const lease = leaseEsbuild();
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
    const esbuild = await lease.esbuild;
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
      plugins: [installedPackagesPlugin().plugin],
    });
  } catch (e) {
    throw new SpawnError(
      `could not build the renderer runner from ${root}: ${(e as Error).message.split('\n')[0]}`,
      { cause: e },
    );
  } finally {
    lease.release();
  }
  const aliases: Record<string, string> = {};
  for (const [specifier, name] of Object.entries(names)) {
    aliases[specifier] = pathToFileURL(join(outdir, `${name}.mjs`)).href;
  }
  return {
    runner: join(outdir, `${HOST_MODULES.runner.dist}.mjs`),
    worker: join(outdir, `${HOST_MODULES.worker.dist}.mjs`),
    warm: join(outdir, `${HOST_MODULES.warm.dist}.mjs`),
    aliases,
    ms: performance.now() - t0,
  };
}
