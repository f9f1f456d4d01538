import { spawn } from 'node:child_process';
import { writeFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { State } from 'hot-reloaded-state';
import { buildLibrary } from '../../hot-reload/src/host/build/library.ts';
import { createBundler } from '../../hot-reload/src/host/build/bundler.ts';
const owner = await State.owner({ width: 300, height: 300 }, { hot: false, log: false }).catch(() => null);
// make a region without a host: use the state core directly
const { defineStateCore } = await import('../../hot-reload/src/state/define.ts');
const dir = mkdtempSync(join(tmpdir(), 'hotshm-prof-'));
const lib = await buildLibrary(dir);
const entry = '/work/main/packages/example-impl/src/index.ts';
const bundler = await createBundler(entry, { aliases: lib.aliases, outDir: dir });
const out = await bundler.build();
const file = join(dir, 'bundle-1.mjs');
writeFileSync(file, out.code);
const region = owner!.region;
const profDir = join(dir, 'prof');
const runs = Number(process.env.RUNS ?? 3);
for (let i = 0; i < runs; i++) {
  const child = spawn(process.execPath, ['--enable-source-maps', '--cpu-prof', '--cpu-prof-dir', profDir, '--cpu-prof-interval', '100', lib.runner], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, HOTSHM_REGION: region.name, HOTSHM_ARGS: JSON.stringify({ width: 300, height: 300 }), HOTSHM_OWNER_PID: String(process.pid) },
  });
  await new Promise<void>((r) => child.on('message', (m: any) => { if (m.type === 'warm') r(); }));
  await new Promise((r) => setTimeout(r, 300));
  const t0 = performance.now();
  child.send({ type: 'load', bundle: file, epoch: 10 + i });
  const ready: any = await new Promise((r) => child.on('message', (m: any) => { if (m.type === 'ready' || m.type === 'failed') r(m); }));
  console.log('ready', (performance.now() - t0).toFixed(2), JSON.stringify(ready));
  await new Promise((r) => setTimeout(r, 100));
  child.disconnect();
  await new Promise((r) => child.on('exit', r));
}
console.log(profDir, readdirSync(profDir));
await owner!.close();
process.exit(0);
