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

/** Lists /dev/shm names (without '/') that start with `hotshm-<pid>-`. */
export function regionsOf(pid: number): string[] {
  try {
    return readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${pid}-`));
  } catch {
    return [];
  }
}
