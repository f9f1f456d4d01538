/**
 * The library build and an optional peer dependency (`/canvas` imports canvaskit-wasm): installed,
 * it is imported by file URL like any installed package; missing, the import stays as written and
 * the build succeeds, so an app that never draws with Skia does not need it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { installedPackagesPlugin } from './bundler.js';
import { optionalPeers } from './library.js';

const SOURCE = "export const load = () => import('canvaskit-wasm');\n";
let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function build(entry: string): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [optionalPeers, installedPackagesPlugin().plugin],
  });
  return out.outputFiles[0]!.text;
}

describe('optional peers in the library build', () => {
  it('missing: the import stays as written', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotshm-peers-'));
    writeFileSync(join(dir, 'canvas.js'), SOURCE);
    // The build without the plugin is what failed: canvaskit-wasm cannot be resolved from here.
    await expect(
      esbuild.build({
        entryPoints: [join(dir, 'canvas.js')],
        bundle: true,
        write: false,
        platform: 'node',
        format: 'esm',
        logLevel: 'silent',
        plugins: [installedPackagesPlugin().plugin],
      }),
    ).rejects.toThrow(/Could not resolve "canvaskit-wasm"/);
    expect(await build(join(dir, 'canvas.js'))).toContain('import("canvaskit-wasm")');
  });

  it('installed: imported by the file URL of the installed package', async () => {
    // This package has canvaskit-wasm installed (a devDependency).
    dir = mkdtempSync(
      join(fileURLToPath(new URL('../../../node_modules/.cache', import.meta.url)), 'peers-'),
    );
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'canvas.js'), SOURCE);
    const code = await build(join(dir, 'canvas.js'));
    const url = /import\("(file:[^"]+)"\)/.exec(code)?.[1];
    expect(url).toMatch(/\/canvaskit-wasm\/bin\/canvaskit\.js$/);
    expect(url).toBe(pathToFileURL(fileURLToPath(url!)).href);
  });
});
