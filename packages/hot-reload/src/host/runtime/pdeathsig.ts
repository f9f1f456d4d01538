/**
 * Linux only: ask the kernel to SIGKILL this process when the thread that spawned it exits. Node
 * spawns children from its main thread, so that is the owner's death. Elsewhere this is a no-op
 * and the runner's pid check does the job.
 */
const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

export async function dieWithParent(expectedParent: number): Promise<void> {
  // Before loading anything: an owner that died while this process booted has re-parented it.
  if (process.ppid !== expectedParent) process.exit(0);
  if (process.platform === 'linux') {
    try {
      // Loaded only now: the check above must not wait for koffi.
      const { loadLibc } = await import('../../native/libc.js');
      const libc = loadLibc();
      const prctl = libc.func('int prctl(int option, ...)');
      prctl(
        PR_SET_PDEATHSIG,
        'unsigned long',
        SIGKILL,
        'unsigned long',
        0,
        'unsigned long',
        0,
        'unsigned long',
        0,
      );
    } catch {
      // The pid check below and the runner's timer still hold.
    }
  }
  // The owner may have died before prctl took effect: then we were re-parented already.
  if (process.ppid !== expectedParent) process.exit(0);
}
