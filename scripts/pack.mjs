/**
 * Builds @hotshm/hot-reload with tsup and packs it with pnpm (which applies publishConfig), as
 * npm would receive it. Shared by the package check and the consumer test.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
export const packageDir = join(repoRoot, 'packages', 'hot-reload');

/** Builds and packs the library into `destDir`; returns the tarball's path. */
export function packLibrary(destDir) {
  const opts = { cwd: packageDir, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' };
  execFileSync('pnpm', ['exec', 'tsup', '--silent'], opts);
  execFileSync('pnpm', ['pack', '--pack-destination', destDir], opts);
  const tarballs = readdirSync(destDir).filter((f) => f.endsWith('.tgz'));
  if (tarballs.length !== 1) {
    throw new Error(`expected one tarball in ${destDir} after pnpm pack, got ${tarballs.length}`);
  }
  return join(destDir, tarballs[0]);
}
