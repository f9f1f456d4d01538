#!/usr/bin/env node
/**
 * `hotshm dev <owner.ts>` / `hotshm start <owner.ts>`: see src/host/launcher/cli.ts.
 *
 * Plain JavaScript, so it runs wherever the library is: installed from npm it imports the built
 * launcher from dist/; in the workspace (TypeScript sources, which Node 20 cannot run) it first
 * bundles the launcher with esbuild into this package's .cache/ folder (~0.1 s; git ignores it),
 * and removes the bundle when it exits. There the library's dependencies resolve, and so does the
 * package's own name (Node finds no package by its own name from inside a node_modules folder),
 * which is how the launcher finds these sources to build the library for the owner.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src', 'host', 'launcher');

async function buildFromSources() {
  const cache = join(root, '.cache', 'hotshm-cli');
  mkdirSync(cache, { recursive: true });
  // Bundles of launchers that are gone (a SIGKILL leaves its folder behind).
  for (const name of readdirSync(cache)) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') rmSync(join(cache, name), { recursive: true, force: true });
    }
  }
  const outdir = join(cache, String(process.pid));
  const esbuild = await import('esbuild');
  try {
    await esbuild.build({
      entryPoints: {
        launcher: join(sources, 'cli.ts'),
        'launcher-boot': join(sources, 'boot.ts'),
      },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outdir,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      sourcemap: 'inline',
      logLevel: 'error',
    });
  } finally {
    await esbuild.stop();
  }
  process.once('exit', () => rmSync(outdir, { recursive: true, force: true }));
  return join(outdir, 'launcher.mjs');
}

const cli = existsSync(join(sources, 'cli.ts'))
  ? await buildFromSources()
  : join(root, 'dist', 'launcher.js');
const { main } = await import(pathToFileURL(cli).href);
const code = await main(process.argv.slice(2));
if (code !== undefined) process.exit(code);
