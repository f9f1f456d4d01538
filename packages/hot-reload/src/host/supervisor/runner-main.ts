/**
 * The standby's body, loaded by runner.ts once the process is tied to its owner: maps the region,
 * leaves the hand-off for the bundle, warms up everything a renderer's first milliseconds touch,
 * and runs the bundle on `load`.
 *
 * This file is built by the owner together with the library's public modules (see
 * ../build/library.ts), which it imports while warming up: the bundle's
 * `import … from '@hotshm/hot-reload'` is then the very module this runner already loaded, and
 * every module they share (the hand-off, the futex bindings) is one instance.
 */
import { type Channel, channel } from '../../channel/index.js';
import { ChannelClosedError } from '../../errors.js';
import { type FrameBuffer, framebuffer } from '../../frames/index.js';
import { HEADER_SIZE, readHeader, validateHeader } from '../../memory/header.js';
import { openRegion } from '../../memory/index.js';
import { type Cell, fixedString, i32, struct, u8, u32 } from '../../schema/index.js';
import { createBindContext } from '../../state/context.js';
import { defineStateCore } from '../../state/define.js';
import { layoutState } from '../../state/layout.js';
import {
  checkEpoch,
  checkPid,
  checkRegionName,
  ENV,
  installHandoff,
  type RuntimeHandoff,
} from '../../state/runtime.js';
import { syncBackend } from '../../sync/backend.js';
import { libraryModuleUrl, PUBLIC_MODULES, WARM_MODULE } from '../build/modules.js';
import { type FailStage, runBundle, startFailure } from '../run-bundle.js';
import type { FromRunner } from './protocol.js';
import { isToRunner } from './protocol.js';

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

// A renderer whose owner retired it sees its channels close; a `recv()` it did not expect to end
// may throw that out of a timer or a promise chain. That is the end it was asked for, not a crash.
const quietOnRetire = (error: unknown): void => {
  if (error instanceof ChannelClosedError) process.exit(0);
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
};
process.on('uncaughtException', quietOnRetire);
process.on('unhandledRejection', quietOnRetire);

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
  const receivedAt = performance.timeOrigin + start;
  let importMs = 0;
  handoff.epoch = checkEpoch(m.epoch, 'load.epoch');
  // "Ready" means the renderer has its state: State.reloadable() validated the region and began
  // this renderer's epoch (a layout mismatch fails before this). A renderer that never calls it
  // is ready when main() settles or after a second, whichever comes first. A renderer stuck
  // before either is the supervisor's to time out: this process's timers cannot run then.
  let ready = false;
  const readyOnce = (): void => {
    if (ready) return;
    ready = true;
    clearTimeout(fallback);
    const now = performance.now();
    send({
      type: 'ready',
      ms: now - start,
      receivedAt,
      importMs,
      stateMs: now - start - importMs,
    });
  };
  // Sent once the code that called State.reloadable() yields: a renderer that draws right after
  // getting its state presents its first frame before this IPC write, which is not on that path.
  // A renderer that never yields after that is not ready: the supervisor's deadline ends it, and
  // the renderer it was to replace gets the floor back.
  handoff.onReloadable = () => queueMicrotask(readyOnce);
  const fallback = setTimeout(readyOnce, 1000);
  let stage: FailStage = 'import';
  void (async () => {
    try {
      await runBundle(m.bundle, () => {
        importMs = performance.now() - start;
        stage = 'main';
      });
      readyOnce();
    } catch (e) {
      clearTimeout(fallback);
      if (e instanceof ChannelClosedError) process.exit(0);
      const failure = startFailure(stage, e);
      console.error(failure.stack);
      if (!ready) send(failure);
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
 * Runs, once and on scratch memory, the paths a renderer's first milliseconds take: importing a
 * file with a source map, the library's public modules, a layout and its fingerprint, binding a
 * framebuffer and channels, a present and a send. A fresh process compiles each function on its
 * first call; doing that here, while the user is still typing, takes it off the reload path.
 */
async function warmUp(): Promise<void> {
  await import(libraryModuleUrl(WARM_MODULE, import.meta.url));
  for (const files of Object.values(PUBLIC_MODULES)) {
    await import(libraryModuleUrl(files.dist, import.meta.url));
  }
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
      framebuffer: framebuffer(8, 8),
      input: channel(struct({ kind: u8, x: i32 }), { capacity: 4 }),
      text: channel(fixedString(16), { capacity: 4 }),
      memory: struct({ n: u32 }),
    },
    HEADER_SIZE,
  );
  const view = new DataView(buffer);
  for (const f of lay.fields) f.schema.init?.(view, f.offset);
  const ctx = createBindContext(scratch, 'reloadable', 1);
  for (const f of lay.fields) f.schema.verify?.(view, f.offset, f.name);
  const fields = Object.fromEntries(
    lay.fields.map((f) => [f.name, f.schema.bind(ctx, f.offset, f.name)]),
  ) as {
    framebuffer: FrameBuffer;
    input: Channel<{ kind: number; x: number }>;
    text: Channel<string>;
    memory: { n: Cell<number> };
  };
  fields.framebuffer.beginEpoch(1);
  fields.framebuffer.back().fill(0);
  fields.framebuffer.present();
  fields.input.trySend({ kind: 1, x: 2 });
  fields.input.tryRecv();
  fields.text.trySend('warm');
  fields.text.drain();
  fields.memory.n.set(fields.memory.n.get() + 1);
  JSON.parse(handoff.argsJson);
  // What State.reloadable() does on the real region, and what the first receive does: the wait
  // back end is built (koffi bindings, native timespecs) and the header checked, once, here.
  syncBackend();
  validateHeader(region, { fingerprint: header.fingerprint });
  defineStateCore({
    name: 'warm',
    reloadable: '/warm.ts',
    args: struct({ n: u32 }),
    fields: () => ({ n: u32 }),
  }).layout({ n: 1 });
}
