/**
 * Cleanup when this process ends, however it ends that JavaScript can see: one registry shared by
 * everything the library must undo (a region's name in /dev/shm, temporary folders, renderer
 * process groups), so every hook runs on every ending and signals are handled once. The endings
 * are seen by `signal-exit`:
 *
 * - normal end and process.exit()              → 'exit'  → run hooks
 * - an uncaught exception / unhandled rejection → 'exit'  → run hooks (Node emits 'exit' only when
 *   no 'uncaughtException' listener exists, i.e. the process is really about to die)
 * - a signal that ends a process by default (SIGINT, SIGTERM, SIGHUP, and SIGQUIT, SIGABRT,
 *   SIGUSR2, SIGALRM… on POSIX)  → if nobody else listens: run hooks, stop listening and send the
 *   signal again, so the process dies of that signal as it would have without us (exit status
 *   128 + signo to a shell). If someone else listens, that code decides whether the process
 *   ends; we leave it alone and the 'exit' hook runs if it does.
 *
 * signal-exit's signal listeners are moved to the front when it starts listening: a listener the
 * app added with `once` removes itself when it is called, so a listener that ran after it would
 * count one fewer and think it is alone (and kill the process while the app's handler is still
 * finishing its own cleanup).
 *
 * What cannot be seen: SIGKILL, a crash inside native code, the machine losing power. What those
 * leave is removed by the next owner's start (stale regions and temporary folders carry the dead
 * owner's pid in their names).
 *
 * Hooks must be synchronous and quick: on 'exit' nothing asynchronous runs any more.
 */
import { onExit, signals } from 'signal-exit';

// One entry per call, so registering the same function twice needs two disposers to cancel.
const hooks = new Set<{ readonly run: () => void }>();
let stopListening: (() => void) | undefined;

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

function listen(): void {
  if (stopListening) return;
  const before = new Map(signals.map((s) => [s, new Set(process.listeners(s))]));
  stopListening = onExit((_code, signal) => {
    stopListening = undefined;
    // On a signal, signal-exit has already stopped listening: a second one now (a terminal's
    // Ctrl+C and a launcher passing it on) would end the process by default in the middle of the
    // hooks, leaving a region or a folder behind. Held off until they are done; signal-exit then
    // sends the signal again and the process dies of it.
    const hold = (): void => {};
    if (signal) for (const s of signals) process.on(s, hold);
    try {
      runAll();
    } finally {
      if (signal) for (const s of signals) process.off(s, hold);
    }
  });
  // First in line (see the module comment). Only the listeners this call added are moved: if
  // signal-exit was already listening for another library, its listeners stay where they are.
  for (const signal of signals) {
    const had = before.get(signal);
    for (const listener of process.listeners(signal)) {
      if (had?.has(listener)) continue;
      process.off(signal, listener);
      process.prependListener(signal, listener);
    }
  }
}

/**
 * Runs `hook` when this process ends (see the module comment for which endings can be seen).
 * Returns a disposer that cancels it; the process listeners go away with the last hook.
 *
 * @example
 * const dir = mkdtempSync(join(tmpdir(), 'hotshm-'));
 * const cancel = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
 */
export function onProcessExit(hook: () => void): () => void {
  const entry = { run: hook };
  hooks.add(entry);
  listen();
  return () => {
    hooks.delete(entry);
    if (hooks.size === 0) {
      stopListening?.();
      stopListening = undefined;
    }
  };
}
