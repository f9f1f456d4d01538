import { defineConfig } from 'tsup';

/** The public modules (package.json `exports`) and what hosts start (see src/host/build/modules.ts). */
const publicEntries = {
  index: 'src/index.ts',
  memory: 'src/exports/memory.ts',
  sync: 'src/exports/sync.ts',
  schema: 'src/exports/schema.ts',
  errors: 'src/exports/errors.ts',
  window: 'src/exports/window.ts',
  canvas: 'src/exports/canvas.ts',
};

export default defineConfig({
  entry: {
    ...publicEntries,
    runner: 'src/host/runtime/process-entry.ts',
    worker: 'src/host/runtime/thread-main.ts',
    warm: 'src/host/build/warm.ts',
    // The `hotshm` command (bin/hotshm.mjs) and the first module of the owners it starts.
    launcher: 'src/host/launcher/cli.ts',
    'launcher-boot': 'src/host/launcher/boot.ts',
  },
  format: ['esm'],
  target: 'node20',
  platform: 'node',
  dts: { entry: publicEntries },
  sourcemap: true,
  clean: true,
  splitting: true,
});
