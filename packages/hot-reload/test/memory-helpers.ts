/**
 * Test helpers for the memory tests: start test/memory-child.ts as a real process, talk to it by
 * lines, and keep track of every region a test creates so none is left in /dev/shm.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { newRegionName, type Region, unlinkRegion } from '../src/memory/index.js';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the next line the child prints. */
  line(): Promise<string>;
  send(line: string): void;
  /** Every line printed so far. */
  readonly output: readonly string[];
  /** Resolves when the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function startChild(command: string, ...args: (string | number)[]): Child {
  return startChildUnder([], command, ...args);
}

/** Like startChild, with these variables added to the child's environment. */
export function startChildWithEnv(
  env: Readonly<Record<string, string>>,
  command: string,
  ...args: (string | number)[]
): Child {
  return spawnChild([], env, command, args);
}

/** Like startChild, with the node command line prefixed by `wrapper` (e.g. unshare …). */
export function startChildUnder(
  wrapper: readonly string[],
  command: string,
  ...args: (string | number)[]
): Child {
  return spawnChild(wrapper, {}, command, args);
}

function spawnChild(
  wrapper: readonly string[],
  env: Readonly<Record<string, string>>,
  command: string,
  args: readonly (string | number)[],
): Child {
  const argv = [process.execPath, '--import', 'tsx', CHILD, command, ...args.map(String)];
  const [file, ...rest] = [...wrapper, ...argv] as [string, ...string[]];
  const child = spawn(file, rest, {
    cwd: PACKAGE_ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let buffered = '';
  let stderr = '';
  const lines: string[] = [];
  const output: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      output.push(line);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stderr: string;
  }>((resolve) => {
    // 'close' rather than 'exit': it comes after the last stdout line has been read.
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  return {
    process: child,
    line() {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise<string>((resolve, reject) => {
        waiting.push(resolve);
        void exited.then(({ code, signal }) =>
          reject(new Error(`child exited (${code ?? signal}) before printing: ${stderr}`)),
        );
      });
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    output,
    exited,
  };
}

/** Runs a child to the end and returns its output lines. */
export function runChild(command: string, ...args: (string | number)[]): Promise<string[]> {
  return runUnder([], command, ...args);
}

export async function runUnder(
  wrapper: readonly string[],
  command: string,
  ...args: (string | number)[]
): Promise<string[]> {
  const child = startChildUnder(wrapper, command, ...args);
  const { code, signal, stderr } = await child.exited;
  if (code !== 0) throw new Error(`child ${command} failed (${code ?? signal}): ${stderr}`);
  return [...child.output];
}

/** Names and regions a test made; `cleanup()` in afterEach closes and unlinks all of them. */
export class RegionTracker {
  readonly #names = new Set<string>();
  readonly #regions = new Set<Region>();

  name(pid?: number): string {
    const name = newRegionName(pid);
    this.#names.add(name);
    return name;
  }

  /** A name made elsewhere (by a child) to remove at cleanup. */
  add(name: string): string {
    this.#names.add(name);
    return name;
  }

  track<R extends Region>(region: R): R {
    this.#regions.add(region);
    this.#names.add(region.name);
    return region;
  }

  cleanup(): void {
    for (const region of this.#regions) region.close();
    for (const name of this.#names) unlinkRegion(name);
    this.#regions.clear();
    this.#names.clear();
  }
}

/** A pid that certainly belonged to a process that has exited. */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  const pid = child.pid;
  await new Promise((resolve) => child.on('exit', resolve));
  if (pid === undefined) throw new Error('could not start a process');
  return pid;
}
