/**
 * The standby runner is bundled once per owner (about 20 ms) into plain JavaScript, so standby
 * processes start with bare `node`: no TypeScript loader on the reload path, whether this library
 * runs from its sources in a workspace or from its published dist.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** Where the runner's source is: beside this file in the workspace, `runner.js` in dist. */
export function runnerSource(): string {
  for (const name of ['./runner.ts', './runner.js', './supervisor/runner.js']) {
    const p = fileURLToPath(new URL(name, import.meta.url));
    if (existsSync(p)) return p;
  }
  throw new Error(
    'hotshm: cannot find the standby runner (runner.ts or runner.js) beside the supervisor',
  );
}
