/**
 * Cleanup when this process ends, however it ends that JavaScript can see: one registry shared by
 * everything the library must undo (a region's name in /dev/shm, temporary folders, renderer
 * process groups), so every hook runs on every ending and signals are handled once.
 *
 * - normal end and process.exit()              → 'exit'                       → run hooks
 * - an uncaught exception / unhandled rejection → 'uncaughtExceptionMonitor'   → run hooks (only
 *   if no 'uncaughtException' listener exists, i.e. the process is really about to die; a monitor
 *   never changes what happens next)
 * - SIGINT, SIGTERM, SIGHUP                      → if nobody else listens: run hooks, stop
 *   listening and send the signal again, so the process dies of that signal as it would have
 *   without us (exit status 128 + signo to a shell). If someone else listens, that code decides
 *   whether the process ends; we leave it alone and the 'exit' hook runs if it does.
 *
 * What cannot be seen: SIGKILL, a crash inside native code, the machine losing power. What those
 * leave is removed by the next owner's start (stale regions and temporary folders carry the dead
 * owner's pid in their names).
 *
 * Hooks must be synchronous and quick: on 'exit' nothing asynchronous runs any more.
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

// One entry per call, so registering the same function twice needs two disposers to cancel.
const hooks = new Set<{ readonly run: () => void }>();
let installed = false;

function runAll(): void {
  // Newest first: what was set up last is undone first (renderers before the region they map).
  for (const hook of [...hooks].reverse()) {
    try {
      hook.run();
    } catch {
      // The process is ending: one failed hook must not keep the others from running.
    }
  }
  hooks.clear();
}

function onExit(): void {
  runAll();
}

function onUncaught(): void {
  if (process.listenerCount('uncaughtException') === 0) runAll();
}

function onSignal(signal: NodeJS.Signals): void {
  if (!(SIGNALS as readonly string[]).includes(signal)) return;
  // Ours is the only listener: without us Node would have died of this signal.
  if (process.listenerCount(signal) > 1) return;
  runAll();
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
  // First in line: a listener the app added with `once` removes itself when it is called, so a
  // listener that runs after it would count one fewer and think it is alone.
  for (const signal of SIGNALS) process.prependListener(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onUncaught);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

/**
 * Runs `hook` when this process ends (see the module comment for which endings can be seen).
 * Returns a disposer that cancels it; the process listeners go away with the last hook.
 */
export function onProcessExit(hook: () => void): () => void {
  const entry = { run: hook };
  hooks.add(entry);
  install();
  return () => {
    hooks.delete(entry);
    if (hooks.size === 0) uninstall();
  };
}
