/**
 * The tsconfig settings that change how a file compiles, read the way esbuild reads them: the
 * nearest `tsconfig.json` (or `jsconfig.json`) above the file, its `extends` chain followed
 * (relative paths and packages), comments and trailing commas allowed. Only what the transform
 * needs: whether unused imports are kept (`verbatimModuleSyntax`, or the older
 * `preserveValueImports` / `importsNotUsedAsValues: "preserve"`), how JSX compiles, and legacy
 * decorators.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export interface CompileSettings {
  readonly keepImports: boolean;
  readonly jsx?: 'classic' | 'automatic';
  readonly jsxImportSource?: string;
  readonly jsxFactory?: string;
  readonly jsxFragmentFactory?: string;
  readonly jsxDev?: boolean;
  readonly legacyDecorators?: boolean;
  readonly decoratorMetadata?: boolean;
  readonly defineClassFields?: boolean;
}

type Options = Record<string, unknown>;

/** JSON with comments and trailing commas (tsconfig's dialect), or undefined when unreadable. */
export function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      const start = i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      out += text.slice(start, ++i);
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  try {
    return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
  } catch {
    return undefined;
  }
}

/** A config's compiler options merged over those of what it extends (the nearer wins). */
function compilerOptionsOf(file: string, seen: Set<string>): Options {
  if (seen.has(file)) return {};
  seen.add(file);
  let json: unknown;
  try {
    json = parseJsonc(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
  if (json === null || typeof json !== 'object') return {};
  const config = json as { extends?: unknown; compilerOptions?: unknown };
  const bases =
    typeof config.extends === 'string'
      ? [config.extends]
      : Array.isArray(config.extends)
        ? config.extends
        : [];
  let merged: Options = {};
  for (const base of bases) {
    if (typeof base !== 'string') continue;
    const path = resolveExtends(base, dirname(file));
    if (path) merged = { ...merged, ...compilerOptionsOf(path, seen) };
  }
  const own = config.compilerOptions;
  return own !== null && typeof own === 'object' ? { ...merged, ...(own as Options) } : merged;
}

function resolveExtends(base: string, from: string): string | undefined {
  if (base.startsWith('.') || isAbsolute(base)) {
    const path = resolve(from, base);
    for (const p of [path, `${path}.json`])
      if (statSync(p, { throwIfNoEntry: false })?.isFile()) return p;
    return undefined;
  }
  const require = createRequire(join(from, 'tsconfig.json'));
  for (const candidate of [base, `${base}.json`, `${base}/tsconfig.json`]) {
    try {
      return require.resolve(candidate);
    } catch {
      // next form
    }
  }
  return undefined;
}

/** The nearest config above `dir` (tsconfig.json first, then jsconfig.json), or undefined. */
function nearestConfig(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    for (const name of ['tsconfig.json', 'jsconfig.json']) {
      const p = join(d, name);
      if (existsSync(p)) return p;
    }
    if (dirname(d) === d) return undefined;
  }
}

/** Reads settings per folder, once, until `clear()` (after a save of a config). */
export class TsconfigCache {
  readonly #byDir = new Map<string, CompileSettings>();

  settingsFor(file: string): CompileSettings {
    const dir = dirname(file);
    let s = this.#byDir.get(dir);
    if (!s) {
      const config = nearestConfig(dir);
      s = settingsOf(config ? compilerOptionsOf(config, new Set()) : {});
      this.#byDir.set(dir, s);
    }
    return s;
  }

  clear(): void {
    this.#byDir.clear();
  }
}

function settingsOf(o: Options): CompileSettings {
  const str = (k: string): string | undefined =>
    typeof o[k] === 'string' ? (o[k] as string) : undefined;
  const jsx = str('jsx')?.toLowerCase();
  const keepImports =
    o.verbatimModuleSyntax === true ||
    o.preserveValueImports === true ||
    str('importsNotUsedAsValues')?.toLowerCase() === 'preserve';
  const settings: { -readonly [K in keyof CompileSettings]: CompileSettings[K] } = { keepImports };
  if (jsx === 'react-jsx' || jsx === 'react-jsxdev') {
    settings.jsx = 'automatic';
    if (jsx === 'react-jsxdev') settings.jsxDev = true;
  } else if (jsx !== undefined) {
    settings.jsx = 'classic';
  }
  const source = str('jsxImportSource');
  if (source !== undefined) settings.jsxImportSource = source;
  const factory = str('jsxFactory');
  if (factory !== undefined) settings.jsxFactory = factory;
  const fragment = str('jsxFragmentFactory');
  if (fragment !== undefined) settings.jsxFragmentFactory = fragment;
  if (o.experimentalDecorators === true) settings.legacyDecorators = true;
  if (o.emitDecoratorMetadata === true) settings.decoratorMetadata = true;
  if (typeof o.useDefineForClassFields === 'boolean')
    settings.defineClassFields = o.useDefineForClassFields;
  return settings;
}
