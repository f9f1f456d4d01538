/**
 * The program builder and the module runner on real files: what the fast path takes and what it
 * leaves to esbuild, and ES module semantics through the runner (export forms, cycles, top-level
 * await, dynamic import, JSON, CommonJS, import.meta, stack traces).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildError } from '../../errors.js';
import { evaluateProgram, preloadExternals, warmUpEvaluation } from './evaluate.js';
import { createProgramBuilder, type ProgramBuilder } from './program.js';
import { type Project, project } from './test-helper.js';
import type { Program } from './types.js';

let p: Project | undefined;
let builder: ProgramBuilder | undefined;
afterEach(async () => {
  await builder?.dispose();
  builder = undefined;
  p?.remove();
  p = undefined;
});

/** A project, its builder, and a first (full) build. */
async function setup(
  files: Record<string, string>,
  entry = 'index.ts',
  aliases: Record<string, string> = {},
): Promise<{ p: Project; b: ProgramBuilder; program: Program }> {
  p = project(files);
  builder = createProgramBuilder(p.path(entry), { aliases });
  const program = await builder.build();
  return { p, b: builder, program };
}

type Ns = Record<string, unknown>;
const run = async (program: Program): Promise<Ns> => evaluateProgram(program);
/** Runs the entry's `main()` and returns what it returned. */
const main = async (program: Program): Promise<unknown> =>
  ((await run(program)).main as () => unknown)();

describe('a save that lands while a full build reads the files', () => {
  it('is built again: esbuild read the empty file, oxc the written one, and its imports must agree', async () => {
    p = project({
      'index.ts': "import { two } from './two.js';\nexport const main = (): number => 1 + two;\n",
      'two.ts': 'export const two: number = 2;\n',
    });
    const entry = p.path('index.ts');
    let reads = 0;
    // What an editor's truncate-then-write gives: esbuild reads the file empty (no imports), then
    // the first read for oxc finds the written file.
    const real = readFileSync(entry, 'utf8');
    p.write('index.ts', '');
    builder = createProgramBuilder(entry, {
      readSource: (path) => {
        if (path === entry && reads++ === 0) {
          p!.write('index.ts', real);
          return real;
        }
        return readFileSync(path, 'utf8');
      },
    });
    const program = await builder.build();
    // Built again from the files as they are: the import esbuild never saw is in the graph.
    expect(await main(program)).toBe(3);
    expect(program.modules.map((m) => m.id).sort()).toEqual(
      [realpathSync(entry), realpathSync(p.path('two.ts'))].sort(),
    );
  });
});

describe('the fast path', () => {
  it('a body edit is transformed in process; nothing crosses to esbuild', async () => {
    const { p, b, program } = await setup({
      'index.ts': "import { two } from './two.js';\nexport const main = (): number => 1 + two;\n",
      'two.ts': 'export const two: number = 2;\n',
    });
    expect(b.lastBuild).toEqual({ path: 'full', reason: 'the first build', transformed: 2 });
    expect(await main(program)).toBe(3);
    p.write(
      'index.ts',
      "import { two } from './two.js';\nexport const main = (): number => 10 + two;\n",
    );
    const next = await b.build([p.path('index.ts')]);
    expect(b.lastBuild).toEqual({ path: 'fast', transformed: 1 });
    expect(await main(next)).toBe(12);
    expect(next.hash).not.toBe(program.hash);
    p.write('two.ts', 'export const two: number = 20;\n');
    expect(await main(await b.build([p.path('two.ts')]))).toBe(30);
    expect(b.lastBuild?.path).toBe('fast');
  });

  it('an import edit, a new import or a file outside the graph takes the full path', async () => {
    const { p, b } = await setup({
      'index.ts': "import { two } from './two.js';\nexport const main = () => two;\n",
      'two.ts': 'export const two = 2;\n',
      'three.ts': 'export const three = 3;\n',
    });
    p.write(
      'index.ts',
      "import { two } from './two.js';\nimport { three } from './three.js';\nexport const main = () => two + three;\n",
    );
    const withThree = await b.build([p.path('index.ts')]);
    expect(b.lastBuild).toEqual({
      path: 'full',
      reason: `the imports of ${p.path('index.ts')} changed`,
      transformed: 3,
    });
    expect(await main(withThree)).toBe(5);
    expect(withThree.inputs).toContain(p.path('three.ts'));
    // A dynamic import counts as an import.
    p.write('two.ts', "export const two = 2;\nexport const later = () => import('./three.js');\n");
    await b.build([p.path('two.ts')]);
    expect(b.lastBuild?.reason).toBe(`the imports of ${p.path('two.ts')} changed`);
    await b.build([p.path('elsewhere.ts')]);
    expect(b.lastBuild?.reason).toBe(`${p.path('elsewhere.ts')} is not in the program`);
    b.invalidate();
    await b.build([p.path('two.ts')]);
    expect(b.lastBuild?.reason).toBe('invalidate() was called');
    await b.build();
    expect(b.lastBuild?.reason).toBe('no list of changed files');
  });

  it('an identical save keeps the hash; a blank line changes it (the map moves)', async () => {
    const { p, b, program } = await setup({ 'index.ts': 'export const main = () => 1;\n' });
    const same = await b.build([p.path('index.ts')]);
    expect(same.hash).toBe(program.hash);
    p.write('index.ts', '\nexport const main = () => 1;\n');
    expect((await b.build([p.path('index.ts')])).hash).not.toBe(program.hash);
  });

  it('a syntax error reports esbuild’s formatted message, and the next good save builds', async () => {
    const { p, b } = await setup({ 'index.ts': 'export const main = () => 1;\n' });
    p.write('index.ts', 'export const main = () => {\n  return 1 +;\n};\n');
    const error = await b.build([p.path('index.ts')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    const e = error as BuildError;
    expect(e.code).toBe('HOTSHM_BUILD');
    expect(e.locations).toEqual([`${p.path('index.ts')}:2:13`]);
    // esbuild's words and code frame, as the bundler reports them.
    expect(e.messages[0]).toContain('[ERROR] Unexpected ";"');
    expect(e.messages[0]).toContain('index.ts:2:12:');
    expect(e.messages[0]).toContain('2 │   return 1 +;');
    p.write('index.ts', 'export const main = () => 2;\n');
    expect(await main(await b.build([p.path('index.ts')]))).toBe(2);
  });

  it('what esbuild builds but the runner cannot run is a BuildError that says why', async () => {
    const e = (await setup({
      'tsconfig.json': '{ "compilerOptions": { "experimentalDecorators": true } }',
      'index.ts':
        'const sealed = (c: unknown) => c;\n@sealed class K {}\nexport const main = () => K;\n',
    }).catch((x: unknown) => x)) as BuildError;
    expect(e).toBeInstanceOf(BuildError);
    expect(e.locations).toEqual([p!.path('index.ts')]);
    expect(e.messages[0]).toContain('legacy decorators (tsconfig experimentalDecorators)');
  });

  it('an unresolved import is esbuild’s error', async () => {
    const { p, b } = await setup({ 'index.ts': 'export const main = () => 1;\n' });
    p.write('index.ts', "import { x } from './missing.js';\nexport const main = () => x;\n");
    const e = (await b.build([p.path('index.ts')]).catch((x: unknown) => x)) as BuildError;
    expect(e).toBeInstanceOf(BuildError);
    expect(e.messages[0]).toContain('Could not resolve "./missing.js"');
  });
});

describe('ES module semantics through the runner', () => {
  it('export forms: default, named, renamed, re-exported, export *, namespaces', async () => {
    const { program } = await setup({
      'index.ts': [
        "import def, * as all from './lib.js';",
        "import { default as libDefault, renamed } from './lib.js';",
        "export { default as fromLib, value } from './lib.js';",
        "export * from './star.js';",
        "export * as starNs from './star.js';",
        'export default class Thing {}',
        'export const main = () => [def, all.value, libDefault, renamed];',
      ].join('\n'),
      'lib.ts': [
        'export default function named() { return 7; }',
        'const value = 1;',
        'export { value, value as renamed };',
      ].join('\n'),
      'star.ts': 'export const s1 = 1;\nexport const s2 = 2;\nexport default 99;\n',
    });
    expect([...program.exports].sort()).toEqual(
      ['default', 'fromLib', 'main', 's1', 's2', 'starNs', 'value'].sort(),
    );
    const ns = await run(program);
    const [def, value, libDefault, renamed] = (ns.main as () => unknown[])();
    expect(typeof def).toBe('function');
    expect((def as () => number)()).toBe(7);
    expect(libDefault).toBe(def);
    expect([value, renamed]).toEqual([1, 1]);
    expect(ns.fromLib).toBe(def);
    expect([ns.s1, ns.s2]).toEqual([1, 2]);
    // export * never re-exports a default
    expect((ns.default as { name: string }).name).toBe('Thing');
    expect((ns.starNs as Ns).default).toBe(99);
    expect(Object.prototype.toString.call(ns)).toBe('[object Module]');
  });

  it('live bindings: an importer sees a let change', async () => {
    const { program } = await setup({
      'index.ts':
        "import { count, bump } from './counter.js';\nexport const main = () => { bump(); bump(); return count; };\n",
      'counter.ts': 'export let count = 0;\nexport function bump() { count++; }\n',
    });
    expect(await main(program)).toBe(2);
  });

  it('cycles: functions are usable at once, a let before its line throws as in ESM', async () => {
    const { program } = await setup({
      'index.ts': "import { a, early } from './a.js';\nexport const main = () => [a(), early];\n",
      'a.ts': [
        "import { b, tdz } from './b.js';",
        "export function a() { return 'a' + b(); }",
        'export function fromA() { return "A"; }',
        'export const early = tdz;',
      ].join('\n'),
      'b.ts': [
        "import { fromA } from './a.js';",
        "export function b() { return 'b' + fromA(); }",
        // a.ts has not run yet when b.ts runs: its function is there, its consts are not.
        'let sawFromA = typeof fromA;',
        'export const tdz = sawFromA;',
      ].join('\n'),
    });
    expect(await main(program)).toEqual(['abA', 'function']);
  });

  it('cycles: reading a const of a module still running throws a ReferenceError', async () => {
    const { program } = await setup({
      'index.ts': "import './a.js';\nexport const main = () => 0;\n",
      'a.ts': "import './b.js';\nexport const late = 1;\n",
      'b.ts': "import { late } from './a.js';\nexport const seen = late;\n",
    });
    await expect(run(program)).rejects.toThrow(ReferenceError);
  });

  it('top-level await: an importer runs once its import settled', async () => {
    const { program } = await setup({
      'index.ts': "import { ready } from './slow.js';\nexport const main = () => ready;\n",
      'slow.ts':
        'export let ready = false;\nawait new Promise((r) => setTimeout(r, 20));\nready = true;\n',
    });
    expect(await main(program)).toBe(true);
  });

  it('dynamic import of a user file, of a package and of a computed path', async () => {
    const { program } = await setup({
      'index.ts': [
        'export async function main() {',
        "  const lazy = await import('./lazy.js');",
        "  const pkg = await import('pkg');",
        "  const name = './computed' + '.mjs';",
        '  const computed = await import(name);',
        "  const path = await import('node:path');",
        '  return [lazy.lazy, pkg.fromPkg, computed.c, typeof path.join];',
        '}',
      ].join('\n'),
      'lazy.ts': 'export const lazy = "lazy";\n',
      'computed.mjs': 'export const c = "computed";\n',
      'node_modules/pkg/package.json': '{"name":"pkg","type":"module","exports":"./index.js"}',
      'node_modules/pkg/index.js': 'export const fromPkg = "pkg";\n',
    });
    // The computed path is not in the graph: it is imported from the module's place by Node.
    expect(await main(program)).toEqual(['lazy', 'pkg', 'computed', 'function']);
  });

  it('a package import resolves to the installed package, by file URL', async () => {
    const { p, program } = await setup({
      'index.ts': "import { fromPkg } from 'pkg';\nexport const main = () => fromPkg;\n",
      'node_modules/pkg/package.json':
        '{"name":"pkg","type":"module","exports":{"import":"./esm.js","require":"./cjs.cjs"}}',
      'node_modules/pkg/esm.js': 'export const fromPkg = "esm";\n',
      'node_modules/pkg/cjs.cjs': 'exports.fromPkg = "cjs";\n',
    });
    const url = pathToFileURL(realpathSync(p.path('node_modules/pkg/esm.js'))).href;
    const entry = program.modules.find((m) => m.id === p.path('index.ts'))!;
    expect(entry.imports).toEqual({ pkg: { external: url } });
    expect(program.externals).toEqual([url]);
    expect(program.inputs).toEqual([p.path('index.ts')]);
    expect(await main(program)).toBe('esm');
  });

  it('an aliased specifier (the library) is an external under its own name', async () => {
    const lib = project({ 'lib.mjs': 'export const lib = "the library";\n' });
    try {
      const url = pathToFileURL(lib.path('lib.mjs')).href;
      const { program } = await setup(
        {
          'index.ts': "import { lib } from '@hotshm/hot-reload';\nexport const main = () => lib;\n",
        },
        'index.ts',
        { '@hotshm/hot-reload': url },
      );
      expect(program.modules[0]!.imports).toEqual({ '@hotshm/hot-reload': { external: url } });
      expect(await main(program)).toBe('the library');
    } finally {
      lib.remove();
    }
  });

  it('JSON files are modules: default and top-level keys; text files: their text', async () => {
    const { p, b, program } = await setup({
      'index.ts': [
        "import data, { answer } from './data.json';",
        "import text from './notes.txt';",
        'export const main = () => [data, answer, text];',
      ].join('\n'),
      'data.json': '{ "answer": 42, "list": [1, 2] }',
      'notes.txt': 'hello\n',
    });
    expect(await main(program)).toEqual([{ answer: 42, list: [1, 2] }, 42, 'hello\n']);
    p.write('data.json', '{ "answer": 43 }');
    const next = await b.build([p.path('data.json')]);
    expect(b.lastBuild?.path).toBe('fast');
    expect(await main(next)).toEqual([{ answer: 43 }, 43, 'hello\n']);
    // Broken JSON: esbuild says where.
    p.write('data.json', '{ "answer": }');
    const e = (await b.build([p.path('data.json')]).catch((x: unknown) => x)) as BuildError;
    expect(e).toBeInstanceOf(BuildError);
    expect(e.locations[0]).toMatch(/data\.json:1:\d+$/);
  });

  it('CommonJS files: require of the program’s files and of Node’s, module.exports, named keys', async () => {
    const { program } = await setup({
      'index.ts':
        "import config, { port } from './config.cjs';\nexport const main = () => [config, port];\n",
      'config.cjs': [
        "const { join } = require('node:path');",
        "const base = require('./base.cjs');",
        "module.exports = { port: base.port + 1, where: join('a', 'b') };",
      ].join('\n'),
      'base.cjs': 'exports.port = 8000;\n',
    });
    expect(await main(program)).toEqual([{ port: 8001, where: 'a/b' }, 8001]);
  });

  it('import.meta is each module’s own: url, filename, dirname, resolve, files beside it', async () => {
    const { p, program } = await setup({
      'index.ts': [
        "import { meta, font } from './assets/sprites.js';",
        'export const main = () => ({ here: import.meta.url, dir: import.meta.dirname, meta, font });',
      ].join('\n'),
      'assets/sprites.ts': [
        "import { readFileSync } from 'node:fs';",
        'export const meta = {',
        '  url: import.meta.url,',
        '  filename: import.meta.filename,',
        '  dirname: import.meta.dirname,',
        "  resolved: import.meta.resolve('./font.ttf'),",
        "  pkg: import.meta.resolve('node:fs'),",
        '};',
        "export const font = readFileSync(new URL('./font.ttf', import.meta.url), 'utf8');",
      ].join('\n'),
      'assets/font.ttf': 'not really a font',
    });
    const out = (await main(program)) as Ns;
    expect(out.here).toBe(pathToFileURL(p.path('index.ts')).href);
    expect(out.dir).toBe(p.dir);
    expect(out.meta).toEqual({
      url: pathToFileURL(p.path('assets/sprites.ts')).href,
      filename: p.path('assets/sprites.ts'),
      dirname: p.path('assets'),
      resolved: pathToFileURL(p.path('assets/font.ttf')).href,
      pkg: 'node:fs',
    });
    expect(out.font).toBe('not really a font');
  });

  it('a default and a namespace import in one statement (oxc drops the default; split first)', async () => {
    const { program } = await setup({
      'index.ts': "import d, * as ns from './m.js';\nexport const main = () => [d, ns.x];\n",
      'm.ts': 'export default "d";\nexport const x = "x";\n',
    });
    expect(await main(program)).toEqual(['d', 'x']);
  });

  it('tsconfig verbatimModuleSyntax: an unused import still runs (as esbuild keeps it)', async () => {
    const { program } = await setup({
      'tsconfig.json': '{ "compilerOptions": { "verbatimModuleSyntax": true } }',
      'index.ts':
        "import { registered } from './side.js';\nexport const main = () => (globalThis as any).__sideRan;\n",
      'side.ts': '(globalThis as any).__sideRan = true;\nexport const registered = 1;\n',
    });
    expect(await main(program)).toBe(true);
    delete (globalThis as Record<string, unknown>).__sideRan;
  });

  it('a saved tsconfig is read again: the next build compiles by it', async () => {
    const { p, b, program } = await setup({
      'tsconfig.json': '{}',
      'index.ts':
        "import { registered } from './side.js';\nexport const main = () => (globalThis as any).__sideRan2 === true;\n",
      'side.ts': '(globalThis as any).__sideRan2 = true;\nexport const registered = 1;\n',
    });
    expect(await main(program)).toBe(false);
    p.write('tsconfig.json', '{ "compilerOptions": { "verbatimModuleSyntax": true } }');
    const next = await b.build([p.path('tsconfig.json')]);
    expect(b.lastBuild?.reason).toBe('a tsconfig changed');
    expect(await main(next)).toBe(true);
    delete (globalThis as Record<string, unknown>).__sideRan2;
  });

  it('without it, a type-only use is elided as TypeScript does', async () => {
    const { program } = await setup({
      'index.ts':
        "import { Shape } from './types.js';\nexport const main = (s?: Shape) => s ?? 'no types module';\n",
      'types.ts': 'export interface Shape { x: number }\n',
    });
    expect(program.inputs).toEqual([p!.path('index.ts')]);
    expect(await main(program)).toBe('no types module');
  });

  it('JSX with the automatic runtime when the graph says so (tsconfig jsx: react-jsx)', async () => {
    const { program } = await setup(
      {
        'tsconfig.json': '{ "compilerOptions": { "jsx": "react-jsx", "jsxImportSource": "mini" } }',
        'index.tsx': 'export const main = () => <b id="x">hi</b>;\n',
        'node_modules/mini/package.json':
          '{"name":"mini","type":"module","exports":{"./jsx-runtime":"./jsx.js"}}',
        'node_modules/mini/jsx.js':
          'export const jsx = (type, props) => ({ type, props });\nexport const jsxs = jsx;\nexport const Fragment = "frag";\n',
      },
      'index.tsx',
    );
    expect(await main(program)).toEqual({ type: 'b', props: { id: 'x', children: 'hi' } });
  });
});

describe('externals', () => {
  it('preloaded once: the program’s own import finds them loaded', async () => {
    const { p, program } = await setup({
      'index.ts': "import { n } from 'counted';\nexport const main = () => n;\n",
      'node_modules/counted/package.json': '{"name":"counted","type":"module","exports":"./i.js"}',
      'node_modules/counted/i.js': 'export const n = 5;\n',
    });
    const url = pathToFileURL(realpathSync(p.path('node_modules/counted/i.js'))).href;
    const asked: string[] = [];
    const importExternal = (u: string) => {
      asked.push(u);
      return import(u);
    };
    const report = await preloadExternals(program.externals, { importExternal });
    expect(report).toEqual({ loaded: [url], failed: [] });
    const ns = await evaluateProgram(program, { importExternal });
    expect((ns.main as () => number)()).toBe(5);
    await evaluateProgram(program, { importExternal });
    expect(asked).toEqual([url]);
  });

  it('a package that fails to load is reported, not thrown', async () => {
    const report = await preloadExternals(['file:///nonexistent/hotshm-missing.js']);
    expect(report.loaded).toEqual([]);
    expect(report.failed.map((f) => f.url)).toEqual(['file:///nonexistent/hotshm-missing.js']);
  });
});

describe('stack traces', () => {
  it('name the original file, line and column through both transforms', async () => {
    const source = [
      "import { helper } from './deep/helper.js';",
      'type Unused = { a: number };',
      'export function main(): string {',
      '  return helper(3);',
      '}',
    ].join('\n');
    const helper = [
      'interface Options { n: number }',
      'export function helper(n: Options["n"]): string {',
      '  if (n > 2) {',
      "    throw new Error('thrown from helper');",
      '  }',
      "  return 'ok';",
      '}',
    ].join('\n');
    const { p, program } = await setup({ 'index.ts': source, 'deep/helper.ts': helper });
    const ns = await run(program);
    let stack = '';
    try {
      (ns.main as () => string)();
    } catch (e) {
      stack = (e as Error).stack ?? '';
    }
    const frames = stack
      .split('\n')
      .slice(1, 3)
      .map((l) => l.trim());
    expect(frames[0]).toBe(`at helper (${p.path('deep/helper.ts')}:4:11)`);
    // Called on the namespace, as `ns.main()` on an ES module's namespace.
    expect(frames[1]).toBe(`at Module.main (${p.path('index.ts')}:4:10)`);
    expect(
      readFileSync(p.path('deep/helper.ts'), 'utf8').split('\n')[3]!.indexOf('new Error'),
    ).toBe(10);
  });
});

describe('warm-up', () => {
  it('runs a program of its own through the runner, and leaves the next one unaffected', async () => {
    await warmUpEvaluation();
    const { program } = await setup({ 'index.ts': 'export const main = () => import.meta.url;\n' });
    expect(await main(program)).toBe(pathToFileURL(p!.path('index.ts')).href);
  });
});
