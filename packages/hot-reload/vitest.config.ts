import { defineProject } from 'vitest/config';

/**
 * Tests that watch what a SIGKILLed owner leaves behind until the next owner's start: any owner
 * starting on the machine meanwhile (another test file's) stops those processes first, as it
 * should. They run in a project of their own (vitest.serial.config.ts), after every other test.
 */
export const SERIAL = ['test/orphans.test.ts', 'test/process-groups.test.ts'];

export default defineProject({
  test: {
    name: 'hot-reload',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: SERIAL,
    // Tests spawn real processes and map real shared memory: run files one at a time per worker
    // and give cross-process tests room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
