/**
 * The reload path's compiler: one incremental esbuild context per reloadable entry, kept in
 * memory (tsup is for packaging; its CLI alone costs more than a whole reload).
 *
 * What is bundled and what is not:
 *   - this library and its subpaths: never bundled. `alias` maps each public specifier to the
 *     URL of the owner's library build (see library.ts), and `external: ['file:*']` leaves those
 *     URLs as they are: in a standby they are the modules the runner already loaded.
 *   - installed packages (resolving into node_modules: koffi and its native binary, for one):
 *     external, imported by file URL, so the bundle can live anywhere and still share the
 *     process's module cache; a file URL is a valid ESM specifier on every OS, a `C:\` path is not.
 *   - everything else (the entry, its own modules, workspace packages linked outside
 *     node_modules, the state definition): bundled.
 *
 * Speed: esbuild calls back into JavaScript for every import a plugin claims, on every rebuild
 * (a round trip between esbuild's process and this one, ~0.3 ms each on two busy cores). So there
 * are two contexts. The full one resolves bare imports through a plugin (cached per importing
 * folder). Once it has built, a fast one is made without any plugin: the library and every
 * installed package it found become exact `alias` entries, workspace packages are left to esbuild's
 * own resolver. The fast context builds every save; its output is checked (no import it does not
 * know, nothing from node_modules bundled) and the full one rebuilds when a new package appears.
 *
 * The output has an inline source map whose paths are relative to the folder the bundle is
 * written to, so stack traces name the user's files.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';
import { BuildError, type BuildMessage } from '../../errors.js';
import { leaseEsbuild } from './service.js';

export interface BuildOutput {
  readonly code: string;
  /** SHA-256 of the output: an identical rebuild (a `touch`, a save without changes) is skipped. */
  readonly hash: string;
  /** Every source file the bundle was made of (absolute): what the watcher must watch. */
  readonly inputs: readonly string[];
  /** Names the entry exports. */
  readonly exports: readonly string[];
  readonly ms: number;
}

export { loadEsbuild } from './service.js';

const BANNER = [
  // Bundled CommonJS code may call require(); give it one that resolves from the bundle's place.
  "import { createRequire as __hotshmCreateRequire } from 'node:module';",
  'const require = __hotshmCreateRequire(import.meta.url);',
].join('\n');

/** Bare imports (`koffi`, `@scope/pkg/sub`) and the odd `.name` package. */
const BARE = /^[^./]|^\.[^./]|^\.\.[^/]/;

/**
 * Marks bare imports that resolve into node_modules as external, by file URL. Workspace packages
 * are symlinks that resolve outside node_modules: those are bundled. Resolutions are cached per
 * (importing folder, specifier) until `invalidate()` (a package installed or removed).
 */
export interface InstalledPackages {
  readonly plugin: esbuild.Plugin;
  invalidate(): void;
  /**
   * What each bare specifier resolved to, from every folder that imported it: a file URL
   * (installed, external) or `bundled` (a workspace package, or a file outside node_modules).
   */
  resolutions(): ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * For one importing file (absolute path), what each bare specifier it imports became (a file
   * URL, or the absolute path of a bundled file) → the specifier as written. esbuild's metafile
   * names a plugin's result without the specifier it came from.
   */
  specifiers(importer: string): ReadonlyMap<string, string> | undefined;
}

export function installedPackagesPlugin(): InstalledPackages {
  const cache = new Map<string, esbuild.OnResolveResult | undefined>();
  const seen = new Map<string, Set<string>>();
  const byImporter = new Map<string, Map<string, string>>();
  const record = (
    importer: string,
    specifier: string,
    out: esbuild.OnResolveResult | undefined,
  ) => {
    if (out?.path === undefined) return;
    let m = byImporter.get(importer);
    if (!m) {
      m = new Map();
      byImporter.set(importer, m);
    }
    m.set(out.path, specifier);
  };
  const plugin: esbuild.Plugin = {
    name: 'hotshm-installed-packages',
    setup(build) {
      build.onResolve({ filter: BARE }, async (args) => {
        if (args.pluginData === 'hotshm-inner' || args.path.startsWith('node:')) return undefined;
        // An entry point, or an absolute Windows path ('C:\\…' looks bare to the filter above).
        if (args.kind === 'entry-point' || isAbsolute(args.path)) return undefined;
        const key = `${args.resolveDir}\0${args.kind}\0${args.path}`;
        if (cache.has(key)) {
          const hit = cache.get(key);
          record(args.importer, args.path, hit);
          return hit;
        }
        const r = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: 'hotshm-inner',
        });
        if (r.errors.length > 0) return { errors: r.errors };
        let out: esbuild.OnResolveResult | undefined;
        if (!r.path || r.external) out = undefined;
        else {
          // Workspace packages are symlinks that resolve outside node_modules: bundled. So is
          // TypeScript, which Node does not run from node_modules (a package that ships its
          // sources, or a workspace link that does not resolve, as under Wine).
          const real = safeRealpath(r.path);
          out =
            isInstalled(real) && !isTypeScript(real)
              ? { path: pathToFileURL(real).href, external: true }
              : { path: real };
        }
        cache.set(key, out);
        record(args.importer, args.path, out);
        if (out !== undefined) {
          const to = out.external ? (out.path ?? '') : 'bundled';
          const set = seen.get(args.path) ?? new Set<string>();
          set.add(to);
          seen.set(args.path, set);
        }
        return out;
      });
    },
  };
  return {
    plugin,
    invalidate: () => {
      cache.clear();
      seen.clear();
      byImporter.clear();
    },
    resolutions: () => seen,
    specifiers: (importer) => byImporter.get(importer),
  };
}

const isInstalled = (path: string): boolean => /[/\\]node_modules[/\\]/.test(path);
const isTypeScript = (path: string): boolean => /\.[cm]?tsx?$/.test(path);

/** `namespace:path` inputs of plugins; a Windows drive (`C:\…`) is a real file. */
export function isNamespaced(p: string): boolean {
  return /^[a-z][\w+.-]*:/i.test(p) && !/^[a-z]:[\\/]/i.test(p);
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Throws what esbuild threw as a `BuildError` with esbuild's formatted messages (file, line and a
 * code frame); anything that is not a build failure is thrown as it is.
 */
export async function throwBuildFailure(
  api: typeof esbuild,
  entry: string,
  absWorkingDir: string,
  e: unknown,
  t0: number,
): Promise<never> {
  const failure = e as esbuild.BuildFailure;
  if (!Array.isArray(failure.errors)) throw e;
  const formatted = await api.formatMessages(failure.errors, {
    kind: 'error',
    color: false,
  });
  const messages: BuildMessage[] = failure.errors.map((m, i) => ({
    text: formatted[i] ?? m.text,
    location: m.location
      ? `${resolvePath(absWorkingDir, m.location.file)}:${m.location.line}:${m.location.column + 1}`
      : undefined,
  }));
  throw new BuildError(entry, messages, performance.now() - t0);
}

export interface BundlerOptions {
  /** Import specifier → URL of a module to import instead of bundling it (the library's). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** The folder bundles are written to: source-map paths are made relative to it. */
  readonly outDir: string;
}

export interface Bundler {
  /** Builds the entry; throws `BuildError` with esbuild's messages when it does not build. */
  build(): Promise<BuildOutput>;
  /** Forgets cached resolutions (after a package was installed or removed). */
  invalidate(): void;
  dispose(): Promise<void>;
}

type Result = esbuild.BuildResult<{ write: false; metafile: true }>;

export async function createBundler(entry: string, options: BundlerOptions): Promise<Bundler> {
  // Released by dispose(): the last user stops esbuild's service (see service.ts).
  const lease = leaseEsbuild();
  const esbuild = await lease.esbuild;
  const resolver = installedPackagesPlugin();
  const absWorkingDir = dirname(entry);
  const base = {
    entryPoints: [entry],
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
    external: ['file:*'],
    outfile: join(options.outDir, 'bundle.mjs'),
    absWorkingDir,
  } satisfies esbuild.BuildOptions;
  const libraryAliases = { ...options.aliases };
  let full: esbuild.BuildContext;
  try {
    full = await esbuild.context({
      ...base,
      alias: libraryAliases,
      plugins: [resolver.plugin],
    });
  } catch (e) {
    lease.release();
    throw e;
  }
  let fast:
    | { ctx: esbuild.BuildContext; urls: ReadonlySet<string>; bare: ReadonlySet<string> }
    | undefined;
  let making: Promise<void> | undefined;

  /** Makes (and warms, off the reload path) the plugin-free context from what `full` found. */
  const makeFast = async (): Promise<void> => {
    const aliases: Record<string, string> = { ...libraryAliases };
    const bare = new Set<string>(Object.keys(libraryAliases));
    for (const [specifier, targets] of resolver.resolutions()) {
      // The same specifier resolving differently from two folders cannot be one alias.
      if (targets.size !== 1) return;
      const [to] = targets as Set<string>;
      if (to !== 'bundled') aliases[specifier] = to!;
      bare.add(specifier);
    }
    const ctx = await esbuild.context({ ...base, alias: aliases });
    try {
      await ctx.rebuild();
    } catch {
      await ctx.dispose();
      return;
    }
    const old = fast;
    fast = { ctx, urls: new Set(Object.values(aliases)), bare };
    await old?.ctx.dispose();
  };

  /** Whether the fast context's output holds only imports it knows and nothing it should not bundle. */
  const trusted = (result: Result, known: NonNullable<typeof fast>): boolean => {
    for (const [path, input] of Object.entries(result.metafile.inputs)) {
      // Something from node_modules bundled that the full context would have imported.
      if (/(^|[/\\])node_modules[/\\]/.test(path) && !isTypeScript(path)) return false;
      for (const imp of input.imports) {
        if (imp.external) {
          if (imp.path.startsWith('file:') && !known.urls.has(imp.path)) return false;
          continue;
        }
        const original = imp.original;
        if (original !== undefined && BARE.test(original) && !original.startsWith('node:')) {
          if (!known.bare.has(original)) return false;
        }
      }
    }
    return true;
  };

  const fail = (e: unknown, t0: number): Promise<never> =>
    throwBuildFailure(esbuild, entry, absWorkingDir, e, t0);

  return {
    async build(): Promise<BuildOutput> {
      const t0 = performance.now();
      let result: Result | undefined;
      const known = fast;
      if (known) {
        try {
          const r = (await known.ctx.rebuild()) as Result;
          if (trusted(r, known)) result = r;
        } catch {
          // The full context says what is wrong (an import the fast one cannot resolve, say).
        }
      }
      if (result === undefined) {
        try {
          result = (await full.rebuild()) as Result;
        } catch (e) {
          return fail(e, t0);
        }
        making ??= makeFast().finally(() => {
          making = undefined;
        });
      }
      const file = result.outputFiles[0];
      const output = Object.values(result.metafile.outputs)[0];
      if (!file || !output) {
        throw new BuildError(entry, [{ text: 'esbuild produced no output', location: undefined }]);
      }
      const code = file.text;
      const inputs = Object.keys(result.metafile.inputs)
        .filter((p) => !/(^|[/\\])node_modules[/\\]/.test(p) && !isNamespaced(p))
        .map((p) => resolvePath(absWorkingDir, p));
      return {
        code,
        hash: createHash('sha256').update(code).digest('hex'),
        inputs,
        exports: output.exports,
        ms: performance.now() - t0,
      };
    },
    invalidate() {
      resolver.invalidate();
      const old = fast;
      fast = undefined;
      void old?.ctx.dispose();
    },
    async dispose() {
      await making;
      await Promise.allSettled([full.dispose(), fast?.ctx.dispose()]);
      await lease.release();
    },
  };
}
