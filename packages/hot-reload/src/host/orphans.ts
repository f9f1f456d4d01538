/**
 * Processes left by an owner that died without running any JavaScript (SIGKILL, a native
 * crash): its renderers die with it (PR_SET_PDEATHSIG), but processes a renderer started itself
 * (a `sleep`, a helper server) outlive it. Every such process inherited the renderer's
 * environment, which names the owner (`HOTSHM_OWNER_PID`) and its region (`HOTSHM_REGION`), so the
 * next owner's start finds them in /proc and stops them: only this user's processes, only those
 * whose owner pid is gone, and only when the region they name is one that owner made (the name
 * carries its pid), so a reused pid never condemns anyone. Linux only (/proc/<pid>/environ).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isProcessAlive, ownerPidOf } from '../memory/stale.js';
import { ENV } from '../state/runtime.js';

/** SIGKILLs the processes of dead owners' renderer trees; returns their pids. */
export function reapOrphans(): number[] {
  if (process.platform !== 'linux') return [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const killed: number[] = [];
  const ownerKey = `${ENV.ownerPid}=`;
  const regionKey = `${ENV.region}=`;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    let environ: string;
    try {
      // Readable only for this user's processes (and root's own): others are never touched.
      environ = readFileSync(`/proc/${name}/environ`, 'latin1');
    } catch {
      continue;
    }
    let owner: number | undefined;
    let region: string | undefined;
    for (const entry of environ.split('\0')) {
      if (entry.startsWith(ownerKey)) owner = Number(entry.slice(ownerKey.length));
      else if (entry.startsWith(regionKey)) region = entry.slice(regionKey.length);
    }
    if (owner === undefined || region === undefined || !Number.isSafeInteger(owner)) continue;
    if (ownerPidOf(region) !== owner || isProcessAlive(owner)) continue;
    if (!sameUser(name)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return killed;
}

/** Whether /proc/<pid> runs as this process's user (root reads every environ; it must not act on them). */
function sameUser(pid: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return false;
  try {
    const line = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return line !== null && Number(line[1]) === uid;
  } catch {
    return false;
  }
}
