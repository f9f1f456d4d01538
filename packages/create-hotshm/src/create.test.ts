/**
 * The generator on real folders: what each template writes, the name put in, the package.json,
 * and the folders it refuses (leaving them as they were).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CreateError,
  CreateErrorCode,
  createProject,
  DEFAULT_TEMPLATE,
  nextSteps,
  packageManager,
  packageNameFor,
  TEMPLATES,
  VERSIONS,
} from './index.js';

const here = (p: string) => new URL(p, import.meta.url);
const json = (url: URL | string) => JSON.parse(readFileSync(url, 'utf8'));

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'create-hotshm-test-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('createProject', () => {
  it('writes the minimal template: state, renderer, owner, tsconfig, package.json', () => {
    const project = createProject({ dir: join(tmp, 'My App') });
    expect(project).toMatchObject({
      name: 'my-app',
      template: 'minimal',
      dir: join(tmp, 'My App'),
    });
    expect(project.files).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src/owner.ts',
      'src/renderer.ts',
      'src/state.ts',
      'tsconfig.json',
    ]);
    const read = (f: string) => readFileSync(join(project.dir, f), 'utf8');
    expect(read('.gitignore')).toBe('node_modules/\n');
    expect(read('src/state.ts')).toContain("name: 'my-app',");
    expect(read('src/state.ts')).toContain("reloadable: new URL('./renderer.ts', import.meta.url)");
    expect(read('README.md').split('\n')[0]).toBe('# my-app');
    expect(read('src/owner.ts')).toContain("title: 'my-app'");
    // The name token is gone everywhere.
    for (const f of project.files) expect(read(f)).not.toContain('hotshm-app');
    // Every file but package.json is the template's, byte for byte once the name is put in.
    for (const f of project.files.filter((f) => f !== 'package.json')) {
      const from = f === '.gitignore' ? '_gitignore' : f;
      const layer = ['src/owner.ts', 'tsconfig.json', '.gitignore'].includes(f)
        ? 'common'
        : 'minimal';
      const template = readFileSync(here(`../templates/${layer}/${from}`), 'utf8');
      expect(read(f)).toBe(template.replaceAll('hotshm-app', 'my-app'));
    }
  });

  it('writes package.json with the scripts, the library at this version and pinned tools', () => {
    const project = createProject({ dir: join(tmp, 'app'), template: 'minimal' });
    const pkg = json(join(project.dir, 'package.json'));
    const own = json(here('../package.json'));
    expect(pkg).toEqual({
      name: 'app',
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: {
        dev: 'hotshm dev src/owner.ts',
        start: 'hotshm start src/owner.ts',
        typecheck: 'tsc',
      },
      engines: { node: '^20.19.0 || ^22.12.0 || ^24.0.0 || ^26.0.0' },
      dependencies: { '@hotshm/hot-reload': `^${own.version}` },
      devDependencies: {
        '@types/node': VERSIONS['@types/node'],
        typescript: VERSIONS.typescript,
      },
    });
    expect(readFileSync(join(project.dir, 'package.json'), 'utf8').endsWith('}\n')).toBe(true);
  });

  it('writes the canvas template with Skia and a font among its dependencies', () => {
    const project = createProject({ dir: join(tmp, 'skia'), template: 'canvas', name: 'drawn' });
    expect(project.files).toEqual([
      '.gitignore',
      'README.md',
      'package.json',
      'src/owner.ts',
      'src/renderer.ts',
      'src/scene.ts',
      'src/state.ts',
      'tsconfig.json',
    ]);
    const pkg = json(join(project.dir, 'package.json'));
    expect(pkg.name).toBe('drawn');
    expect(Object.keys(pkg.dependencies)).toEqual([
      '@hotshm/hot-reload',
      '@expo-google-fonts/roboto-mono',
      'canvaskit-wasm',
    ]);
    const renderer = readFileSync(join(project.dir, 'src/renderer.ts'), 'utf8');
    expect(renderer).toContain("from '@hotshm/hot-reload/canvas'");
    // The font the renderer loads is a file of the package it depends on.
    const font = /import\.meta\.resolve\(\s*'([^']+)'/.exec(renderer)?.[1];
    expect(font?.startsWith('@expo-google-fonts/roboto-mono/')).toBe(true);
    expect(font?.endsWith('.ttf')).toBe(true);
  });

  it('pins what the workspace itself builds, tests and benchmarks with', () => {
    const root = json(here('../../../package.json'));
    const library = json(here('../../hot-reload/package.json'));
    expect(VERSIONS.typescript).toBe(root.devDependencies.typescript);
    expect(VERSIONS['@types/node']).toBe(root.devDependencies['@types/node']);
    expect(VERSIONS['canvaskit-wasm']).toBe(library.devDependencies['canvaskit-wasm']);
    expect(VERSIONS['@expo-google-fonts/roboto-mono']).toBe(
      library.devDependencies['@expo-google-fonts/roboto-mono'],
    );
    // The library's peer range takes the canvaskit-wasm a project is made with.
    expect(library.peerDependencies['canvaskit-wasm']).toBe(`^${VERSIONS['canvaskit-wasm']}`);
    // Released together (.changeset/config.json "fixed"): `^<own version>` names that library.
    expect(json(here('../package.json')).version).toBe(library.version);
  });

  it('creates a missing folder, and uses an empty one or one with only .git', () => {
    expect(createProject({ dir: join(tmp, 'a', 'b', 'c') }).files).toContain('src/owner.ts');
    mkdirSync(join(tmp, 'empty'));
    expect(createProject({ dir: join(tmp, 'empty') }).name).toBe('empty');
    mkdirSync(join(tmp, 'repo', '.git'), { recursive: true });
    writeFileSync(join(tmp, 'repo', '.git', 'HEAD'), 'ref: refs/heads/main\n');
    createProject({ dir: join(tmp, 'repo') });
    expect(readdirSync(join(tmp, 'repo')).sort()).toEqual([
      '.git',
      '.gitignore',
      'README.md',
      'package.json',
      'src',
      'tsconfig.json',
    ]);
  });

  it('refuses a folder that holds anything, and leaves it as it was', () => {
    const dir = join(tmp, 'busy');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    const attempt = () => createProject({ dir });
    expect(attempt).toThrow(CreateError);
    expect(attempt).toThrow(
      `expected a new or empty folder at ${dir}, got one that holds 1 entry (notes.txt): choose another folder, or empty this one`,
    );
    expect(readdirSync(dir)).toEqual(['notes.txt']);
    for (const n of ['a', 'b', 'c', 'd']) writeFileSync(join(dir, n), '');
    expect(attempt).toThrow('holds 5 entries (a, b, c, …)');
    try {
      attempt();
    } catch (e) {
      expect((e as CreateError).code).toBe(CreateErrorCode.NotEmpty);
    }
    writeFileSync(join(tmp, 'file'), '');
    expect(() => createProject({ dir: join(tmp, 'file') })).toThrow(
      `expected a new or empty folder at ${join(tmp, 'file')}, got a file`,
    );
  });

  it('refuses an unknown template or a bad package name before writing anything', () => {
    const dir = join(tmp, 'never');
    expect(() => createProject({ dir, template: 'react' })).toThrow(
      'expected a template among minimal, canvas, got "react"',
    );
    expect(() => createProject({ dir, name: 'Bad Name' })).toThrow(
      /expected a package name .*, got "Bad Name"/,
    );
    expect(() => createProject({ dir, template: 'toString' })).toThrow(CreateError);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('packageNameFor', () => {
  it('makes an npm name of a folder name', () => {
    expect(packageNameFor('my-app')).toBe('my-app');
    expect(packageNameFor('My Cool App!')).toBe('my-cool-app');
    expect(packageNameFor('.hidden')).toBe('hidden');
    expect(packageNameFor('___')).toBe('hotshm-app');
    expect(packageNameFor('x'.repeat(300))).toHaveLength(214);
  });
});

describe('nextSteps', () => {
  const project = (template: 'minimal' | 'canvas') => ({
    dir: '/home/me/code/my-app',
    name: 'my-app',
    template,
    files: [],
  });

  it('says what was made and what to type, for the package manager that ran it', () => {
    const text = nextSteps(project('minimal'), { cwd: '/home/me/code', packageManager: 'npm' });
    expect(text).toBe(
      [
        'Created my-app in /home/me/code/my-app from the minimal template:',
        `  ${TEMPLATES.minimal}.`,
        '',
        'Next steps:',
        '  cd my-app',
        '  npm install',
        '  npm run dev     # a window: edit src/renderer.ts and save, it reloads in place',
        '  npm start       # the same without hot reload',
        '',
        'The window needs SDL2 (Debian/Ubuntu: apt install libsdl2-2.0-0, macOS: brew install sdl2);',
        'without it the app draws in the terminal.',
        '',
      ].join('\n'),
    );
    const canvas = nextSteps(project('canvas'), { cwd: '/home/me', packageManager: 'pnpm' });
    expect(canvas).toContain('  cd code/my-app\n  pnpm install\n  pnpm dev ');
    expect(canvas).toContain('edit src/scene.ts and save');
    expect(nextSteps(project('minimal'), { cwd: '/home/me/code/my-app' })).not.toContain('cd ');
  });

  it('reads the package manager from its user agent', () => {
    expect(packageManager('pnpm/12.21.0 npm/? node/v20.20.2 linux x64')).toBe('pnpm');
    expect(packageManager('yarn/1.22.22 npm/? node/v20.20.2 linux x64')).toBe('yarn');
    expect(packageManager('bun/1.4.4 npm/? node/v20.20.2 linux x64')).toBe('bun');
    expect(packageManager('npm/10.8.2 node/v20.20.2 linux x64 workspaces/false')).toBe('npm');
    expect(packageManager(undefined)).toBe('npm');
    expect(DEFAULT_TEMPLATE).toBe('minimal');
  });
});
