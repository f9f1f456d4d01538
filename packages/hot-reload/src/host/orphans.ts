/**
 * Processes left by an owner that died without running any JavaScript (SIGKILL, a native
 * crash): its renderers die with it (PR_SET_PDEATHSIG, and their control pipe's end), but
 * processes a renderer started itself (a `sleep`, a helper server) outlive it. Every such process
 * inherited the renderer's environment, which names the owner (`HOTSHM_OWNER_PID`) and its region
 * (`HOTSHM_REGION`), so the next owner's start finds them in /proc and stops them: only this
 * user's processes, only those whose owner pid is gone, and only when the region they name is one
 * that owner made (the name carries its pid), so a reused pid never condemns anyone. Linux only.
 */

import { ownerPidOf } from '../memory/stale.js';
import { staleByPid } from '../native/pids.js';
import { environmentOf, listPids, uidOf } from '../native/proc.js';
import { ENV } from '../state/runtime.js';

/** SIGKILLs the processes of dead owners' renderer trees; returns their pids. */
export function reapOrphans(): number[] {
  if (process.platform !== 'linux') return [];
  const uid = process.getuid?.();
  if (uid === undefined) return [];
  const candidates = listPids().filter((pid) => pid !== process.pid);
  // The owner a process names, if the region it names is that owner's own.
  const ownerOf = (pid: number): number | undefined => {
    const env = environmentOf(pid);
    const owner = Number(env?.get(ENV.ownerPid));
    const region = env?.get(ENV.region);
    if (region === undefined || !Number.isSafeInteger(owner)) return undefined;
    return ownerPidOf(region) === owner ? owner : undefined;
  };
  const killed: number[] = [];
  for (const pid of staleByPid(candidates, ownerOf)) {
    // Root reads every environment: it must act only on its own processes.
    if (uidOf(pid) !== uid) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return killed;
}
