/**
 * An owner ends when its launcher ends, however the launcher ends.
 *
 * - Linux: the kernel sends SIGTERM when the launcher dies (PR_SET_PDEATHSIG; Node spawns
 *   children from its main thread, so the thread that spawned us is the launcher's). SIGTERM, not
 *   SIGKILL: the owner's exit hooks stop its renderers and unlink its region.
 * - Elsewhere: the IPC channel closing is the same news, as an event; the owner sends itself
 *   SIGTERM then.
 * - Everywhere: an owner still alive 5 s after the launcher is gone (its own SIGTERM handler did
 *   not end it) is killed.
 */
const PR_SET_PDEATHSIG = 1;
const SIGTERM = 15;
const LAST_CHANCE_MS = 5000;

export async function dieWithLauncher(launcherPid: number): Promise<void> {
  // A launcher that died while this process booted has re-parented it already.
  if (process.ppid !== launcherPid) process.exit(0);
  const linux = process.platform === 'linux';
  if (linux) {
    try {
      const { loadLibc } = await import('../../native/libc.js');
      const prctl = loadLibc().func('int prctl(int option, ...)');
      prctl(PR_SET_PDEATHSIG, 'unsigned long', SIGTERM, 'unsigned long', 0);
    } catch {
      // The channel's disconnect below still holds.
    }
    if (process.ppid !== launcherPid) process.exit(0);
  }
  process.once('disconnect', () => {
    if (!linux) process.kill(process.pid, 'SIGTERM');
    setTimeout(() => process.kill(process.pid, 'SIGKILL'), LAST_CHANCE_MS).unref();
  });
  // Listening refs the channel: an owner whose work is done must still be free to exit.
  process.channel?.unref();
}
