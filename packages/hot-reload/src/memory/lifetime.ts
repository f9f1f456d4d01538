/**
 * The owner's cleanup hook: remove a region's name when the owner process ends, so nothing is
 * left in /dev/shm. Named shared memory outlives its processes on POSIX; only unlink removes it.
 *
 * What can be seen from JavaScript, and what is done:
 * - normal end and process.exit()              → 'exit'                       → unlink
 * - an uncaught exception / unhandled rejection → 'uncaughtExceptionMonitor'   → unlink (only if
 *   no 'uncaughtException' listener exists, i.e. the process is really about to die; a monitor
 *   never changes what happens next)
 * - SIGINT, SIGTERM, SIGHUP                      → if nobody else listens: unlink, stop listening
 *   and send the signal again, so the process dies of that signal as it would have without us
 *   (exit status 128 + signo to a shell). If someone else listens, that code now decides
 *   whether the process ends; we leave it alone and the 'exit' hook unlinks if it does.
 *
 * What cannot be seen: SIGKILL, a crash inside native code (SIGSEGV, abort), the machine losing
 * power. Those regions stay until the next start, where `removeStaleRegions` finds them by the
 * dead pid in their name: in /dev/shm on Linux, through the owner's region records on macOS.
 */

import type { Region } from './region.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HandledSignal = (typeof SIGNALS)[number];

// One entry per call, so registering a region twice needs two disposers to cancel.
const pending = new Set<{ readonly region: Region }>();
let installed = false;

function unlinkAll(): void {
  for (const { region } of pending) {
    try {
      region.unlink();
    } catch {
      // The process is ending: one failed unlink must not keep the others from running.
    }
  }
  pending.clear();
}

function onExit(): void {
  unlinkAll();
}

function onUncaught(): void {
  if (process.listenerCount('uncaughtException') === 0) unlinkAll();
}

function onSignal(signal: HandledSignal): void {
  // Ours is the only listener: without us Node would have died of this signal.
  if (process.listenerCount(signal) > 1) return;
  unlinkAll();
  uninstall();
  // With no listener left, Node restores the default action, so this ends the process with the
  // same signal (and the same status) as if we had never listened.
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', onExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onUncaught);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/**
 * Unlinks `region` when this process ends (see the module comment for which endings can be
 * seen). Returns a disposer that cancels it; the listeners go away with the last region.
 *
 * @example
 * const region = createRegion(newRegionName(), size);
 * const cancel = unlinkOnExit(region);
 */
export function unlinkOnExit(region: Region): () => void {
  const entry = { region };
  pending.add(entry);
  install();
  return () => {
    pending.delete(entry);
    if (pending.size === 0) uninstall();
  };
}
