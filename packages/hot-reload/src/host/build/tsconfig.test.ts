import { afterEach, describe, expect, it } from 'vitest';
import { type Project, project } from './test-helper.js';
import { parseJsonc, TsconfigCache } from './tsconfig.js';

let p: Project | undefined;
afterEach(() => {
  p?.remove();
  p = undefined;
});

describe('tsconfig settings, read as esbuild reads them', () => {
  it('parses comments and trailing commas, and leaves strings alone', () => {
    expect(
      parseJsonc('{ // a comment\n "a": "http://x/*y*/", /* block */ "b": [1, 2,], }'),
    ).toEqual({ a: 'http://x/*y*/', b: [1, 2] });
    expect(parseJsonc('{ nope')).toBeUndefined();
  });

  it('the nearest config wins, its extends chain (relative and package) below it', () => {
    p = project({
      'tsconfig.json': '{ "extends": "./base.json", "compilerOptions": { "jsx": "react-jsx" } }',
      'base.json':
        '{ "extends": "shared-config/tsconfig.json", "compilerOptions": { "jsxImportSource": "preact" } }',
      'node_modules/shared-config/tsconfig.json':
        '{ "compilerOptions": { "verbatimModuleSyntax": true, "jsx": "react" } }',
      'src/a.ts': '',
      'legacy/tsconfig.json':
        '{ "compilerOptions": { "importsNotUsedAsValues": "preserve", "experimentalDecorators": true, "useDefineForClassFields": false } }',
      'legacy/b.ts': '',
      'plain/jsconfig.json': '{}',
      'plain/c.js': '',
    });
    const cache = new TsconfigCache();
    expect(cache.settingsFor(p.path('src/a.ts'))).toEqual({
      keepImports: true,
      jsx: 'automatic',
      jsxImportSource: 'preact',
    });
    expect(cache.settingsFor(p.path('legacy/b.ts'))).toEqual({
      keepImports: true,
      legacyDecorators: true,
      defineClassFields: false,
    });
    expect(cache.settingsFor(p.path('plain/c.js'))).toEqual({ keepImports: false });
  });
});
