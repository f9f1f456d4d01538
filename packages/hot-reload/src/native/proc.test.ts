/** The /proc reader on real processes: a shell that starts a sleep, tagged through its environment. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  childrenOf,
  commandLineOf,
  cpuSecondsOf,
  descendantsOf,
  environmentOf,
  executableOf,
  listPids,
  listProcesses,
  processesWithEnv,
  readProcess,
  stillRunning,
  uidOf,
} from './proc.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function until<T>(what: string, check: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** `sh` running `sleep 1000` in the background and waiting for it, with TAG=<tag> in its environment. */
async function family(tag: string): Promise<{ shell: number; sleep: number; child: ChildProcess }> {
  const child = spawn('sh', ['-c', 'sleep 1000 & wait'], {
    env: { ...process.env, PROC_TEST_TAG: tag },
    stdio: 'ignore',
  });
  children.push(child);
  const shell = child.pid!;
  const sleep = await until('the sleep', () => childrenOf(shell)[0]?.pid);
  return { shell, sleep, child };
}

describe.runIf(process.platform === 'linux')('/proc (real processes)', () => {
  it('reads a process: parent, command name, state, start time', () => {
    const me = readProcess(process.pid);
    expect(me).toMatchObject({ pid: process.pid, ppid: process.ppid });
    expect(me!.state).toMatch(/^[RSD]$/);
    expect(me!.start).toBeGreaterThan(0);
    expect(listPids()).toContain(process.pid);
    expect(listProcesses().some((p) => p.pid === process.pid)).toBe(true);
    expect(commandLineOf(process.pid)?.length).toBeGreaterThan(0);
    expect(executableOf(process.pid)).toBe(realpathSync(process.execPath));
    expect(uidOf(process.pid)).toBe(process.getuid!());
    expect(environmentOf(process.pid)?.get('PATH')).toBe(process.env.PATH);
  });

  it('CPU time: what this process has used, matching process.cpuUsage(), and none for the gone', () => {
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // spin, so that there is CPU time to see
    }
    const used = process.cpuUsage();
    const seconds = cpuSecondsOf(process.pid)!;
    // /proc counts in 10 ms ticks, rounded down per thread (the worker threads included).
    expect(seconds).toBeGreaterThan(0.1);
    expect(seconds).toBeLessThanOrEqual((used.user + used.system) / 1e6 + 0.05);
    expect(cpuSecondsOf(2 ** 22 + 1)).toBeUndefined();
  });

  it('a tree: children, descendants, and the processes that carry a variable', async () => {
    const tag = `t${process.pid}-${Date.now()}`;
    const { shell, sleep } = await family(tag);
    expect(readProcess(sleep)?.comm).toBe('sleep');
    expect(commandLineOf(sleep)).toEqual(['sleep', '1000']);
    expect(childrenOf(shell).map((p) => p.pid)).toEqual([sleep]);
    expect(descendantsOf(process.pid).map((p) => p.pid)).toEqual(
      expect.arrayContaining([shell, sleep]),
    );
    // Parents first.
    const order = descendantsOf(process.pid).map((p) => p.pid);
    expect(order.indexOf(shell)).toBeLessThan(order.indexOf(sleep));
    expect(
      processesWithEnv('PROC_TEST_TAG', tag)
        .map((p) => p.pid)
        .sort(),
    ).toEqual([shell, sleep].sort());
    expect(environmentOf(sleep)?.get('PROC_TEST_TAG')).toBe(tag);
    // A value is matched whole, not as a prefix.
    expect(processesWithEnv('PROC_TEST_TAG', tag.slice(0, -1))).toEqual([]);
  });

  it('a process that ended is gone; a pid read again is checked by its start time', async () => {
    const { sleep } = await family(`e${process.pid}`);
    const before = readProcess(sleep)!;
    expect(stillRunning(before)).toBe(true);
    expect(stillRunning({ pid: sleep, start: before.start + 1 })).toBe(false);
    process.kill(sleep, 'SIGKILL');
    await until('the sleep gone', () => (readProcess(sleep) === undefined ? true : undefined));
    expect(stillRunning(before)).toBe(false);
    expect(readProcess(2 ** 30)).toBeUndefined();
    expect(commandLineOf(2 ** 30)).toBeUndefined();
    expect(environmentOf(2 ** 30)).toBeUndefined();
    expect(executableOf(2 ** 30)).toBeUndefined();
    expect(uidOf(2 ** 30)).toBeUndefined();
  });

  it('a zombie (ended, not reaped) is listed by /proc but counts as gone', async () => {
    // The shell becomes `sleep 1000` (exec), which never reaps the short sleep it inherited.
    const child = spawn('sh', ['-c', 'sleep 0.01 & exec sleep 1000'], { stdio: 'ignore' });
    children.push(child);
    const parent = child.pid!;
    const zombie = await until('the zombie', () =>
      listPids().find((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
          return / Z (\d+) /.exec(stat)?.[1] === String(parent);
        } catch {
          return false;
        }
      }),
    );
    expect(readProcess(zombie)).toBeUndefined();
    expect(childrenOf(parent)).toEqual([]);
    expect(readProcess(parent)?.comm).toBe('sleep');
  });
});
