/**
 * The stress harness's census on real processes: a process an owner started is counted whether
 * it is still below the owner or was re-parented when its parent ended, and only what outlives
 * the limit is reported left.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { until } from './fixtures.js';
import { ProcessCensus, readProc } from './procs.js';

const TAG = 'HOTSHM_CENSUS_TEST';

function family(script: string): { pid: number; tag: string; exited: Promise<unknown> } {
  const tag = randomBytes(6).toString('hex');
  const child = spawn('sh', ['-c', script], {
    env: { ...process.env, [TAG]: tag },
    stdio: 'ignore',
  });
  return { pid: child.pid!, tag, exited: new Promise((r) => child.once('exit', r)) };
}

describe.runIf(process.platform === 'linux')('ProcessCensus', () => {
  it('a process that outlives its parent (re-parented, found by its tag) is left, and killed', async () => {
    const f = family(`sleep 1000.${process.pid} & exit 0`);
    const census = new ProcessCensus({ name: TAG, value: f.tag }, f.pid);
    await f.exited;
    const { left } = await census.left(200);
    expect(left.map((p) => p.command)).toEqual([`sleep 1000.${process.pid}`]);
    // SIGKILLed by left(): gone once the kernel has delivered it.
    const gone = await until(() => readProc(left[0]!.pid) === undefined, 5_000, 10);
    expect(gone).toBe(true);
    expect(census.kinds()).toBe('1 sleep');
  });

  it('a family that ends within the limit leaves nothing, and the owner itself is not counted', async () => {
    const f = family('sleep 0.5 & wait');
    const census = new ProcessCensus({ name: TAG, value: f.tag }, f.pid);
    await f.exited;
    const { left } = await census.left(5_000);
    expect(left).toEqual([]);
    expect(census.seen.map((p) => p.pid)).not.toContain(f.pid);
    expect(census.seen.map((p) => p.command)).toEqual(['sleep 0.5']);
  });
});
