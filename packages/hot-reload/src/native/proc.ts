/**
 * What Linux says about this machine's processes, read from /proc: the one reader behind the
 * owner's orphan scan, the test fixtures, the benches and the scripts. A process can end between
 * any two reads, and another user's environment cannot be read: every function answers for what
 * it could read (undefined, or fewer entries) and never throws for that. Off Linux (no /proc)
 * everything is empty.
 *
 * A process that has exited but not been reaped yet (a zombie, state Z or X) still has a
 * /proc entry; here it counts as gone.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** The state letter of /proc/<pid>/stat: R, S, D, T, t, I… (never Z or X: those are gone). */
  readonly state: string;
  /** The command name (comm): Node 24 names its main thread, and so its process, "MainThread". */
  readonly comm: string;
  /** Start time in clock ticks since boot: with the pid, it names one process for good. */
  readonly start: number;
}

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
};

/** The live process `pid`, or undefined if there is none (or it is a zombie). */
export function readProcess(pid: number): ProcessInfo | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // comm is in parentheses and may itself hold spaces or parentheses: the fields after the last
  // ')' are fixed (proc(5)): state ppid pgrp session tty_nr tpgid flags … starttime is the 20th.
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  const state = fields[0] ?? '';
  if (state === 'Z' || state === 'X' || state === '') return undefined;
  return {
    pid,
    ppid: Number(fields[1]),
    state,
    comm: stat.slice(open + 1, close),
    start: Number(fields[19]),
  };
}

/**
 * Clock ticks per second of /proc's times (USER_HZ): 100 on every Linux architecture Node runs on,
 * whatever the kernel's own tick rate.
 */
const USER_HZ = 100;

/**
 * The CPU time `pid` has used so far, user and system (utime + stime of /proc/<pid>/stat), in
 * seconds, all its threads together; undefined if it is gone.
 */
export function cpuSecondsOf(pid: number): number | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // After the last ')': state is field 3 of proc(5), so utime (14) and stime (15) are 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks / USER_HZ : undefined;
}

/** Every pid /proc lists (live or not). */
export function listPids(): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((n) => /^[0-9]+$/.test(n)).map(Number);
}

/** Every live process. */
export function listProcesses(): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  for (const pid of listPids()) {
    const p = readProcess(pid);
    if (p) out.push(p);
  }
  return out;
}

/** Whether `p` still runs: the same pid with the same start time (a pid can be reused). */
export function stillRunning(p: Pick<ProcessInfo, 'pid' | 'start'>): boolean {
  return readProcess(p.pid)?.start === p.start;
}

/** The live children of `pid`. */
export function childrenOf(
  pid: number,
  among: readonly ProcessInfo[] = listProcesses(),
): ProcessInfo[] {
  return among.filter((p) => p.ppid === pid);
}

/** Every live process whose parent chain reaches `root` (not `root` itself), parents first. */
export function descendantsOf(
  root: number,
  among: readonly ProcessInfo[] = listProcesses(),
): ProcessInfo[] {
  const children = new Map<number, ProcessInfo[]>();
  for (const p of among) {
    const list = children.get(p.ppid);
    if (list) list.push(p);
    else children.set(p.ppid, [p]);
  }
  const out: ProcessInfo[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** The environment of `pid` (readable for this user's processes only). */
export function environmentOf(pid: number): Map<string, string> | undefined {
  const raw = read(`/proc/${pid}/environ`);
  if (raw === undefined) return undefined;
  const env = new Map<string, string>();
  for (const entry of raw.split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  return env;
}

/**
 * The live processes (this process aside) whose environment holds `name=value`: a variable a
 * process tree inherits, such as the owner's pid every renderer and its children carry.
 */
export function processesWithEnv(name: string, value: string): ProcessInfo[] {
  const needle = `\0${name}=${value}\0`;
  const out: ProcessInfo[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const raw = read(`/proc/${pid}/environ`);
    // Every entry ends with a NUL, except when a process rewrote its own environment block.
    if (raw === undefined || !`\0${raw}\0`.includes(needle)) continue;
    const p = readProcess(pid);
    if (p) out.push(p);
  }
  return out;
}

/** The command line of `pid`, one string per argument. */
export function commandLineOf(pid: number): string[] | undefined {
  const raw = read(`/proc/${pid}/cmdline`);
  if (raw === undefined) return undefined;
  return raw.endsWith('\0') ? raw.slice(0, -1).split('\0') : raw === '' ? [] : raw.split('\0');
}

/** The executable `pid` runs (readable for this user's processes only). */
export function executableOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** The real user id `pid` runs as. */
export function uidOf(pid: number): number | undefined {
  const line = /^Uid:\s+(\d+)/m.exec(read(`/proc/${pid}/status`) ?? '');
  return line === null ? undefined : Number(line[1]);
}
