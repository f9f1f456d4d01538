#!/usr/bin/env node
/**
 * Runs the owner without a TypeScript loader: esbuild bundles src/main.ts (and the workspace
 * packages it imports) in ~50 ms into node_modules/.cache, then plain `node` runs it. A loader
 * such as tsx keeps a second thread and its own compiler in the owner for its whole life (about
 * 40 MB of RSS here) and transpiles on every start; the owner needs neither.
 * Installed packages stay external, imported by file URL (a Windows path is no ESM specifier),
 * exactly as the supervisor does for renderer bundles.
 */
import { mkdirSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(appDir, 'node_modules', '.cache', 'hotshm');
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, `main-${process.pid}.mjs`);
// Bundles of owners that died without their exit handler (SIGKILL) are removed here.
for (const name of readdirSync(outDir)) {
  const pid = Number(/^main-(\d+)\.mjs$/.exec(name)?.[1]);
  if (!pid || pid === process.pid) continue;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (e.code === 'ESRCH') rmSync(join(outDir, name), { force: true });
  }
}

const externalizeInstalled = {
  name: 'externalize-installed',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
      // The entry, or a Windows path ('C:\…' looks bare to the filter).
      if (args.kind === 'entry-point' || isAbsolute(args.path)) return undefined;
      const r = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: 'inner',
      });
      if (r.errors.length > 0 || r.external)
        return r.errors.length > 0 ? { errors: r.errors } : undefined;
      const real = realpathSync(r.path);
      const installed = real.includes('/node_modules/') || real.includes('\\node_modules\\');
      // Node runs no TypeScript from node_modules: a package that ships its sources is bundled
      // (under Wine, say, where the workspace's links do not resolve out of node_modules).
      const external = installed && !/\.[cm]?tsx?$/.test(real);
      return external ? { path: pathToFileURL(real).href, external: true } : { path: real };
    });
  },
};

await esbuild.build({
  entryPoints: [join(appDir, 'src', 'main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile,
  sourcemap: 'inline',
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [externalizeInstalled],
});
await esbuild.stop();
process.setSourceMapsEnabled(true);
// The bundle is only read at import; remove it when this process ends, however it ends normally.
process.once('exit', () => rmSync(outfile, { force: true }));
await import(pathToFileURL(outfile).href);
