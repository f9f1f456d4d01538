import { defineConfig } from 'vitest/config';

// One vitest project per package; each package's own vitest.config.ts says how its tests run.
export default defineConfig({
  test: {
    projects: ['packages/*'],
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-report.json' },
  },
});
