/**
 * The module runner: runs a program (types.ts) in this process or worker thread without Node's
 * module loader. Each module is compiled once (`vm.runInThisContext`, named after its source file)
 * into an async function of the module-runner globals and runs once, when first imported, its
 * imports in the order they are written, as ES modules do:
 *
 *   evaluateProgram(program) → load(entry) → its code runs → `await __vite_ssr_import__('./a.js')`
 *     → load(a) (its exports object; during a cycle, the one still being filled) → …
 *
 * - Exports are live: the transform defines each as a getter on the module's exports object before
 *   its body runs, so a cycle sees functions at once and `let`s once they are initialised.
 * - Externals (packages by file URL, the library, `node:…`) come from `import()`, once per process:
 *   `preloadExternals` loads them before the program arrives.
 * - `import.meta.url`, `.filename`, `.dirname` and `.resolve()` are the module's own source file's.
 * - Stack traces: frames in program modules are mapped through each module's source map to the
 *   original file, line and column (Node applies no source maps to code compiled by `vm`).
 */
import { createRequire, isBuiltin, SourceMap } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInThisContext } from 'node:vm';
import { InvalidArgumentError } from '../../errors.js';
import type { Program, ProgramModule } from './types.js';

export type ImportExternal = (url: string) => Promise<unknown>;

export interface EvaluateOptions {
  /** How an external is imported. Default: `import()` (JSON files with `type: 'json'`). */
  readonly importExternal?: ImportExternal;
}

/** The default importer: `import()`, with the attribute JSON files need. */
const importUrl: ImportExternal = (url) =>
  /\.json$/i.test(url) ? import(url, { with: { type: 'json' } }) : import(url);

/** Externals already asked for, per importer: each is imported once per process. */
const externalCache = new WeakMap<ImportExternal, Map<string, Promise<unknown>>>();

function importExternal(url: string, importer: ImportExternal): Promise<unknown> {
  let cache = externalCache.get(importer);
  if (!cache) {
    cache = new Map();
    externalCache.set(importer, cache);
  }
  let p = cache.get(url);
  if (!p) {
    p = importer(url);
    cache.set(url, p);
  }
  return p;
}

export interface PreloadReport {
  readonly loaded: readonly string[];
  /** Externals whose import failed: the program's own import of them fails the same way then. */
  readonly failed: ReadonlyArray<{ readonly url: string; readonly error: unknown }>;
}

/**
 * Imports externals ahead of time (a standby, before a program arrives), so that a renderer that
 * imports `three` does not pay for it on a reload. Never throws: a package that fails to load is
 * reported, and fails again where the program imports it.
 *
 * @example
 * await preloadExternals(program.externals);
 */
export async function preloadExternals(
  urls: readonly string[],
  options: EvaluateOptions = {},
): Promise<PreloadReport> {
  const importer = options.importExternal ?? importUrl;
  const loaded: string[] = [];
  const failed: Array<{ url: string; error: unknown }> = [];
  // One after another: packages that share dependencies load them once, in a fixed order.
  for (const url of urls) {
    try {
      await importExternal(url, importer);
      loaded.push(url);
    } catch (error) {
      failed.push({ url, error });
    }
  }
  return { loaded, failed };
}

type State = 'new' | 'evaluating' | 'done' | 'failed';

interface Loaded {
  readonly module: ProgramModule;
  readonly file: string;
  state: State;
  readonly exports: Record<string | symbol, unknown>;
  done: Promise<Record<string | symbol, unknown>> | undefined;
}

/** The modules waiting on an import, innermost first: a module found here is a cycle. */
interface Chain {
  readonly loaded: Loaded;
  readonly parent: Chain | null;
}

const inChain = (chain: Chain | null, loaded: Loaded): boolean => {
  for (let c = chain; c !== null; c = c.parent) if (c.loaded === loaded) return true;
  return false;
};

const PARAMS = [
  '__vite_ssr_exports__',
  '__vite_ssr_import_meta__',
  '__vite_ssr_import__',
  '__vite_ssr_dynamic_import__',
  '__vite_ssr_exportAll__',
].join(', ');
// On a line of its own: the module's first line is line 1 again with `lineOffset: -1`.
const HEADER = `(async function (${PARAMS}) {'use strict';\n`;

type ModuleFunction = (
  exports: object,
  meta: object,
  ssrImport: (specifier: string) => unknown,
  dynamicImport: (specifier: string, options?: unknown) => Promise<unknown>,
  exportAll: (source: unknown) => void,
) => Promise<void>;

/**
 * Runs `program` and resolves with its entry's exports (a namespace-like object, live bindings).
 * Each call runs the program's modules afresh; externals are shared by the whole process.
 * Rejects with what the entry's evaluation threw (stack traces name the original sources).
 *
 * @example
 * const program = JSON.parse(readFileSync(file, 'utf8')) as Program;
 * const entry = await evaluateProgram(program);
 * await (entry.main as () => Promise<void>)();
 */
export async function evaluateProgram(
  program: Program,
  options: EvaluateOptions = {},
): Promise<Record<string, unknown>> {
  const importer = options.importExternal ?? importUrl;
  const byId = new Map<string, Loaded>();
  const byUrl = new Map<string, Loaded>();
  for (const module of program.modules) {
    if (typeof module?.id !== 'string' || typeof module.code !== 'string') {
      throw new InvalidArgumentError(
        `expected program modules of the form { id, url, code, imports }, got ${JSON.stringify(module)?.slice(0, 200)}`,
      );
    }
    const exports = Object.create(null) as Record<string | symbol, unknown>;
    Object.defineProperty(exports, Symbol.toStringTag, { value: 'Module' });
    const loaded: Loaded = { module, file: fileOf(module), state: 'new', exports, done: undefined };
    byId.set(module.id, loaded);
    byUrl.set(module.url, loaded);
  }
  const entry = byId.get(program.entry);
  if (!entry) {
    throw new InvalidArgumentError(
      `expected the program's entry ${program.entry} among its ${program.modules.length} modules, got none of that id`,
    );
  }
  installStackMapping();

  /** What `specifier`, imported by `from`, is: a module of the program or an external URL. */
  const resolve = (from: Loaded, specifier: string): Loaded | string => {
    const known = from.module.imports[specifier];
    if (known) {
      if ('module' in known) {
        const target = byId.get(known.module);
        if (!target) {
          throw new InvalidArgumentError(
            `${from.module.id} imports ${JSON.stringify(specifier)} as module ${known.module}, which is not in the program`,
          );
        }
        return target;
      }
      return known.external;
    }
    // Not seen at build time: a computed `import()`, or what a CommonJS wrapper asks for.
    if (isBuiltin(specifier))
      return specifier.startsWith('node:') ? specifier : `node:${specifier}`;
    if (/^\.{0,2}\//.test(specifier) || specifier.startsWith('file:')) {
      const url = new URL(specifier, from.module.url).href;
      return byUrl.get(url) ?? url;
    }
    try {
      const url = pathToFileURL(createRequire(from.file).resolve(specifier)).href;
      return byUrl.get(url) ?? url;
    } catch {
      return specifier;
    }
  };

  const load = (target: Loaded, chain: Chain | null): object | Promise<object> => {
    switch (target.state) {
      case 'done':
        return target.exports;
      case 'evaluating':
        // A cycle: the importer gets the exports made so far, as an ES module would.
        if (inChain(chain, target) || target.done === undefined) return target.exports;
        return target.done;
      case 'failed':
        return target.done!;
      default:
        return run(target, chain);
    }
  };

  const run = (target: Loaded, chain: Chain | null): Promise<object> => {
    const here: Chain = { loaded: target, parent: chain };
    const fn = compile(target.module);
    const meta = importMeta(target, (s) => {
      const r = resolve(target, s);
      return typeof r === 'string' ? r : r.module.url;
    });
    const exportAll = (source: unknown): void => {
      if (source === null || typeof source !== 'object' || source === target.exports) return;
      for (const key in source) {
        if (key === 'default' || key in target.exports) continue;
        Object.defineProperty(target.exports, key, {
          enumerable: true,
          configurable: true,
          get: () => (source as Record<string, unknown>)[key],
        });
      }
    };
    const ssrImport = (specifier: string): unknown => {
      const r = resolve(target, specifier);
      return typeof r === 'string' ? importExternal(r, importer) : load(r, here);
    };
    const dynamicImport = async (specifier: string): Promise<unknown> => {
      // import() never runs the imported module in the importer's turn.
      await undefined;
      const r = resolve(target, String(specifier));
      return typeof r === 'string' ? importExternal(r, importer) : load(r, null);
    };
    target.state = 'evaluating';
    const done = fn.call(undefined, target.exports, meta, ssrImport, dynamicImport, exportAll).then(
      () => {
        target.state = 'done';
        return target.exports;
      },
      (error: unknown) => {
        target.state = 'failed';
        throw error;
      },
    );
    target.done = done;
    return done;
  };

  return (await load(entry, null)) as Record<string, unknown>;
}

/** Where the warm-up program says it lives: an absolute path on this platform (`C:\\` on Windows). */
const WARM_DIR = resolve('/hotshm-warm');
const warmFile = (name: string): string => join(WARM_DIR, name);
const warmUrl = (name: string): string => pathToFileURL(warmFile(name)).href;

/** A program of two modules that takes every path a real one takes (see `warmUpEvaluation`). */
const WARM_PROGRAM: Program = {
  entry: warmFile('entry.js'),
  modules: [
    {
      id: warmFile('entry.js'),
      url: warmUrl('entry.js'),
      code: [
        'Object.defineProperty(__vite_ssr_exports__, "main", { enumerable: true, configurable: true, get() { return main; } });',
        'const __vite_ssr_import_0__ = await __vite_ssr_import__("./dep.js", { importedNames: ["dep"] });',
        'const __vite_ssr_import_1__ = await __vite_ssr_import__("node:path");',
        '__vite_ssr_exportAll__(__vite_ssr_import_0__);',
        'Object.defineProperty(__vite_ssr_exports__, "fail", { enumerable: true, configurable: true, get() { return fail; } });',
        'function main() { return [__vite_ssr_import_0__.dep, __vite_ssr_import_1__.sep, __vite_ssr_import_meta__.url]; }',
        'function fail() { throw new Error("hotshm warm-up"); }',
        'await __vite_ssr_dynamic_import__("./dep.js");',
      ].join('\n'),
      map: JSON.stringify({
        version: 3,
        sources: [warmUrl('entry.ts')],
        names: [],
        mappings: 'AAAA',
      }),
      imports: {
        './dep.js': { module: warmFile('dep.js') },
        'node:path': { external: 'node:path' },
      },
    },
    {
      id: warmFile('dep.js'),
      url: warmUrl('dep.js'),
      code: 'Object.defineProperty(__vite_ssr_exports__, "dep", { enumerable: true, configurable: true, get() { return dep; } });\nconst dep = 1;\n',
      imports: {},
    },
  ],
  externals: ['node:path'],
  hash: 'warm',
  inputs: [],
  exports: ['main', 'fail', 'dep'],
  ms: 0,
};

/**
 * Runs a tiny program through every path a real one takes (compiling modules, imports, an
 * external, `export *`, `import()`, `import.meta`, a stack trace mapped): a fresh process compiles
 * each function on its first call, and a standby does it here, while the user is still typing.
 *
 * @example
 * await warmUpEvaluation(); // in the standby, before the first program arrives
 */
export async function warmUpEvaluation(): Promise<void> {
  const ns = await evaluateProgram(WARM_PROGRAM);
  (ns.main as () => unknown)();
  // A stack mapped once: the SourceMap class and the frame rewriting are compiled too.
  try {
    (ns.fail as () => never)();
  } catch (e) {
    void (e as Error).stack;
  }
}

/** A source map's source as the path a user clicks; a URL that names no path stays as it is. */
function pathOfSource(source: string): string {
  if (!source.startsWith('file:')) return source;
  try {
    return fileURLToPath(source);
  } catch {
    return source;
  }
}

function fileOf(module: ProgramModule): string {
  try {
    return fileURLToPath(module.url);
  } catch {
    return module.id;
  }
}

function importMeta(target: Loaded, resolveUrl: (specifier: string) => string): object {
  const meta = Object.create(null) as Record<string, unknown>;
  meta.url = target.module.url;
  meta.filename = target.file;
  meta.dirname = dirname(target.file);
  meta.resolve = (specifier: string): string => resolveUrl(String(specifier));
  return meta;
}

/** How many times each module URL was compiled in this realm. */
const compiled = new Map<string, number>();

/** Compiles a module's code into its function; the name V8 gives its frames is mapped back. */
function compile(module: ProgramModule): ModuleFunction {
  // The same module compiled again in this realm (a test, a re-run) gets a name of its own, so
  // that each frame is mapped through the map of the code it ran.
  const n = (compiled.get(module.url) ?? 0) + 1;
  compiled.set(module.url, n);
  const filename = n === 1 ? module.url : `${module.url}?hotshm-run=${n}`;
  if (module.map !== undefined) {
    maps.set(filename, { json: module.map, map: undefined, file: fileOf(module) });
  }
  return runInThisContext(`${HEADER}${module.code}\n})`, {
    filename,
    lineOffset: -1,
  }) as ModuleFunction;
}

// ---------------------------------------------------------------------------------------------
// Stack traces

interface MapEntry {
  readonly json: string;
  /** Parsed on first use: most programs never throw. null: the map could not be read. */
  map: SourceMap | null | undefined;
  readonly file: string;
}

/** Compiled file name (what V8 puts in frames) → the module's map. */
const maps = new Map<string, MapEntry>();
let installed = false;

type CallSite = NodeJS.CallSite;

/**
 * Wraps `Error.prepareStackTrace` once per realm (process or worker thread): frames of program
 * modules are rewritten to the original source, every other frame goes through unchanged to the
 * previous formatter (Node's own, which applies Node's source maps to files it loaded).
 */
function installStackMapping(): void {
  if (installed) return;
  installed = true;
  const previous = Error.prepareStackTrace;
  Error.prepareStackTrace = function hotshmPrepareStackTrace(error, trace) {
    // A frame that cannot be mapped is shown as V8 gave it: a formatter that throws would replace
    // the error being reported with its own.
    const frames = trace.map((site) => {
      try {
        return mapCallSite(site);
      } catch {
        return site;
      }
    });
    if (previous) return previous(error, frames);
    let head: string;
    try {
      head = Error.prototype.toString.call(error);
    } catch {
      head = 'Error';
    }
    return `${head}${frames.map((f) => `\n    at ${f}`).join('')}`;
  };
}

function mapCallSite(site: CallSite): CallSite {
  const name = site.getFileName();
  if (name === undefined || name === null) return site;
  const entry = maps.get(name);
  if (!entry) return site;
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  if (line === null || column === null) return site;
  if (entry.map === undefined) {
    try {
      entry.map = new SourceMap(JSON.parse(entry.json));
    } catch {
      entry.map = null;
    }
  }
  const found = entry.map?.findEntry(line - 1, column - 1) as
    | { originalSource?: string; originalLine?: number; originalColumn?: number }
    | undefined;
  if (
    !found ||
    found.originalSource === undefined ||
    found.originalLine === undefined ||
    found.originalColumn === undefined
  ) {
    return site;
  }
  const source = pathOfSource(found.originalSource);
  const originalLine = found.originalLine + 1;
  const originalColumn = found.originalColumn + 1;
  const generated = `${name}:${line}:${column}`;
  const text = site.toString();
  const at = text.lastIndexOf(generated);
  const mapped =
    at < 0
      ? text
      : `${text.slice(0, at)}${source}:${originalLine}:${originalColumn}${text.slice(at + generated.length)}`;
  const overrides: Partial<Record<keyof CallSite | 'toString', () => unknown>> = {
    getFileName: () => source,
    getScriptNameOrSourceURL: () => source,
    getLineNumber: () => originalLine,
    getColumnNumber: () => originalColumn,
    toString: () => mapped,
  };
  return new Proxy(site, {
    get(target, prop, receiver) {
      const override = overrides[prop as keyof CallSite | 'toString'];
      if (override) return override;
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
