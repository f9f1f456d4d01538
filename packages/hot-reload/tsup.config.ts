import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', runner: 'src/supervisor/runner.ts' },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  splitting: true,
});
