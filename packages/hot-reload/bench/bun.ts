/**
 * Bun's in-process re-evaluation (`bun --hot`), timed the way the benches time hotshm: shared by
 * vs-bun.bench.ts (a trivial module) and example-app's reload.bench.ts (the same module importing
 * `three` whole).
 *
 * The module fills a 300×300 buffer with its version and writes the version to a file; each save
 * writes it in place with a new version, and the time is from just before the write until the file
 * says the new version (read every 0.1 ms from this process). Bun comes from the npm registry
 * (`bun`, pinned below), installed into hot-reload's node_modules/.cache on the first run.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollFinely } from '../test/poll.js';

export const BUN_VERSION = '1.4.4';
export const GAP_MS = 600;
const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** Where the benches keep what they install or write between runs. */
export const benchCache = join(packageDir, 'node_modules', '.cache', 'hotshm-bench');
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The path of a bun binary of BUN_VERSION, installed from the registry when missing. */
export function bun(): string {
  const dir = join(benchCache, `bun-${BUN_VERSION}`);
  const bin = join(dir, 'node_modules', 'bun', 'bin', 'bun.exe');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    execFileSync('npm', ['install', `bun@${BUN_VERSION}`, '--no-fund', '--no-audit'], {
      cwd: dir,
      stdio: 'ignore',
    });
  }
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (version !== BUN_VERSION) throw new Error(`expected bun ${BUN_VERSION}, got ${version}`);
  return bin;
}

/** Resolves with performance.now() once `file` holds `want` (read every 0.1 ms). */
export function waitForFile(file: string, want: string, timeoutMs = 10_000): Promise<number> {
  const says = (): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return ''; // not written yet
    }
  };
  return pollFinely(() => says() === want, timeoutMs, `${file} never said ${want}`);
}

/** `saves` saves, GAP_MS apart, of versions first, first + 1, …: each write → `out` says it. */
export async function timeSaves(
  write: (version: number) => void,
  out: string,
  first: number,
  saves: number,
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < saves; i++) {
    const version = first + i;
    const t0 = performance.now();
    write(version);
    times.push((await waitForFile(out, String(version))) - t0);
    await sleep(GAP_MS);
  }
  return times;
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/**
 * The module Bun runs: `prelude` (imports, and what uses them) first, then the version, the fill
 * and the write. A plain module, re-evaluated in place on each save.
 */
export const bunModule = (version: number, out: string, prelude = ''): string => `
import { writeFileSync } from 'node:fs';
${prelude}
export const VERSION = ${version};
const pixels = new Uint32Array(300 * 300);
pixels.fill(VERSION);
writeFileSync(${JSON.stringify(out)}, String(VERSION));
// Keeps the process alive across re-evaluations (set once).
(globalThis as { keep?: unknown }).keep ??= setInterval(() => {}, 1 << 30);
`;

export interface BunOptions {
  readonly saves: number;
  /** Put before the module's own code (see bunModule). */
  readonly prelude?: string;
  /** Packages the module imports: name → its folder, linked into the module's node_modules. */
  readonly packages?: Readonly<Record<string, string>>;
}

/** `bun --hot` on bunModule in a temporary folder: the time of each save (see timeSaves). */
export async function measureBun(options: BunOptions): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-bun-'));
  for (const [name, target] of Object.entries(options.packages ?? {})) {
    mkdirSync(join(dir, 'node_modules', name, '..'), { recursive: true });
    symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  }
  const mod = join(dir, 'mod.ts');
  const out = join(dir, 'bun.out');
  const source = (v: number): string => bunModule(v, out, options.prelude);
  writeFileSync(mod, source(1));
  const child = spawn(bun(), ['--hot', mod], { stdio: 'ignore', cwd: dir });
  try {
    await waitForFile(out, '1', 30_000);
    await sleep(1000);
    return await timeSaves((v) => writeFileSync(mod, source(v)), out, 2, options.saves);
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}
