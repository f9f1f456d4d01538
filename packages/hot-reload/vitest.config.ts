import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'hot-reload',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Tests spawn real processes and map real shared memory: run files one at a time per worker
    // and give cross-process tests room on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
