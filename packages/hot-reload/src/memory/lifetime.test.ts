import { existsSync } from 'node:fs';
import { describe, expect, it, type TestContext } from 'vitest';
import { startChild } from '../../test/memory-helpers.js';
import { listStaleRegions, newRegionName, removeStaleRegions, unlinkRegion } from './index.js';

const shmPath = (name: string): string => `/dev/shm/${name.slice(1)}`;

// Each test is its own owner process, so they run side by side; every test removes its own
// region when it finishes (no shared afterEach that could pull a region from a running test).
describe
  .runIf(process.platform === 'linux')
  .concurrent('unlinkOnExit (real processes, real signals)', () => {
    /**
     * Starts an owner child and waits until its region exists. By default the region's name
     * carries the child's pid, as a real owner's does. Tests that check a region *survives* the
     * child name it with this (live) process's pid instead: a dead pid would let any stale-region
     * scan running meanwhile (another test file, another owner starting) remove it.
     */
    async function owner(
      mode: string,
      { onTestFinished }: TestContext,
      pidInName: 'child' | 'test' = 'child',
    ) {
      const child = startChild('owner', pidInName === 'child' ? 'auto' : newRegionName(), mode);
      const [word, name = ''] = (await child.line()).split(' ');
      expect(word).toBe('ready');
      const pid = pidInName === 'child' ? child.process.pid : process.pid;
      expect(name).toMatch(new RegExp(`^/hotshm-${pid}-[0-9a-f]{8}$`));
      onTestFinished(() => {
        unlinkRegion(name);
      });
      expect(existsSync(shmPath(name))).toBe(true);
      return { name, child };
    }

    it('unlinks when the owner ends normally', async (context) => {
      const { name, child } = await owner('wait', context);
      child.send('end');
      expect(await child.exited).toMatchObject({ code: 0, signal: null });
      expect(existsSync(shmPath(name))).toBe(false);
    });

    it('unlinks on process.exit(7) and keeps the exit code', async (context) => {
      const { name, child } = await owner('exit-code', context);
      child.send('end');
      expect((await child.exited).code).toBe(7);
      expect(existsSync(shmPath(name))).toBe(false);
    });

    it('unlinks on an uncaught exception, which still kills the process', async (context) => {
      const { name, child } = await owner('throw', context);
      child.send('boom');
      const result = await child.exited;
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('thrown on purpose (boom)');
      expect(existsSync(shmPath(name))).toBe(false);
    });

    // SIGUSR2 and SIGALRM end a process by default too (POSIX; no core dump, unlike SIGQUIT).
    it.for(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR2', 'SIGALRM'] as const)(
      'unlinks on %s and the process still dies of that signal',
      async (signal, context) => {
        const { name, child } = await owner('wait', context);
        child.process.kill(signal);
        expect(await child.exited).toMatchObject({ code: null, signal });
        expect(existsSync(shmPath(name))).toBe(false);
      },
    );

    it("leaves another SIGINT handler in charge: its process.exit(3) stands, and 'exit' unlinks", async (context) => {
      const { name, child } = await owner('sigint-other', context);
      child.process.kill('SIGINT');
      expect(await child.exited).toMatchObject({ code: 3, signal: null });
      expect(existsSync(shmPath(name))).toBe(false);
    });

    it("leaves an app's SIGINT handler registered with once, before the library's, in charge", async (context) => {
      const { name, child } = await owner('sigint-once-first', context);
      child.process.kill('SIGINT');
      expect(await child.exited).toMatchObject({ code: 4, signal: null });
      expect(existsSync(shmPath(name))).toBe(false);
    });

    it('does not kill or unlink when another SIGTERM handler keeps the process running', async (context) => {
      const { name, child } = await owner('sigterm-other-keeps-running', context);
      child.process.kill('SIGTERM');
      expect(await child.line()).toBe('still here');
      child.send('report');
      expect(await child.line()).toBe('exists');
      expect((await child.exited).code).toBe(0);
      expect(existsSync(shmPath(name))).toBe(false);
    });

    it('the disposer cancels it', async (context) => {
      const { name, child } = await owner('dispose', context, 'test');
      child.send('end');
      expect((await child.exited).code).toBe(0);
      expect(existsSync(shmPath(name))).toBe(true); // onTestFinished removes it
    });

    it('SIGKILL cannot be seen: the region stays behind (the stale scan is for that)', async (context) => {
      const { name, child } = await owner('wait', context, 'test');
      child.process.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      expect(existsSync(shmPath(name))).toBe(true); // onTestFinished removes it
    });

    it('SIGKILL of an owner named with its own pid: the next stale scan removes its region', async (context) => {
      const { name, child } = await owner('wait', context);
      child.process.kill('SIGKILL');
      expect((await child.exited).signal).toBe('SIGKILL');
      removeStaleRegions();
      // Whichever scan got there (this one, or one running elsewhere at the same moment), the
      // region of the killed owner is gone; live owners' regions are kept (the other tests here).
      expect(existsSync(shmPath(name))).toBe(false);
      expect(listStaleRegions()).not.toContain(name);
    });
  });
