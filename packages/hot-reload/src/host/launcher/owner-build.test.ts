/**
 * The owner's build on real files: what it bundles and what it leaves to Node, the files it read,
 * each module's own import.meta, and esbuild's message when it does not build.
 */
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { OwnerBuildError } from '../../errors.js';
import { type OwnerBuilder, ownerBuilder, packageDirOf } from './owner-build.js';
import { writeBundle } from './owner-process.js';

let dir: string | undefined;
const builders: OwnerBuilder[] = [];
afterEach(() => {
  for (const b of builders.splice(0)) b.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const SRC = fileURLToPath(new URL('../..', import.meta.url));
const builderOf = (entry: string): OwnerBuilder => {
  const b = ownerBuilder(entry);
  builders.push(b);
  return b;
};

/** A package with an owner in src/, a helper beside it, and an installed dependency. */
function project(main: string): string {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'hotshm-owner-build-')));
  writeFileSync(join(dir, 'package.json'), '{ "name": "app", "type": "module" }\n');
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(
    join(dir, 'node_modules', 'dep', 'package.json'),
    '{ "name": "dep", "type": "module", "exports": "./index.js" }\n',
  );
  writeFileSync(
    join(dir, 'node_modules', 'dep', 'index.js'),
    'export const where = import.meta.url;\n',
  );
  writeFileSync(
    join(dir, 'src', 'helper.ts'),
    [
      'export const url: string = import.meta.url;',
      'export const dirname: string = import.meta.dirname;',
      'export const filename: string = import.meta.filename;',
      "export const spelled = 'import.meta.url';",
    ].join('\n'),
  );
  writeFileSync(join(dir, 'src', 'main.ts'), main);
  return join(dir, 'src', 'main.ts');
}

const MAIN = [
  "import { join } from 'node:path';",
  "import { where } from 'dep';",
  "import * as helper from './helper.ts';",
  'export const result = { ...helper, dep: where, own: import.meta.url, joined: join("a", "b") };',
].join('\n');

describe('the owner build', () => {
  it('bundles the owner’s files, leaves installed packages to Node by URL, and lists what it read', async () => {
    const entry = project(MAIN);
    const builder = builderOf(entry);
    expect(builder.outDir).toBe(join(dir!, 'node_modules', '.cache', 'hotshm'));
    const build = await builder.build();
    const own = build.inputs.filter((f) => !f.startsWith(SRC));
    expect(own.sort()).toEqual([join(dir!, 'src', 'helper.ts'), entry]);
    expect(build.code).toContain(pathToFileURL(join(dir!, 'node_modules', 'dep', 'index.js')).href);
    expect(build.hash).toMatch(/^[0-9a-f]{64}$/);
    // The same sources make the same bundle: nothing restarts for a save that changes nothing.
    expect((await builder.build()).hash).toBe(build.hash);
  });

  it('gives each module its own import.meta, and leaves a string that spells it alone', async () => {
    const entry = project(MAIN);
    const builder = builderOf(entry);
    const file = writeBundle(builder.outDir, await builder.build(), 1);
    const { result } = (await import(pathToFileURL(file).href)) as {
      result: Record<string, string>;
    };
    const helper = join(dir!, 'src', 'helper.ts');
    expect(result).toEqual({
      url: pathToFileURL(helper).href,
      dirname: join(dir!, 'src'),
      filename: helper,
      spelled: 'import.meta.url',
      dep: pathToFileURL(join(dir!, 'node_modules', 'dep', 'index.js')).href,
      own: pathToFileURL(entry).href,
      joined: join('a', 'b'),
    });
  });

  it('fails with OwnerBuildError: esbuild’s formatted message and the absolute place', async () => {
    const entry = project('export const a = 1;\nconst broken = ;\n');
    const error = await builderOf(entry)
      .build()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OwnerBuildError);
    const e = error as OwnerBuildError;
    expect(e.code).toBe('HOTSHM_OWNER_BUILD');
    expect(e.locations).toEqual([`${entry}:2:16`]);
    expect(e.message).toBe(`the owner ${entry} does not build: ✘ [ERROR] Unexpected ";"`);
    expect(e.messages[0]).toContain('const broken = ;');
  });

  it('imports this library (run from its sources) from one build of it, whose sources are inputs', async () => {
    const entry = project(
      "import { u32 } from '@hotshm/hot-reload';\nexport const size: number = u32.size;\n",
    );
    mkdirSync(join(dir!, 'node_modules', '@hotshm'));
    symlinkSync(join(SRC, '..'), join(dir!, 'node_modules', '@hotshm', 'hot-reload'), 'dir');
    const builder = builderOf(entry);
    const build = await builder.build();
    // The library is imported by the URL of its build, not bundled into the owner.
    expect(builder.libraryDir).toBe(join(SRC, '..', '.cache', 'hotshm-lib'));
    const lib = new RegExp(`"(file://${builder.libraryDir}/lib-${process.pid}-1/lib/index\\.mjs)"`);
    expect(build.code).toMatch(lib);
    expect(build.code).not.toContain('function defineState');
    expect(build.inputs).toContain(join(SRC, 'owner.ts'));
    expect(build.inputs).toContain(join(SRC, 'host', 'launcher', 'session.ts'));
    expect(build.inputs.some((f) => f.endsWith('.test.ts'))).toBe(false);
    const file = writeBundle(builder.outDir, build, 1);
    expect(((await import(pathToFileURL(file).href)) as { size: number }).size).toBe(4);
    // A second build reuses the library's build.
    await builder.build();
    const mine = () =>
      readdirSync(builder.libraryDir!).filter((n) => n.startsWith(`lib-${process.pid}-`));
    expect(mine()).toEqual([`lib-${process.pid}-1`]);
    builder.dispose();
    expect(mine()).toEqual([]);
  });

  it('finds the owner’s package from its file', () => {
    const entry = project(MAIN);
    expect(packageDirOf(entry)).toBe(dir);
    expect(packageDirOf(join(dir!, 'node_modules', 'dep', 'index.js'))).toBe(
      join(dir!, 'node_modules', 'dep'),
    );
  });
});
