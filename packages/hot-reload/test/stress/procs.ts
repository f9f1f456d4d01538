/**
 * Process bookkeeping for the stress harness, from /proc: who descends from whom, which processes
 * carry a tag in their environment, and whether a pid is still the process we saw (a pid can be
 * reused; its start time in /proc/<pid>/stat cannot).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Start time in clock ticks since boot: with the pid, names one process for good. */
  readonly start: number;
  readonly command: string;
}

export function readProc(pid: number): ProcInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may itself hold spaces or parentheses.
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const state = fields[0];
    if (state === 'Z' || state === 'X') return undefined; // exited, waiting to be reaped
    let command = '';
    try {
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    } catch {}
    return { pid, ppid: Number(fields[1]), start: Number(fields[19]), command };
  } catch {
    return undefined;
  }
}

export function allPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number);
}

/** Every live process whose parent chain reaches `root` (not `root` itself). */
export function descendants(root: number): ProcInfo[] {
  const infos = allPids()
    .map(readProc)
    .filter((p): p is ProcInfo => p !== undefined);
  const children = new Map<number, ProcInfo[]>();
  for (const p of infos) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const out: ProcInfo[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** Live processes whose environment holds `name=value` (inherited by a whole process tree). */
export function taggedProcesses(name: string, value: string): ProcInfo[] {
  const needle = `${name}=${value}\0`;
  const out: ProcInfo[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    let env: string;
    try {
      env = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!env.includes(needle) && !env.endsWith(needle.slice(0, -1))) continue;
    const info = readProc(pid);
    if (info) out.push(info);
  }
  return out;
}

export function stillRunning(p: ProcInfo): boolean {
  const now = readProc(p.pid);
  return now !== undefined && now.start === p.start;
}

/** Lists /dev/shm names (without '/') that start with `hotshm-<pid>-`. */
export function regionsOf(pid: number): string[] {
  try {
    return readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${pid}-`));
  } catch {
    return [];
  }
}
