/**
 * Builds an owner module for `hotshm dev` / `hotshm start`: one esbuild bundle, run by plain
 * `node` (no TypeScript loader lives in the owner for its whole run).
 *
 * - Installed packages stay external, imported by file URL (the renderer bundler's plugin), so
 *   the owner shares one copy of koffi and friends with everything else in its process; the
 *   owner's own files and workspace packages (symlinks resolving outside node_modules) are bundled.
 * - This library, when it runs from its TypeScript sources (the workspace), is built once (library.ts,
 *   as for renderers) into its own package's `.cache/hotshm-lib`, where what it resolves at run
 *   time (esbuild, its own name) resolves as from its sources, and imported by URL: an owner rebuild
 *   then compiles only the app's code (~35 ms instead of ~330 ms for the library's hundred files).
 *   Its sources are inputs all the same; a change to one builds the library again. Installed from
 *   npm, the library is an installed package like any other.
 * - `import.meta.url`, `.dirname` and `.filename` are each module's own source file's, as if it
 *   ran unbundled: a state that declares `reloadable: new URL('./renderer.ts', import.meta.url)`
 *   finds its renderer. They are replaced through esbuild's own `define` on each such file, so a
 *   string that merely spells `import.meta.url` is left alone.
 * - The bundle's folder is the owner package's `node_modules/.cache/hotshm`: a bundled `require()`
 *   and package names the owner resolves at run time resolve from there as from the owner.
 * - esbuild's service is leased for each build (build/service.ts) and so stopped after it: no
 *   esbuild process lives beside a launcher between builds (an owner rebuild is rare; the ~50 ms
 *   of a cold service do not matter).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, extname, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';
import { type BuildMessage, OwnerBuildError } from '../../errors.js';
import { installedPackagesPlugin } from '../build/bundler.js';
import { buildLibrary, librarySources } from '../build/library.js';
import { leaseEsbuild, loadEsbuild } from '../build/service.js';
import { changedSince, type Stamp, stamp } from '../process/builds.js';

export interface OwnerBuild {
  readonly code: string;
  /** SHA-256 of the code: a rebuild that changes nothing restarts nothing. */
  readonly hash: string;
  /** Every source file the bundle was made of (absolute): what the launcher watches. */
  readonly inputs: readonly string[];
  readonly ms: number;
}

export interface OwnerBuilder {
  /** The folder bundles are written to (inside the owner's package). */
  readonly outDir: string;
  /** Where library builds go (inside the library's package), if the library needs building. */
  readonly libraryDir: string | undefined;
  /** Throws OwnerBuildError, with esbuild's formatted messages, when the owner does not build. */
  build(): Promise<OwnerBuild>;
  /** Removes this process's library builds. */
  dispose(): void;
}

const BANNER = [
  "import { createRequire as __hotshmCreateRequire } from 'node:module';",
  'const require = __hotshmCreateRequire(import.meta.url);',
].join('\n');

const LOADERS: Record<string, esbuild.Loader> = {
  '.ts': 'ts',
  '.mts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.jsx': 'jsx',
};

/** The folder of the nearest package.json above `file` (the file's own folder if none). */
export function packageDirOf(file: string): string {
  for (let dir = dirname(file); ; ) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) return dirname(file);
    dir = up;
  }
}

/**
 * @example
 * const builder = ownerBuilder('/app/src/main.ts');
 * const { code, inputs } = await builder.build();
 */
export function ownerBuilder(entry: string): OwnerBuilder {
  const packageDir = packageDirOf(entry);
  const outDir = join(packageDir, 'node_modules', '.cache', 'hotshm');
  const sources = librarySources();
  const libraryDir =
    sources.layout === 'src' ? join(sources.root, '..', '.cache', 'hotshm-lib') : undefined;
  let library:
    | { aliases: Readonly<Record<string, string>>; stamps: Map<string, Stamp> }
    | undefined;
  let libraries = 0;
  const made: string[] = [];
  return {
    outDir,
    libraryDir,
    async build() {
      const t0 = performance.now();
      // One service for the library's build and the owner's; the last release stops it.
      const lease = leaseEsbuild();
      try {
        return await buildOnce(t0);
      } finally {
        await lease.release();
      }
    },
    dispose() {
      for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };

  async function buildOnce(t0: number): Promise<OwnerBuild> {
    if (libraryDir !== undefined && (!library || changedSince(library.stamps))) {
      // Stamped before esbuild reads them: an edit during the build builds it again next time.
      const stamps = new Map(librarySourceFiles(sources.root).map((f) => [f, stamp(f)]));
      const dir = join(libraryDir, `lib-${process.pid}-${++libraries}`);
      made.push(dir);
      library = { aliases: (await buildLibrary(dir)).aliases, stamps };
    }
    const esbuild = await loadEsbuild();
    let result: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      result = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        write: false,
        metafile: true,
        sourcemap: 'inline',
        logLevel: 'silent',
        banner: { js: BANNER },
        outfile: join(outDir, 'owner.mjs'),
        absWorkingDir: packageDir,
        alias: { ...library?.aliases },
        external: ['file:*'],
        plugins: [installedPackagesPlugin().plugin, moduleMetaPlugin(esbuild)],
      });
    } catch (e) {
      const failure = e as esbuild.BuildFailure;
      if (!Array.isArray(failure.errors)) throw e;
      const formatted = await esbuild.formatMessages(failure.errors, {
        kind: 'error',
        color: false,
      });
      const messages: BuildMessage[] = failure.errors.map((m, i) => ({
        text: formatted[i] ?? m.text,
        location: m.location
          ? `${resolvePath(packageDir, m.location.file)}:${m.location.line}:${m.location.column + 1}`
          : undefined,
      }));
      throw new OwnerBuildError(entry, messages);
    }
    const code = result.outputFiles[0]?.text ?? '';
    const inputs = Object.keys(result.metafile.inputs)
      .filter((p) => !/(^|[/\\])node_modules[/\\]/.test(p) && !/^[a-z][\w+.-]*:/i.test(p))
      .map((p) => resolvePath(packageDir, p));
    return {
      code,
      hash: createHash('sha256').update(code).digest('hex'),
      inputs: [...inputs, ...(library?.stamps.keys() ?? [])],
      ms: performance.now() - t0,
    };
  }
}

/** The library's own source files (what its build reads), tests aside. */
function librarySourceFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ts$/.test(f) && !/\.test\.ts$|test-helper\.ts$/.test(f))
    .map((f) => join(root, f));
}

/** Gives each bundled module its own `import.meta.url`, `.dirname` and `.filename`. */
function moduleMetaPlugin(es: typeof esbuild): esbuild.Plugin {
  return {
    name: 'hotshm-module-meta',
    setup(build) {
      build.onLoad({ filter: /\.(?:m?[jt]sx?)$/ }, async (args) => {
        if (/[/\\]node_modules[/\\]/.test(args.path)) return undefined;
        const loader = LOADERS[extname(args.path)];
        const source = readFileSync(args.path, 'utf8');
        if (loader === undefined || !source.includes('import.meta')) return undefined;
        const out = await es.transform(source, {
          loader,
          sourcefile: args.path,
          sourcemap: 'inline',
          define: {
            'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
            'import.meta.dirname': JSON.stringify(dirname(args.path)),
            'import.meta.filename': JSON.stringify(args.path),
          },
        });
        return { contents: out.code, loader: 'js', resolveDir: dirname(args.path) };
      });
    },
  };
}
