import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'example-impl',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
