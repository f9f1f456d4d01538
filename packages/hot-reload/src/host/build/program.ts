/**
 * The owner's side of the module runner: builds the renderer's program (types.ts) from its
 * entry, and on a save rebuilds only what changed.
 *
 *   full path:  esbuild bundles the entry once (no output kept, no context held) for its module
 *               graph: every input file and what each import specifier resolved to (a file of
 *               the program, the library's URL, an installed package's file URL, `node:…`), and
 *               the formatted messages of a build that fails. Then every file is transformed in
 *               process (transform.ts).
 *   fast path:  a save of files already in the graph whose imports are the same (oxc's `deps`
 *               and `dynamicDeps`): only those files are read and transformed again (~0.1 ms
 *               each); nothing crosses to esbuild.
 *
 * Anything else takes the full path: a new or removed import, a file that is not in the graph,
 * a file oxc fails on (esbuild then says what is wrong, in its words), a build after
 * `invalidate()`.
 *
 * The graph also tells how each file is to be compiled where tsconfig decides it and oxc cannot
 * read tsconfig: a file whose unused imports esbuild kept is under `verbatimModuleSyntax`, a JSX
 * file that imports `…/jsx-runtime` uses the automatic runtime.
 */
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';
import { BuildError } from '../../errors.js';
import { installedPackagesPlugin, isNamespaced, throwBuildFailure } from './bundler.js';
import { leaseEsbuild } from './service.js';
import type {
  FileOptions,
  ModuleKind,
  TransformError,
  TransformedModule,
  transformFile,
} from './transform.js';
import { TsconfigCache } from './tsconfig.js';
import type { ImportTarget, Program, ProgramModule } from './types.js';

export interface ProgramBuilderOptions {
  /** Import specifier → URL of a module imported instead of built (the library's modules). */
  readonly aliases?: Readonly<Record<string, string>>;
  /** How a file's source is read for oxc (tests stand in for a save landing mid-build). */
  readonly readSource?: (path: string) => string;
}

/** Which path a build took, and why (for logs, tests and the bench). */
export interface BuildPath {
  readonly path: 'fast' | 'full';
  /** Why the full path was taken (absent on the fast path). */
  readonly reason?: string;
  /** Files transformed again. */
  readonly transformed: number;
}

export interface ProgramBuilder {
  /**
   * Builds the program. `changedFiles` are the files saved since the last build (absolute
   * paths): when every one is in the graph and keeps its imports, only they are transformed
   * again. Without it, the full path. Throws `BuildError` with esbuild's messages when the
   * program does not build.
   */
  build(changedFiles?: readonly string[]): Promise<Program>;
  /** The next build takes the full path and resolves packages afresh (after an install). */
  invalidate(): void;
  /** Ends the builder's use of esbuild's service (the last user stops it). */
  dispose(): Promise<void>;
  /** How the last successful build went. */
  readonly lastBuild: BuildPath | undefined;
}

/** A file of the program, as the last build left it. */
interface FileState {
  readonly id: string;
  readonly url: string;
  readonly kind: ModuleKind;
  readonly options: FileOptions;
  readonly source: string;
  readonly transformed: TransformedModule;
  readonly imports: Readonly<Record<string, ImportTarget>>;
  /** This module's part of the program hash. */
  readonly hash: string;
}

interface Graph {
  readonly entry: string;
  readonly files: ReadonlyMap<string, FileState>;
}

type Transform = typeof transformFile;

/**
 * Makes a builder for the renderer `entry` (a file path). esbuild and oxc load on the first build.
 *
 * @example
 * const builder = createProgramBuilder('/app/src/renderer.ts', { aliases: library.aliases });
 * let program = await builder.build();
 * program = await builder.build(['/app/src/renderer.ts']); // a save: the fast path
 */
export function createProgramBuilder(
  entry: string,
  options: ProgramBuilderOptions = {},
): ProgramBuilder {
  const aliases = { ...options.aliases };
  const readSource = options.readSource ?? ((path: string) => readFileSync(path, 'utf8'));
  const entryPath = resolvePath(entry);
  const absWorkingDir = dirname(entryPath);
  const resolver = installedPackagesPlugin();
  const tsconfig = new TsconfigCache();
  // esbuild's metafile names an aliased import by its target: the specifier is found back here.
  const aliasOf = new Map(Object.entries(aliases).map(([specifier, url]) => [url, specifier]));
  let lease: ReturnType<typeof leaseEsbuild> | undefined;
  let transform: Transform | undefined;
  let graph: Graph | undefined;
  let lastBuild: BuildPath | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  let disposed = false;
  let invalidated = false;

  const loadTransform = async (): Promise<Transform> => {
    transform ??= (await import('./transform.js')).transformFile;
    return transform;
  };

  const stateOf = (
    t: Transform,
    id: string,
    kind: ModuleKind,
    source: string,
    opts: FileOptions,
    imports: Readonly<Record<string, ImportTarget>>,
  ): FileState | { errors: readonly TransformError[] } => {
    const url = pathToFileURL(id).href;
    const out = t(id, url, source, kind, opts);
    if (!out.ok) return { errors: out.errors };
    const withBuiltins = addBuiltins(out.module, imports);
    const hash = createHash('sha256')
      .update(id)
      .update('\0')
      .update(out.module.code)
      .update('\0')
      .update(out.module.map ?? '')
      .update('\0')
      .update(JSON.stringify(withBuiltins))
      .digest('hex');
    return {
      id,
      url,
      kind,
      options: opts,
      source,
      transformed: out.module,
      imports: withBuiltins,
      hash,
    };
  };

  /**
   * The full path. esbuild reads the files for the graph and this builder reads them again for
   * oxc: a save that lands between the two (an editor's truncate, then write) gives a file whose
   * imports esbuild never saw (it read the empty file). That is a build of neither version: the
   * graph is made again from the files as they are now.
   */
  const full = async (t0: number, reason: string): Promise<Program> => {
    for (let attempt = 1; ; attempt++) {
      const result = await fullOnce(t0, reason);
      if (!('unseen' in result)) return result;
      if (attempt >= 3) {
        throw new BuildError(entryPath, [
          {
            text: `${result.unseen.file} imports ${JSON.stringify(result.unseen.specifier)}, which esbuild's module graph does not have (the file kept changing while it was read)`,
            location: result.unseen.file,
          },
        ]);
      }
    }
  };

  const fullOnce = async (
    t0: number,
    reason: string,
  ): Promise<Program | { unseen: { file: string; specifier: string } }> => {
    const t = await loadTransform();
    lease ??= leaseEsbuild();
    const api = await lease.esbuild;
    let result: esbuild.BuildResult<{ write: false; metafile: true }>;
    try {
      result = await api.build({
        entryPoints: [entryPath],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'esnext',
        write: false,
        metafile: true,
        logLevel: 'silent',
        external: ['file:*'],
        alias: aliases,
        absWorkingDir,
        plugins: [resolver.plugin],
      });
    } catch (e) {
      return throwBuildFailure(api, entryPath, absWorkingDir, e, t0);
    }
    const metafile = result.metafile;
    const output = Object.values(metafile.outputs)[0];
    const entryId = output?.entryPoint ? resolvePath(absWorkingDir, output.entryPoint) : entryPath;
    const files = new Map<string, FileState>();
    const problems: { text: string; location: string | undefined }[] = [];
    for (const [path, input] of Object.entries(metafile.inputs)) {
      if (isNamespaced(path)) continue;
      const id = resolvePath(absWorkingDir, path);
      const kind = kindOfInput(id, input.format);
      if (kind === undefined) {
        problems.push({
          text: `${id}: a renderer can import JavaScript, TypeScript, JSON and text files; this file is none of them`,
          location: id,
        });
        continue;
      }
      const { imports, kept } = importsOf(
        input.imports,
        absWorkingDir,
        (path) => aliasOf.get(path) ?? resolver.specifiers(id)?.get(path),
      );
      let source: string;
      try {
        source = readSource(id);
      } catch (e) {
        problems.push({ text: `${id}: ${(e as Error).message}`, location: id });
        continue;
      }
      const previous = graph?.files.get(id);
      const compile = (opts: FileOptions) =>
        previous &&
        previous.kind === kind &&
        previous.source === source &&
        sameOptions(previous.options, opts) &&
        sameImports(previous.imports, imports)
          ? previous
          : stateOf(t, id, kind, source, opts, imports);
      const configured: FileOptions = tsconfig.settingsFor(id);
      let state = compile(configured);
      // What esbuild kept and oxc did not: settings the tsconfig reader missed (module comment).
      if (!('errors' in state) && kind !== 'json' && kind !== 'text') {
        const learned = learnOptions(configured, kept, state.transformed.deps);
        if (learned !== configured) state = compile(learned);
      }
      if ('errors' in state) {
        for (const e of state.errors) {
          problems.push({
            text: e.text,
            location: e.line === undefined ? id : `${id}:${e.line}:${e.column}`,
          });
        }
        continue;
      }
      const unseen = [...state.transformed.deps, ...state.transformed.dynamicDeps].find(
        (d) => !(d in state.imports),
      );
      if (unseen !== undefined) return { unseen: { file: id, specifier: unseen } };
      files.set(id, state);
    }
    if (problems.length > 0) throw new BuildError(entryPath, problems, performance.now() - t0);
    if (!files.has(entryId)) {
      throw new BuildError(entryPath, [
        { text: `esbuild's module graph has no entry ${entryId}`, location: entryId },
      ]);
    }
    graph = { entry: entryId, files };
    lastBuild = { path: 'full', reason, transformed: files.size };
    return assemble(graph, t0);
  };

  const fast = (
    t: Transform,
    current: Graph,
    changed: readonly string[],
    t0: number,
  ): Program | string => {
    const updates = new Map<string, FileState>();
    for (const file of changed) {
      const state = current.files.get(resolvePath(file)) ?? current.files.get(realpathOr(file));
      if (!state) return `${file} is not in the program`;
      let source: string;
      try {
        source = readSource(state.id);
      } catch {
        return `${state.id} cannot be read`;
      }
      if (source === state.source) continue;
      const next = stateOf(t, state.id, state.kind, source, state.options, state.imports);
      if ('errors' in next) return `${state.id} does not transform`;
      const before = state.transformed;
      const after = next.transformed;
      if (!sameList(before.deps, after.deps) || !sameList(before.dynamicDeps, after.dynamicDeps)) {
        return `the imports of ${state.id} changed`;
      }
      updates.set(state.id, next);
    }
    const files = new Map(current.files);
    for (const [id, state] of updates) files.set(id, state);
    graph = { entry: current.entry, files };
    lastBuild = { path: 'fast', transformed: updates.size };
    return assemble(graph, t0);
  };

  const build = async (changedFiles?: readonly string[]): Promise<Program> => {
    if (disposed)
      throw new BuildError(entryPath, [
        { text: 'the program builder was disposed', location: undefined },
      ]);
    const t0 = performance.now();
    const current = graph;
    // A saved tsconfig changes how files compile: read the configs again, build everything.
    if (changedFiles?.some((f) => CONFIG.test(f))) {
      tsconfig.clear();
      return full(t0, 'a tsconfig changed');
    }
    if (current && changedFiles && changedFiles.length > 0) {
      const out = fast(await loadTransform(), current, changedFiles, t0);
      if (typeof out !== 'string') return out;
      return full(t0, out);
    }
    const reason = invalidated
      ? 'invalidate() was called'
      : current
        ? 'no list of changed files'
        : 'the first build';
    invalidated = false;
    return full(t0, reason);
  };

  return {
    build(changedFiles) {
      // One build at a time: each starts from the graph the previous one left.
      const next = queue.then(
        () => build(changedFiles),
        () => build(changedFiles),
      );
      queue = next.catch(() => {});
      return next;
    },
    invalidate() {
      resolver.invalidate();
      tsconfig.clear();
      graph = undefined;
      invalidated = true;
    },
    async dispose() {
      disposed = true;
      await queue;
      const released = lease?.release();
      lease = undefined;
      // The last user's release stops esbuild's service: disposed means it is gone.
      await released;
    },
    get lastBuild() {
      return lastBuild;
    },
  };
}

function kindOfInput(id: string, format: 'esm' | 'cjs' | undefined): ModuleKind | undefined {
  if (/\.json$/i.test(id)) return 'json';
  if (/\.txt$/i.test(id)) return 'text';
  if (/\.c[jt]s$/i.test(id)) return 'cjs';
  if (/\.m[jt]s$/i.test(id)) return 'esm';
  if (/\.[jt]sx?$/i.test(id)) return format === 'cjs' ? 'cjs' : 'esm';
  return undefined;
}

type ImportRecord = esbuild.Metafile['inputs'][string]['imports'][number];

/**
 * What each specifier of an input resolved to, and which static imports esbuild kept. An import
 * esbuild dropped (TypeScript's unused imports) shows as an external with its specifier as it was
 * written: neither a file URL nor a built-in module.
 */
function importsOf(
  records: readonly ImportRecord[],
  absWorkingDir: string,
  specifierOf: (resolved: string) => string | undefined,
): { imports: Record<string, ImportTarget>; kept: Set<string> } {
  const imports: Record<string, ImportTarget> = {};
  const kept = new Set<string>();
  for (const r of records) {
    const specifier =
      r.original ?? specifierOf(r.external ? r.path : resolvePath(absWorkingDir, r.path)) ?? r.path;
    let target: ImportTarget;
    if (r.external) {
      if (r.path.startsWith('file:') || /^[a-z][\w+.-]*:/i.test(r.path))
        target = { external: r.path };
      else if (isBuiltin(r.path))
        target = { external: r.path.startsWith('node:') ? r.path : `node:${r.path}` };
      else continue;
    } else {
      target = { module: resolvePath(absWorkingDir, r.path) };
    }
    if (r.kind === 'import-statement') kept.add(specifier);
    if (!(specifier in imports)) imports[specifier] = target;
  }
  return { imports, kept };
}

/** Built-in modules a transform imports that esbuild never saw (the CommonJS wrapper's `node:module`). */
function addBuiltins(
  module: TransformedModule,
  imports: Readonly<Record<string, ImportTarget>>,
): Readonly<Record<string, ImportTarget>> {
  let out: Record<string, ImportTarget> | undefined;
  for (const dep of module.deps) {
    if (dep in imports || !dep.startsWith('node:')) continue;
    out ??= { ...imports };
    out[dep] = { external: dep };
  }
  return out ?? imports;
}

const JSX_RUNTIME = /^(.*)\/jsx-(?:dev-)?runtime$/;

function learnOptions(
  opts: FileOptions,
  kept: ReadonlySet<string>,
  deps: readonly string[],
): FileOptions {
  const have = new Set(deps);
  const missing = [...kept].filter((s) => !have.has(s));
  if (missing.length === 0) return opts;
  let next = opts;
  const jsx = missing.map((s) => JSX_RUNTIME.exec(s)?.[1]).find((s) => s !== undefined);
  if (jsx !== undefined && next.jsx !== 'automatic') {
    next = { ...next, jsx: 'automatic', jsxImportSource: jsx };
  }
  if (missing.some((s) => !JSX_RUNTIME.test(s)) && !next.keepImports) {
    next = { ...next, keepImports: true };
  }
  return next;
}

const CONFIG = /(^|[/\\])[jt]sconfig(\.[^/\\]*)?\.json$/;

function sameOptions(a: FileOptions, b: FileOptions): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof FileOptions>;
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameImports(
  a: Readonly<Record<string, ImportTarget>>,
  b: Readonly<Record<string, ImportTarget>>,
): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    const x = a[k]!;
    const y = b[k];
    if (y === undefined) {
      // addBuiltins may have added it to `a`; `b` is esbuild's.
      if ('external' in x && x.external === k && k.startsWith('node:')) continue;
      return false;
    }
    if (
      'module' in x
        ? !('module' in y) || x.module !== y.module
        : !('external' in y) || x.external !== y.external
    ) {
      return false;
    }
  }
  return true;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolvePath(path);
  }
}

/** The program of a graph: modules, externals, exports, hash. */
function assemble(graph: Graph, t0: number): Program {
  const modules: ProgramModule[] = [];
  const externals = new Set<string>();
  const hash = createHash('sha256').update(graph.entry);
  for (const f of graph.files.values()) {
    const m: ProgramModule = {
      id: f.id,
      url: f.url,
      code: f.transformed.code,
      imports: f.imports,
      ...(f.transformed.map === undefined ? {} : { map: f.transformed.map }),
    };
    modules.push(m);
    hash.update(f.hash);
    for (const t of Object.values(f.imports)) if ('external' in t) externals.add(t.external);
  }
  return {
    entry: graph.entry,
    modules,
    externals: [...externals],
    hash: hash.digest('hex'),
    inputs: [...graph.files.keys()],
    exports: exportsOf(graph, graph.entry),
    ms: performance.now() - t0,
  };
}

/** What a module exports: its own names and, through `export *`, its modules' (not `default`). */
function exportsOf(graph: Graph, id: string, seen = new Set<string>()): string[] {
  const f = graph.files.get(id);
  if (!f || seen.has(id)) return [];
  seen.add(id);
  const names = new Set(f.transformed.exports);
  for (const star of f.transformed.stars) {
    const target = f.imports[star];
    if (!target || !('module' in target)) continue;
    for (const n of exportsOf(graph, target.module, seen)) if (n !== 'default') names.add(n);
  }
  return [...names];
}
