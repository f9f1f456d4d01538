/**
 * The short stress run inside `pnpm test`: the harness in its own process (run.ts --short), then
 * one assertion per kind of fault: every fault injected was survived, and no message was lost,
 * no frame torn, no process orphaned, no region leaked.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report, Row } from './table.js';

const RUN = fileURLToPath(new URL('./run.ts', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

let report: Report | undefined;
let output = '';

beforeAll(async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', RUN, '--short', '--json'], {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    output += c;
  });
  await new Promise((resolve) => child.once('exit', resolve));
  const last = output.trim().split('\n').pop() ?? '';
  report = JSON.parse(last) as Report;
  process.stdout.write(output);
}, 240_000);

const row = (fault: string): Row => {
  const r = report?.rows.find((x) => x.fault === fault);
  if (!r) throw new Error(`no row "${fault}" in the stress report:\n${output}`);
  return r;
};
const clean = (fault: string): void => {
  const r = row(fault);
  expect(r.injected, fault).toBeGreaterThan(0);
  expect({
    fault,
    survived: r.survived,
    lost: r.lost,
    torn: r.torn,
    orphaned: r.orphaned,
    leaked: r.leaked,
  }).toEqual({
    fault,
    survived: r.injected,
    lost: 0,
    torn: 0,
    orphaned: 0,
    leaked: 0,
  });
};

describe('pnpm stress --short', () => {
  for (const fault of [
    'renderer SIGKILL',
    'renderer uncaught exception',
    'renderer endless loop',
    'renderer allocates until it dies',
    'entry removed or renamed',
    "entry's folder renamed away and back",
    'renderer start hangs',
    'region header overwritten',
    'ring indices overwritten',
    'no-hot exit after input',
    'renderer grandchildren',
    'owner SIGKILL',
    'owner SIGTERM',
    '/dev/shm full',
    'file-descriptor limit',
    'inotify watch limit',
    'worker terminated mid-wait',
    'renderer SIGKILL during a migration',
    'state edit during a burst of renderer saves',
    'owner SIGKILL during a migration',
    '/dev/shm full during a migration',
  ]) {
    it(`${fault}: every fault survived; 0 lost, torn, orphaned, leaked`, () => clean(fault));
  }
});
