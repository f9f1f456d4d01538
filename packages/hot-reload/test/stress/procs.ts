/**
 * Process bookkeeping for the stress harness, on the library's /proc reader (src/native/proc.ts):
 * who descends from whom, which processes carry a tag in their environment, and whether a pid is
 * still the process we saw (a pid can be reused; its start time cannot).
 */
import { readdirSync } from 'node:fs';
import {
  commandLineOf,
  descendantsOf,
  type ProcessInfo,
  processesWithEnv,
  readProcess,
  stillRunning as running,
} from '../../src/native/proc.js';

export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Start time in clock ticks since boot: with the pid, names one process for good. */
  readonly start: number;
  /** The command line, for the report. */
  readonly command: string;
}

const withCommand = (p: ProcessInfo): ProcInfo => ({
  pid: p.pid,
  ppid: p.ppid,
  start: p.start,
  command: (commandLineOf(p.pid) ?? []).join(' ').trim(),
});

/** The live process `pid` (undefined once it exited, zombies included). */
export function readProc(pid: number): ProcInfo | undefined {
  const p = readProcess(pid);
  return p && withCommand(p);
}

/** Every live process whose parent chain reaches `root` (not `root` itself). */
export function descendants(root: number): ProcInfo[] {
  return descendantsOf(root).map(withCommand);
}

/** Live processes whose environment holds `name=value` (inherited by a whole process tree). */
export function taggedProcesses(name: string, value: string): ProcInfo[] {
  return processesWithEnv(name, value).map(withCommand);
}

export function stillRunning(p: ProcInfo): boolean {
  return running(p);
}

/**
 * Every process an owner ever started, as far as /proc can tell: those below it (`root`) and
 * those that carry its tag in their environment, which every process of its family inherits
 * (esbuild's service, standbys, renderers, what a renderer starts) and keeps when its parent
 * dies and it is re-parented. Looked at every `everyMs` while the owner runs and once more at
 * the end: a process that started and ended between two looks cannot be left behind, and one
 * still running at the end is seen by its tag. The owner itself is not counted.
 */
export class ProcessCensus {
  readonly #seen = new Map<string, ProcInfo>();
  readonly #root: number | undefined;
  readonly #tag: { readonly name: string; readonly value: string };
  #timer: NodeJS.Timeout | undefined;

  constructor(tag: { readonly name: string; readonly value: string }, root?: number, everyMs = 20) {
    this.#tag = tag;
    this.#root = root;
    this.look();
    this.#timer = setInterval(() => this.look(), everyMs);
    this.#timer.unref();
  }

  /** Stops looking on a timer (idempotent; `left` stops it too). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Adds every process of the family that runs now. */
  look(): void {
    const now = [
      ...(this.#root === undefined ? [] : descendants(this.#root)),
      ...taggedProcesses(this.#tag.name, this.#tag.value),
    ];
    for (const p of now) {
      if (p.pid === this.#root) continue;
      const key = `${p.pid}:${p.start}`;
      if (!this.#seen.has(key)) this.#seen.set(key, p);
    }
  }

  /** Every process seen so far. */
  get seen(): ProcInfo[] {
    return [...this.#seen.values()];
  }

  /**
   * Stops looking on a timer, looks once more, and waits until `limitMs` after `since` (when the
   * owner ended) for every process seen to end. Returns those still running then, SIGKILLed so
   * nothing is left behind, and which one ended last.
   */
  async left(
    limitMs: number,
    since = performance.now(),
  ): Promise<{ left: ProcInfo[]; slowestMs: number; slowest: string }> {
    this.stop();
    this.look();
    const pending = new Set(this.#seen.values());
    let slowestMs = 0;
    let slowest = '';
    for (;;) {
      for (const p of [...pending]) {
        if (stillRunning(p)) continue;
        pending.delete(p);
        const ms = performance.now() - since;
        if (ms > slowestMs) {
          slowestMs = ms;
          slowest = `${p.pid}(ppid ${p.ppid}) ${p.command}`;
        }
      }
      if (pending.size === 0 || performance.now() - since > limitMs) break;
      await new Promise((r) => setTimeout(r, 10));
      // A process started by one that was still running a moment ago.
      this.look();
      for (const p of this.#seen.values()) if (stillRunning(p)) pending.add(p);
    }
    const left = [...pending];
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {}
    }
    return { left, slowestMs, slowest };
  }

  /** What the processes seen were, for the report: `14 node, 2 esbuild, 1 sleep`. */
  kinds(): string {
    const counts = new Map<string, number>();
    for (const p of this.#seen.values()) {
      const kind = kindOf(p.command);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    return (
      [...counts]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${n} ${k}`)
        .join(', ') || 'none'
    );
  }
}

/** Lists /dev/shm names (without '/') that start with `hotshm-<pid>-`. */
export function regionsOf(pid: number): string[] {
  try {
    return readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${pid}-`));
  } catch {
    return [];
  }
}

/**
 * What kind of process a command line is, for the notes: 'esbuild', the executable's name, or
 * 'unknown' for one that ended before its command line could be read (it is empty then).
 */
export function kindOf(command: string): string {
  if (/esbuild/.test(command)) return 'esbuild';
  return (command.split(' ')[0] ?? '').split('/').pop() || 'unknown';
}
