/**
 * The standby's body, loaded by runner.ts once the process is tied to its owner: maps the region,
 * leaves the hand-off and this library for the bundle, and runs the bundle on `load`.
 */
import { pathToFileURL } from 'node:url';
import * as library from '../index.js';
import { readHeader } from '../memory/header.js';
import { openRegion } from '../memory/index.js';
import { createBindContext } from '../state/context.js';
import { layoutState } from '../state/layout.js';
import {
  checkEpoch,
  checkPid,
  checkRegionName,
  ENV,
  installHandoff,
  type RuntimeHandoff,
} from '../state/runtime.js';
import { LIBRARY_KEY } from './bundler.js';
import { type FromRunner, isToRunner } from './protocol.js';

const t0 = performance.now();
const send = (m: FromRunner): void => {
  if (process.send) process.send(m);
};

const ownerPid = checkPid(Number(process.env[ENV.ownerPid]), ENV.ownerPid);

const ownerAlive = (): boolean => {
  if (process.ppid !== ownerPid) return false;
  try {
    process.kill(ownerPid, 0);
    return true;
  } catch {
    return false;
  }
};
setInterval(() => {
  if (!ownerAlive()) process.exit(0);
}, 250).unref();

const regionName = checkRegionName(process.env[ENV.region], ENV.region);
const region = openRegion(regionName);
const header = readHeader(region);
if (header.ownerPid !== ownerPid) {
  console.error(
    `hotshm runner: region ${regionName} belongs to pid ${header.ownerPid}, expected ${ownerPid}`,
  );
  process.exit(1);
}

const handoff: RuntimeHandoff = {
  regionName,
  argsJson: process.env[ENV.args] ?? 'null',
  epoch: 1,
  ownerPid,
  region,
};
installHandoff(handoff);
// Bundles import this library from here (see shareLibrary in bundler.ts).
(globalThis as Record<symbol, unknown>)[Symbol.for(LIBRARY_KEY)] = library;

// Closed until the supervisor has stopped the renderer this one replaces (see ProducerGate).
const gateListeners: Array<() => void> = [];
const gate = {
  open: false,
  whenOpen(listener: () => void): void {
    if (gate.open) listener();
    else gateListeners.push(listener);
  },
};
handoff.producerGate = gate;

let loaded = false;
process.on('message', (m: unknown) => {
  if (!isToRunner(m)) return;
  if (m.type === 'exclusive') {
    gate.open = true;
    for (const l of gateListeners.splice(0)) l();
    return;
  }
  if (loaded) return;
  loaded = true;
  const start = performance.now();
  handoff.epoch = checkEpoch(m.epoch, 'load.epoch');
  // "Ready" means the renderer has its state: State.reloadable() validated the region (a layout
  // mismatch fails before this). A renderer that never calls it is ready when main() settles or
  // after a second, whichever comes first.
  let ready = false;
  const readyOnce = (): void => {
    if (ready) return;
    ready = true;
    clearTimeout(fallback);
    send({ type: 'ready', ms: performance.now() - start });
  };
  handoff.onReloadable = readyOnce;
  const fallback = setTimeout(readyOnce, 1000);
  void (async () => {
    try {
      const mod = (await import(pathToFileURL(m.bundle).href)) as { main?: unknown };
      if (typeof mod.main !== 'function') {
        throw new TypeError(
          `the reloadable entry must export a function main(), got ${mod.main === undefined ? 'no main export' : typeof mod.main}`,
        );
      }
      await (mod.main as () => unknown)();
      readyOnce();
    } catch (e) {
      clearTimeout(fallback);
      const err = e instanceof Error ? e : new Error(String(e));
      console.error(err.stack ?? err.message);
      if (!ready) {
        const code = (err as Error & { code?: unknown }).code;
        send({
          type: 'failed',
          message: err.message,
          stack: err.stack ?? err.message,
          ...(typeof code === 'string' ? { code } : {}),
        });
      }
      // Let the IPC message flush before leaving; the supervisor reports the exit.
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 20);
    }
  })();
});
process.on('disconnect', () => process.exit(0));

await warmUp();
send({ type: 'warm', ms: performance.now() - t0 });

/**
 * Runs, once and on scratch memory, the paths a renderer's first milliseconds take: a dynamic
 * import, a layout and its fingerprint, binding a framebuffer and channels, a present and a send.
 * A fresh process compiles each function on its first call; doing that here, while the user is
 * still typing, takes it off the reload path.
 */
async function warmUp(): Promise<void> {
  const warmModule: string = 'data:text/javascript,export const warm = 1';
  await import(warmModule);
  const buffer = new ArrayBuffer(1 << 16);
  const scratch = {
    name: '/hotshm-warm',
    size: buffer.byteLength,
    address: 0n,
    buffer,
    closed: false,
    close() {},
    unlink() {},
  };
  const lay = layoutState(
    'warm',
    {
      framebuffer: library.framebuffer(8, 8),
      input: library.channel(library.struct({ kind: library.u8, x: library.i32 }), { capacity: 4 }),
      text: library.channel(library.fixedString(16), { capacity: 4 }),
      memory: library.struct({ n: library.u32 }),
    },
    library.HEADER_SIZE,
  );
  const view = new DataView(buffer);
  for (const f of lay.fields) f.schema.init?.(view, f.offset);
  const ctx = createBindContext(scratch, 'reloadable', 1);
  const fields = Object.fromEntries(
    lay.fields.map((f) => [f.name, f.schema.bind(ctx, f.offset, f.name)]),
  ) as {
    framebuffer: library.FrameBuffer;
    input: library.Channel<{ kind: number; x: number }>;
    text: library.Channel<string>;
    memory: { n: library.Cell<number> };
  };
  fields.framebuffer.back().fill(0);
  fields.framebuffer.present();
  fields.input.trySend({ kind: 1, x: 2 });
  fields.input.tryRecv();
  fields.text.trySend('warm');
  fields.text.drain();
  fields.memory.n.set(fields.memory.n.get() + 1);
}
