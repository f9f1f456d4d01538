#!/usr/bin/env node
/**
 * `pnpm stress`: injects faults into real renderer and owner processes (SIGKILL, SIGTERM, crashes,
 * an endless loop, out of memory, /dev/shm full, no file descriptors, no inotify watches) and
 * prints a table of faults injected, survived, messages lost, frames torn, processes orphaned and
 * regions leaked. Linux only (it reads /proc and uses namespaces for the resource faults).
 *
 *   pnpm stress            the long run: 200 renderer kills, 50 owner kills (several minutes)
 *   pnpm stress --short    the CI form (under 3 minutes on 2 cores)
 *   pnpm stress --only=renderer,owner,resource,worker
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const harness = fileURLToPath(
  new URL('../packages/hot-reload/test/stress/run.ts', import.meta.url),
);

if (process.platform !== 'linux') {
  console.error(`pnpm stress runs on Linux only (it reads /proc), not on ${process.platform}`);
  process.exit(2);
}
const args = process.argv.slice(2);
// The long run of every fault is what the README shows (stress-results.json, scripts/figures.mjs).
const full = args.length === 0;
const child = spawn(process.execPath, ['--import', 'tsx', harness, ...args], {
  cwd: root,
  stdio: 'inherit',
  env: full ? { ...process.env, HOTSHM_STRESS_RESULTS: `${root}stress-results.json` } : process.env,
});
child.on('exit', (code, signal) => {
  process.exit(code ?? (signal ? 1 : 0));
});
