import { appEnv, createTempImpl, startApp } from '../test/e2e/harness.js';
import { observeFrames } from '../test/e2e/observe.js';
import { startXvfb } from '../../hot-reload/test/x11.js';
const xvfb = await startXvfb();
const impl = createTempImpl();
const app = startApp({ env: appEnv(xvfb.display, { HOTSHM_BACKEND: 'sdl', HOTSHM_EXAMPLE_ENTRY: impl.entry }) });
const REGION_LINE = /region (\/hotshm-\S+), backend/;
const line = await app.line('the region line', REGION_LINE, 0, 60_000);
const observer = observeFrames(REGION_LINE.exec(line)![1]!);
await observer.waitFor((p) => p !== undefined, 30_000);
await new Promise((r) => setTimeout(r, 1500));
const ORANGE_LINE = 'export const ORANGE: number = rgb(1.0, 0.7, 0.0);';
const times: number[] = [];
const writes: number[] = [];
for (let i = 1; i <= Number(process.argv[2] ?? 20); i++) {
  const c = (0xff000000 + ((i * 2654435761) & 0xffffff)) >>> 0;
  const src = impl.original.replace(ORANGE_LINE, `export const ORANGE: number = rgb(${(c >> 16) & 255} / 255, ${(c >> 8) & 255} / 255, ${c & 255} / 255);`);
  const t0 = performance.now();
  writes.push(performance.timeOrigin + t0);
  impl.write(src);
  try { const t1 = await observer.waitFor((p) => p === c, 5000); times.push(t1 - t0); }
  catch { console.log('MISSED edit', i); console.log(app.stdout.slice(-15).join('\n')); console.log(app.stderr.slice(-15).join('\n')); break; }
  await new Promise((r) => setTimeout(r, 600));
}
const seen = app.stderr.concat(app.stdout).filter((l) => l.startsWith('[watch]')).map((l) => Number(l.split(' ')[1]));
const lat = writes.map((w) => { const s = seen.find((x) => x >= w); return s === undefined ? NaN : s - w; }).filter(Number.isFinite).sort((a,b)=>a-b);
console.log('write→watch p50', lat[Math.floor(lat.length/2)]?.toFixed(2), 'max', lat.at(-1)?.toFixed(2), 'n', lat.length);
times.sort((a, b) => a - b);
console.log('n', times.length, 'p50', times[Math.floor(times.length / 2)]?.toFixed(2), 'p95', times[Math.floor(times.length * 0.95)]?.toFixed(2), 'max', times.at(-1)?.toFixed(2));
console.log(app.stdout.filter((l) => l.includes('reloaded in')).slice(-8).join('\n'));
observer.close(); await app.stop(); impl.remove(); await xvfb.stop?.();
process.exit(0);
