/**
 * The standby runner is bundled once per owner (about 20 ms) into plain JavaScript, so standby
 * processes start with bare `node`: no TypeScript loader on the reload path, whether this library
 * runs from its sources in a workspace or from its published dist.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { externalizeInstalledPackages, loadEsbuild } from './bundler.js';

export async function buildRunner(dir: string): Promise<string> {
  const esbuild = await loadEsbuild();
  const result = await esbuild.build({
    entryPoints: [runnerSource()],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    plugins: [externalizeInstalledPackages()],
    outfile: 'runner.mjs',
  });
  const file = join(dir, 'runner.mjs');
  writeFileSync(file, result.outputFiles[0]?.text ?? '');
  return file;
}

/**
 * Where the runner's source is: beside this file in the workspace, `runner.js` in dist, or, when
 * this library was bundled into an app, in the installed package.
 */
export function runnerSource(): string {
  const candidates = ['./runner.ts', './runner.js', './supervisor/runner.js'].map((name) =>
    fileURLToPath(new URL(name, import.meta.url)),
  );
  try {
    const pkg = createRequire(import.meta.url).resolve('@hotshm/hot-reload/package.json');
    candidates.push(
      join(dirname(pkg), 'src', 'supervisor', 'runner.ts'),
      join(dirname(pkg), 'dist', 'runner.js'),
    );
  } catch {
    // not installed as a package: the paths beside this file are all there is
  }
  const found = candidates.find((p) => existsSync(p));
  if (found) return found;
  throw new Error(`hotshm: cannot find the standby runner; looked at ${candidates.join(', ')}`);
}
