/**
 * One user file → one module of a program, in process and synchronously (oxc, ~0.1 ms for the
 * example's entry): TypeScript and JSX are stripped (`transformSync`), then imports, exports,
 * `import()` and `import.meta` are rewritten into calls of the module runner
 * (`moduleRunnerTransformSync`, Vite's form: `__vite_ssr_import__`, `__vite_ssr_exports__`, …).
 * The two source maps are composed into one from the final code to the original file.
 *
 * Nothing is lowered: the code is what Node runs, minus types (as Node's own type stripping).
 * JSON and text files become modules whose default export is their value; CommonJS files are
 * wrapped so that `require` finds the program's modules (see `wrapCommonJs`).
 */
import { moduleRunnerTransformSync, type OxcError, transformSync } from 'oxc-transform';
import { composeMaps, type RawSourceMap } from './sourcemap.js';
import type { CompileSettings } from './tsconfig.js';

/** How a file becomes a module. */
export type ModuleKind = 'esm' | 'cjs' | 'json' | 'text';

/** How a file compiles: its tsconfig's settings, and what the module graph taught (program.ts). */
export type FileOptions = Partial<CompileSettings>;

export interface TransformedModule {
  readonly code: string;
  /** JSON of the map from `code` to the original file (absent for JSON and text). */
  readonly map: string | undefined;
  /** Specifiers of static imports and re-exports (and of `require()` calls in CommonJS). */
  readonly deps: readonly string[];
  /** Specifiers of `import()` calls with a string literal. */
  readonly dynamicDeps: readonly string[];
  /** Names the module exports itself. */
  readonly exports: readonly string[];
  /** Specifiers of its `export * from` re-exports. */
  readonly stars: readonly string[];
}

export type TransformOutcome =
  | { readonly ok: true; readonly module: TransformedModule }
  | { readonly ok: false; readonly errors: readonly TransformError[] };

/** One of oxc's errors: its text (with a code frame) and where it points (1-based). */
export interface TransformError {
  readonly text: string;
  readonly line?: number;
  readonly column?: number;
}

/** 1-based line and column of a UTF-16 offset. */
function position(source: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const failed = (errors: readonly OxcError[], source: string): TransformOutcome => ({
  ok: false,
  errors: errors
    .filter((e) => e.severity === 'Error')
    .map((e) => {
      const text = e.codeframe ? e.codeframe.trim() : e.message;
      const at = e.labels[0]?.start;
      return at === undefined ? { text } : { text, ...position(source, at) };
    }),
});

/**
 * oxc 0.151's module-runner transform drops the default binding of `import a, * as ns from 'x'`
 * (it keeps only the namespace). Split such imports in two before it runs; oxc's codegen prints
 * each import on a line of its own, in this form.
 */
const DEFAULT_AND_NAMESPACE =
  /^import ([^\s,{}*]+), (\* as [^\s,{}*]+) from ("(?:[^"\\\n]|\\.)*")( with \{[^}\n]*\})?;$/gm;

/**
 * Transforms one file. `id` is its absolute path (the map's source is the file's URL, `url`).
 * Returns oxc's errors (with code frames) instead of throwing: the caller asks esbuild for the
 * formatted messages users know.
 */
export function transformFile(
  id: string,
  url: string,
  source: string,
  kind: ModuleKind,
  options: FileOptions = {},
): TransformOutcome {
  if (kind === 'json') {
    try {
      return { ok: true, module: jsonModule(source) };
    } catch (e) {
      return { ok: false, errors: [{ text: `${id}: ${(e as Error).message}` }] };
    }
  }
  if (kind === 'text') return { ok: true, module: valueModule(JSON.stringify(source), false) };
  const stripped = transformSync(id, source, {
    sourceType: kind === 'cjs' ? 'commonjs' : 'module',
    sourcemap: true,
    typescript: {
      onlyRemoveTypeImports: options.keepImports === true,
      removeClassFieldsWithoutInitializer: options.defineClassFields === false,
    },
    ...(options.defineClassFields === false ? { assumptions: { setPublicClassFields: true } } : {}),
    ...(options.legacyDecorators
      ? { decorator: { legacy: true, emitDecoratorMetadata: options.decoratorMetadata === true } }
      : {}),
    jsx:
      options.jsx === 'automatic' ||
      (options.jsx === undefined && options.jsxImportSource !== undefined)
        ? {
            runtime: 'automatic',
            importSource: options.jsxImportSource ?? 'react',
            development: options.jsxDev === true,
          }
        : {
            runtime: 'classic',
            ...(options.jsxFactory === undefined ? {} : { pragma: options.jsxFactory }),
            ...(options.jsxFragmentFactory === undefined
              ? {}
              : { pragmaFrag: options.jsxFragmentFactory }),
          },
  });
  if (stripped.errors.some((e) => e.severity === 'Error')) return failed(stripped.errors, source);
  const helpers = Object.keys(stripped.helpersUsed);
  if (helpers.length > 0) {
    // oxc brings its helpers in with require('@oxc-project/runtime/…'), which a renderer lacks.
    return {
      ok: false,
      errors: [
        {
          text: `${id}: compiling it needs oxc's runtime helpers (${helpers.join(', ')}), which the renderer runner does not provide; legacy decorators (tsconfig experimentalDecorators) are the usual cause: use standard decorators, or leave them to a package`,
        },
      ],
    };
  }
  if (kind === 'cjs') return { ok: true, module: wrapCommonJs(stripped.code, stripped.map, url) };
  const js = stripped.code.replace(
    DEFAULT_AND_NAMESPACE,
    'import $2 from $3$4; import $1 from $3$4;',
  );
  // The second pass parses by extension: it must see JavaScript, never TypeScript (oxc aborts
  // the process on a TypeScript declaration there).
  const runner = moduleRunnerTransformSync(`${id}.mjs`, js, { sourcemap: true });
  // Positions of this pass are in the stripped code, not the file: no line to point at.
  if (runner.errors.some((e) => e.severity === 'Error')) {
    return {
      ok: false,
      errors: runner.errors
        .filter((e) => e.severity === 'Error')
        .map((e) => ({ text: e.codeframe?.trim() ?? e.message })),
    };
  }
  const map =
    runner.map && stripped.map
      ? JSON.stringify(composeMaps(runner.map as RawSourceMap, stripped.map as RawSourceMap, [url]))
      : undefined;
  const { exports, stars } = exportsOf(runner.code);
  return {
    ok: true,
    module: {
      code: runner.code,
      map,
      deps: [...runner.deps].sort(),
      dynamicDeps: [...runner.dynamicDeps].sort(),
      exports,
      stars,
    },
  };
}

const EXPORT = /^Object\.defineProperty\(__vite_ssr_exports__, ("(?:[^"\\\n]|\\.)*"), \{$/gm;
const STAR = /^__vite_ssr_exportAll__\((__vite_ssr_import_\d+__)\);$/gm;
const IMPORT_BINDING =
  /^const (__vite_ssr_import_\d+__) = await __vite_ssr_import__\(("(?:[^"\\\n]|\\.)*")/gm;

/** The names a module-runner module exports, and what it re-exports with `export *`. */
function exportsOf(code: string): { exports: string[]; stars: string[] } {
  const exports = [...code.matchAll(EXPORT)].map((m) => JSON.parse(m[1]!) as string);
  const starBindings = new Set([...code.matchAll(STAR)].map((m) => m[1]!));
  const stars: string[] = [];
  if (starBindings.size > 0) {
    for (const m of code.matchAll(IMPORT_BINDING)) {
      if (starBindings.has(m[1]!)) stars.push(JSON.parse(m[2]!) as string);
    }
  }
  return { exports, stars };
}

const define = (name: string, value: string): string =>
  `Object.defineProperty(__vite_ssr_exports__, ${JSON.stringify(name)}, { enumerable: true, configurable: true, value: ${value} });`;

/** A module whose default export is `expression`; with `named`, its object keys too (as esbuild). */
function valueModule(expression: string, named: boolean): TransformedModule {
  const lines = [`const __hotshm_value__ = ${expression};`, define('default', '__hotshm_value__')];
  if (named) {
    lines.push(
      "if (__hotshm_value__ !== null && typeof __hotshm_value__ === 'object' && !Array.isArray(__hotshm_value__)) {",
      "  for (const key of Object.keys(__hotshm_value__)) if (key !== 'default') Object.defineProperty(__vite_ssr_exports__, key, { enumerable: true, configurable: true, value: __hotshm_value__[key] });",
      '}',
    );
  }
  return {
    code: `${lines.join('\n')}\n`,
    map: undefined,
    deps: [],
    dynamicDeps: [],
    exports: ['default'],
    stars: [],
  };
}

function jsonModule(source: string): TransformedModule {
  const value = JSON.parse(source) as unknown;
  const module = valueModule(`JSON.parse(${JSON.stringify(source)})`, true);
  const keys =
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.keys(value).filter((k) => k !== 'default')
      : [];
  return { ...module, exports: ['default', ...keys] };
}

const REQUIRE = /\brequire\(\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*\)/g;

/**
 * A CommonJS file as a module of the program: its body runs in the usual wrapper
 * (`exports, require, module, __filename, __dirname`), once, when it is first imported. The
 * program's own files it requires with a string literal are imported (evaluated) before its body
 * runs, so `require` can return them synchronously: a CommonJS module's `module.exports`, an ES
 * module's namespace. Everything else (packages, Node's modules) goes to Node's own `require`
 * from the file's place. Its default export is `module.exports`, readable while the body runs (a
 * cycle sees the exports made so far), and its own keys become named exports once it ran.
 */
function wrapCommonJs(code: string, map: unknown, url: string): TransformedModule {
  const required = [
    ...new Set(
      [...code.matchAll(REQUIRE)].map((m) =>
        m[1]!.startsWith("'")
          ? (JSON.parse(`"${m[1]!.slice(1, -1).replaceAll('"', '\\"')}"`) as string)
          : (JSON.parse(m[1]!) as string),
      ),
    ),
  ].filter((s) => /^\.{0,2}\//.test(s) || s.startsWith('file:'));
  const head = [
    "Object.defineProperty(__vite_ssr_exports__, Symbol.for('hotshm.commonjs'), { value: true });",
    'const __hotshm_module__ = { exports: {} };',
    `Object.defineProperty(__vite_ssr_exports__, "default", { enumerable: true, configurable: true, get() { return __hotshm_module__.exports; } });`,
    'const __hotshm_node_require__ = (await __vite_ssr_import__("node:module")).createRequire(__vite_ssr_import_meta__.filename);',
    'const __hotshm_required__ = new Map();',
    ...required.map(
      (s) =>
        `__hotshm_required__.set(${JSON.stringify(s)}, await __vite_ssr_import__(${JSON.stringify(s)}));`,
    ),
    'const __hotshm_require__ = Object.assign((id) => {',
    '  const ns = __hotshm_required__.get(id);',
    '  if (ns === undefined) return __hotshm_node_require__(id);',
    "  return ns[Symbol.for('hotshm.commonjs')] ? ns.default : ns;",
    '}, { resolve: __hotshm_node_require__.resolve, cache: __hotshm_node_require__.cache });',
    '(function (exports, require, module, __filename, __dirname) {',
  ];
  const tail = [
    '}).call(__hotshm_module__.exports, __hotshm_module__.exports, __hotshm_require__, __hotshm_module__, __vite_ssr_import_meta__.filename, __vite_ssr_import_meta__.dirname);',
    'const __hotshm_cjs__ = __hotshm_module__.exports;',
    "if (__hotshm_cjs__ !== null && (typeof __hotshm_cjs__ === 'object' || typeof __hotshm_cjs__ === 'function')) {",
    "  for (const key of Object.keys(__hotshm_cjs__)) if (key !== 'default' && !(key in __vite_ssr_exports__)) Object.defineProperty(__vite_ssr_exports__, key, { enumerable: true, configurable: true, get() { return __hotshm_module__.exports[key]; } });",
    '}',
  ];
  // The body keeps its lines: the map only moves down by the lines of the head.
  let composed: string | undefined;
  if (map && typeof map === 'object') {
    const m = map as RawSourceMap;
    composed = JSON.stringify({
      version: 3,
      sources: [url],
      names: m.names,
      mappings: ';'.repeat(head.length) + m.mappings,
    });
  }
  return {
    code: `${head.join('\n')}\n${code}\n${tail.join('\n')}\n`,
    map: composed,
    deps: ['node:module', ...required].sort(),
    dynamicDeps: [],
    exports: ['default'],
    stars: [],
  };
}
