import { defineProject } from 'vitest/config';
import { SERIAL } from './vitest.config.js';

/** The tests of vitest.config.ts's SERIAL list: one file at a time, once every other test is done. */
export default defineProject({
  test: {
    name: 'hot-reload-serial',
    include: SERIAL,
    fileParallelism: false,
    sequence: { groupOrder: 1 },
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
