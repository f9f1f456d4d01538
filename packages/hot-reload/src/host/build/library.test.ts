/**
 * What renderers run on (issue 19): from the TypeScript sources, one build into the owner's
 * temporary folder; from a published `dist`, the dist itself, with nothing built or written. The
 * last test makes a dist the way tsup does (same entries, shared chunks, `.js`), installs it as
 * `@hotshm/hot-reload` in a project outside the workspace, and starts a real owner from it, hot and
 * no-hot: the renderer draws, the owner's temporary folder holds no library build, and a no-hot
 * owner keeps no esbuild child once its renderer runs (issue 20 item 2).
 */
import { spawn } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { SpawnError } from '../../errors.js';
import { buildLibrary, distLibrary } from './library.js';
import { HOST_MODULES, libraryModuleUrl, PUBLIC_MODULES, WARM_MODULE } from './modules.js';
import { type Project, project } from './test-helper.js';

const PACKAGE = fileURLToPath(new URL('../../..', import.meta.url));
const DIST_NAMES = [...Object.values(HOST_MODULES), ...Object.values(PUBLIC_MODULES)].map(
  (f) => f.dist,
);

let p: Project | undefined;
afterEach(() => {
  p?.remove();
  p = undefined;
});

describe('the library renderers run on', () => {
  it('from the sources: one build, every module beside the runner with the same extension', async () => {
    p = project({});
    const lib = await buildLibrary(p.dir);
    expect(lib.runner).toBe(p.path('lib/runner.mjs'));
    const files = readdirSync(p.path('lib'));
    for (const name of DIST_NAMES) expect(files).toContain(`${name}.mjs`);
    // What runner-main imports while warming up resolves to files of this build.
    const base = pathToFileURL(p.path('lib/chunk-ANY.mjs')).href;
    expect(libraryModuleUrl(WARM_MODULE, base)).toBe(pathToFileURL(lib.warm).href);
    expect(readFileSync(lib.warm, 'utf8')).toContain('sourceMappingURL=data:application/json');
    expect(lib.aliases['@hotshm/hot-reload']).toBe(pathToFileURL(p.path('lib/index.mjs')).href);
  });

  it('from a dist: its own files, nothing built', () => {
    p = project(Object.fromEntries(DIST_NAMES.map((n) => [`dist/${n}.js`, 'export {};\n'])));
    const lib = distLibrary(p.path('dist'));
    expect(lib.runner).toBe(p.path('dist/runner.js'));
    expect(lib.worker).toBe(p.path('dist/worker.js'));
    expect(lib.warm).toBe(p.path('dist/warm.js'));
    expect(lib.aliases).toEqual(
      Object.fromEntries(
        Object.entries(PUBLIC_MODULES).map(([s, f]) => [
          s,
          pathToFileURL(p!.path(`dist/${f.dist}.js`)).href,
        ]),
      ),
    );
    expect(readdirSync(p.dir)).toEqual(['dist']);
    expect(libraryModuleUrl('index', pathToFileURL(p.path('dist/chunk-X.js')).href)).toBe(
      lib.aliases['@hotshm/hot-reload'],
    );
  });

  it('an incomplete dist is a SpawnError that names what is missing', () => {
    p = project({ 'dist/index.js': '' });
    expect(() => distLibrary(p!.path('dist'))).toThrow(SpawnError);
    expect(() => distLibrary(p!.path('dist'))).toThrow(/expected .*dist\/runner\.js/);
  });

  it('an owner running from a dist starts its renderers without building the library', async () => {
    p = project({
      'app/state.mjs': [
        "import { channel, defineState, framebuffer, struct, u32 } from '@hotshm/hot-reload';",
        'export const State = defineState({',
        "  name: 'dist-test',",
        "  reloadable: new URL('./renderer.ts', import.meta.url),",
        '  args: struct({ width: u32, height: u32 }),',
        '  fields: ({ width, height }) => ({',
        '    framebuffer: framebuffer(width, height),',
        '    input: channel(u32, { capacity: 4 }),',
        '  }),',
        '});',
      ].join('\n'),
      'app/renderer.ts': [
        "import { State } from './state.mjs';",
        'export async function main(): Promise<void> {',
        '  const s = State.reloadable();',
        '  s.framebuffer.back().fill(0xff00ff00);',
        '  s.framebuffer.present();',
        '  for await (const _ of s.input) {}',
        '}',
      ].join('\n'),
    });
    // The package as npm installs it: its package.json with the published exports, its dist,
    // and its dependencies (the workspace's, by a link).
    const pkg = p.path('app/node_modules/@hotshm/hot-reload');
    mkdirSync(pkg, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as {
      exports: unknown;
      publishConfig: { exports: unknown };
    };
    manifest.exports = manifest.publishConfig.exports;
    writeFileSync(join(pkg, 'package.json'), JSON.stringify(manifest));
    symlinkSync(join(PACKAGE, 'node_modules'), join(pkg, 'node_modules'));
    copyFileSync(join(PACKAGE, 'test/fixtures/dist-owner.mjs'), p.path('app/owner.mjs'));
    await esbuild.build({
      entryPoints: {
        index: join(PACKAGE, 'src/index.ts'),
        ...Object.fromEntries(
          Object.values(PUBLIC_MODULES).map((f) => [f.dist, join(PACKAGE, `src/${f.src}.ts`)]),
        ),
        ...Object.fromEntries(
          Object.values(HOST_MODULES).map((f) => [f.dist, join(PACKAGE, `src/${f.src}.ts`)]),
        ),
      },
      outdir: join(pkg, 'dist'),
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: true,
      logLevel: 'silent',
    });
    for (const mode of ['hot', 'nohot']) {
      const child = spawn(process.execPath, [p.path('app/owner.mjs'), mode], {
        cwd: p.path('app'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        err += d;
      });
      const code = await new Promise((r) => child.once('exit', r));
      expect(code, err).toBe(0);
      // hot: bundles come and go; no-hot: the bundle. Never the library build (lib/).
      const seen = JSON.parse(out.trim()) as { files: string[]; esbuild: number };
      expect(seen.files.filter((f) => f !== 'bundle.mjs' && !/^bundle-\d+\.mjs$/.test(f))).toEqual(
        [],
      );
      // No-hot: once its renderer runs, esbuild's service is gone (the owner waited for it).
      if (mode === 'nohot') expect(seen.esbuild).toBe(0);
    }
  });
});
