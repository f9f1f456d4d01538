#!/usr/bin/env node
/**
 * Checks the package as npm would receive it: build with tsup, pack with pnpm (which applies
 * publishConfig), then publint and attw on that tarball, a list of what is inside, and the
 * consumer test on the same tarball (./consumer-test.mjs). Run from the package's folder
 * (`pnpm --filter @hotshm/hot-reload check:package`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consumerTest } from './consumer-test.mjs';
import { packLibrary } from './pack.mjs';

const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', ...opts });

const dir = mkdtempSync(join(tmpdir(), 'hotshm-pack-'));
try {
  const tarball = packLibrary(dir);
  const files = run('tar', ['-tzf', tarball])
    .trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
  const allowed = /^(dist\/.+|bin\/hotshm\.mjs|README\.md|LICENSE|package\.json)$/;
  const extra = files.filter((f) => !allowed.test(f));
  for (const need of [
    'package.json',
    'README.md',
    'LICENSE',
    'dist/index.js',
    'dist/index.d.ts',
    // The `hotshm` command and what it runs.
    'bin/hotshm.mjs',
    'dist/launcher.js',
    'dist/launcher-boot.js',
  ]) {
    if (!files.includes(need))
      throw new Error(`packed tarball is missing ${need}; it has: ${files.join(', ')}`);
  }
  if (extra.length > 0)
    throw new Error(
      `packed tarball has files outside dist, bin/hotshm.mjs, README, LICENSE, package.json: ${extra.join(', ')}`,
    );
  console.log(
    `pack: ${files.length} files, only dist/, bin/hotshm.mjs, README.md, LICENSE, package.json`,
  );
  process.stdout.write(run('pnpm', ['exec', 'publint', 'run', '--strict', '--pack', 'pnpm']));
  process.stdout.write(
    run('pnpm', ['exec', 'attw', tarball, '--profile', 'esm-only', '--format', 'table-flipped']),
  );
  await consumerTest(tarball);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
