import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts says how its tests run.
// The JSON report is what `.ci/run` counts; each of its lanes names its own file.
export default defineConfig({
  test: {
    projects: ['packages/*', 'packages/hot-reload/vitest.serial.config.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: process.env.HOTSHM_TEST_REPORT || '.vitest-report.json' },
  },
});
