import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'create-hotshm',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The end-to-end test installs packed tarballs from the registry and runs a real window.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
