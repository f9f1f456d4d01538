/**
 * The library's face: the subpaths are listed alike in every place that names them, and the
 * root keeps `HotshmError` and `ErrorCode` of the errors, the classes living on `/errors`.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as errorsModule from '../src/errors.js';
import * as errorsSubpath from '../src/exports/errors.js';
import { LIBRARY_NAME, PUBLIC_MODULES } from '../src/host/build/modules.js';
import * as root from '../src/index.js';
import tsupConfig from '../tsup.config.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string>;
  publishConfig: { exports: Record<string, string | { types: string; default: string }> };
};

/** Subpath ('.', './errors') → its source file (without extension) and its dist name. */
function fromPackageJson(): Record<string, { src: string; dist: string }> {
  const out: Record<string, { src: string; dist: string }> = {};
  for (const [subpath, src] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const published = pkg.publishConfig.exports[subpath];
    if (typeof published !== 'object') throw new Error(`publishConfig.exports lacks ${subpath}`);
    expect(published.types).toBe(published.default.replace(/\.js$/, '.d.ts'));
    out[subpath] = {
      src: src.replace(/^\.\/src\//, '').replace(/\.ts$/, ''),
      dist: published.default.replace(/^\.\/dist\//, '').replace(/\.js$/, ''),
    };
  }
  return out;
}

describe('the subpaths', () => {
  it('package.json exports, publishConfig.exports, tsup and the renderer build list the same ones', () => {
    const listed = fromPackageJson();
    expect(Object.keys(listed).sort()).toEqual(
      Object.keys(pkg.publishConfig.exports)
        .filter((k) => k !== './package.json')
        .sort(),
    );
    expect(Object.keys(listed)).toContain('./errors');
    // The renderer build (host/build/modules.ts): specifier → the same files.
    const modules = Object.fromEntries(
      Object.entries(listed).map(([subpath, files]) => [
        `${LIBRARY_NAME}${subpath.slice(1)}`,
        files,
      ]),
    );
    // (`warm` says whether a standby imports it while warming up: not a file.)
    const files = Object.fromEntries(
      Object.entries(PUBLIC_MODULES).map(([k, { src, dist }]) => [k, { src, dist }]),
    );
    expect(files).toEqual(modules);
    // tsup: one entry per subpath, named after its dist file, built from its source, with types.
    const config = tsupConfig as { entry: Record<string, string>; dts: { entry: unknown } };
    for (const { src, dist } of Object.values(listed)) {
      expect(config.entry[dist]).toBe(`src/${src}.ts`);
    }
    expect(config.dts.entry).toEqual(
      Object.fromEntries(Object.values(listed).map(({ src, dist }) => [dist, `src/${src}.ts`])),
    );
  });
});

describe('the errors', () => {
  const errorNames = Object.keys(errorsModule);

  it('the root exports HotshmError and ErrorCode, and no other error class', () => {
    expect(Object.keys(root).filter((k) => errorNames.includes(k) || /Error$/.test(k))).toEqual([
      'ErrorCode',
      'HotshmError',
    ]);
    expect(root.HotshmError).toBe(errorsModule.HotshmError);
    expect(root.ErrorCode).toBe(errorsModule.ErrorCode);
  });

  it('/errors exports every class of errors.ts, the very same ones, each a HotshmError', () => {
    expect(Object.keys(errorsSubpath).sort()).toEqual([...errorNames].sort());
    for (const name of errorNames) {
      const value = (errorsSubpath as Record<string, unknown>)[name];
      expect(value).toBe((errorsModule as Record<string, unknown>)[name]);
      if (name === 'ErrorCode' || name === 'HotshmError') continue;
      expect((value as { prototype: unknown }).prototype).toBeInstanceOf(errorsModule.HotshmError);
    }
  });
});
