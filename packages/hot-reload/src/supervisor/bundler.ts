/**
 * The reload path's compiler: one incremental esbuild context per reloadable entry, kept in memory
 * (tsup is for packaging; its CLI alone costs more than a whole reload). Sources of the workspace,
 * including the state definition and any workspace package the renderer imports, are bundled;
 * packages installed in node_modules (koffi and its native binary, for one) stay external and are
 * imported by file URL (a Windows path such as C:\… is no ESM specifier), so the bundle can live
 * in a temporary folder and still share the process's module cache with the runner that loaded
 * them first.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';

export interface BuildOutput {
  readonly code: string;
  /** SHA-256 of the output: an identical rebuild (a `touch`, a save without changes) is skipped. */
  readonly hash: string;
  /** Every source file the bundle was made of: what the watcher must watch. */
  readonly inputs: readonly string[];
  readonly ms: number;
}

/** A build that failed; `messages` are esbuild's, formatted with file, line and a code frame. */
export class BuildFailure extends Error {
  readonly messages: readonly string[];
  readonly locations: readonly string[];
  readonly ms: number;
  constructor(messages: string[], locations: string[], ms = 0) {
    super(messages.join('\n'));
    this.name = 'BuildFailure';
    this.messages = messages;
    this.locations = locations;
    this.ms = ms;
  }
}

const BANNER = [
  // Bundled CommonJS code may call require(); give it one that resolves from the bundle's place.
  "import { createRequire as __hotshmCreateRequire } from 'node:module';",
  'const require = __hotshmCreateRequire(import.meta.url);',
].join('\n');

/** Marks bare imports that resolve into node_modules as external, by file URL. */
export function externalizeInstalledPackages(): esbuild.Plugin {
  return {
    name: 'hotshm-externalize-installed',
    setup(build) {
      build.onResolve({ filter: /^[^./]|^\.[^./]|^\.\.[^/]/ }, async (args) => {
        if (args.pluginData === 'hotshm-inner' || args.path.startsWith('node:')) return undefined;
        // An entry point, or an absolute Windows path ('C:\…' looks bare to the filter above).
        if (args.kind === 'entry-point' || isAbsolute(args.path)) return undefined;
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'hotshm-inner',
        });
        if (r.errors.length > 0 || !r.path || r.external)
          return r.errors.length > 0 ? { errors: r.errors } : undefined;
        // Workspace packages are symlinks that resolve outside node_modules: those are bundled.
        // So is TypeScript, which Node does not run from node_modules (a package that ships its
        // sources, or a workspace link that does not resolve, as under Wine).
        const real = safeRealpath(r.path);
        const installed = real.includes('/node_modules/') || real.includes('\\node_modules\\');
        if (!installed || /\.[cm]?tsx?$/.test(real)) return { path: real };
        return { path: pathToFileURL(real).href, external: true };
      });
    },
  };
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

export interface Bundler {
  build(): Promise<BuildOutput>;
  dispose(): Promise<void>;
}

/**
 * esbuild is loaded on first use: renderer bundles include this library (through the state
 * definition) and must not pay for loading a compiler they never call.
 */
export const loadEsbuild = (): Promise<typeof esbuild> => import('esbuild');

/** Where a standby runner leaves its own copy of this library for the bundles it imports. */
export const LIBRARY_KEY = 'hotshm.library';
export const LIBRARY_NAME = '@hotshm/hot-reload';

/**
 * Resolves imports of this library to the copy the standby runner already loaded: the bundle then
 * holds only the app's code (a rebuild is a few milliseconds, an import too), and the renderer
 * shares the runner's classes, its mapped region and its futex bindings. The export names are
 * those of the library the owner runs, which is the same code the runner was built from.
 */
function shareLibrary(exportNames: readonly string[]): esbuild.Plugin {
  return {
    name: 'hotshm-share-library',
    setup(build) {
      build.onResolve({ filter: /^@hotshm\/hot-reload$/ }, () => ({
        path: LIBRARY_NAME,
        namespace: 'hotshm-library',
      }));
      build.onLoad({ filter: /.*/, namespace: 'hotshm-library' }, () => ({
        loader: 'js',
        contents: [
          `const lib = globalThis[Symbol.for(${JSON.stringify(LIBRARY_KEY)})];`,
          `if (!lib) throw new Error('hotshm: this bundle runs only in a standby process started by the supervisor');`,
          `export const { ${exportNames.join(', ')} } = lib;`,
        ].join('\n'),
      }));
    },
  };
}

export interface BundlerOptions {
  /** Export names of this library, to import it from the standby runner instead of bundling it. */
  readonly sharedLibraryExports?: readonly string[];
}

export async function createBundler(entry: string, options: BundlerOptions = {}): Promise<Bundler> {
  const esbuild = await loadEsbuild();
  const absEntry = isAbsolute(entry) ? entry : resolvePath(entry);
  const ctx = await esbuild.context({
    entryPoints: [absEntry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    sourcemap: 'inline',
    sourcesContent: false,
    logLevel: 'silent',
    banner: { js: BANNER },
    plugins: [
      ...(options.sharedLibraryExports ? [shareLibrary(options.sharedLibraryExports)] : []),
      externalizeInstalledPackages(),
    ],
    outfile: 'bundle.mjs',
  });
  return {
    async build(): Promise<BuildOutput> {
      const t0 = performance.now();
      let result: esbuild.BuildResult<{ write: false; metafile: true }>;
      try {
        result = (await ctx.rebuild()) as esbuild.BuildResult<{ write: false; metafile: true }>;
      } catch (e) {
        const failure = e as esbuild.BuildFailure;
        if (!Array.isArray(failure.errors)) throw e;
        const formatted = await esbuild.formatMessages(failure.errors, {
          kind: 'error',
          color: false,
        });
        const locations = failure.errors.map((m) =>
          m.location
            ? `${resolvePath(m.location.file)}:${m.location.line}:${m.location.column + 1}`
            : '(no location)',
        );
        throw new BuildFailure(formatted, locations, performance.now() - t0);
      }
      const file = result.outputFiles[0];
      if (!file) throw new BuildFailure(['esbuild produced no output'], []);
      const code = file.text;
      const cwd = process.cwd();
      const inputs = Object.keys(result.metafile.inputs)
        // Skip 'namespace:path' inputs (the shared library); 'C:' is a drive, not a namespace.
        .filter((p) => !p.includes('node_modules') && !/^[^:/\\]{2,}:/.test(p))
        .map((p) => resolvePath(cwd, p));
      return {
        code,
        hash: createHash('sha256').update(code).digest('hex'),
        inputs,
        ms: performance.now() - t0,
      };
    },
    async dispose() {
      await ctx.dispose();
    },
  };
}
