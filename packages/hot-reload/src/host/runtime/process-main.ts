/**
 * A renderer process's body, loaded by process-entry.ts once the process is tied to its owner:
 * opens the control pipe, maps the region, warms up everything a renderer's first milliseconds
 * touch, says `warm`, and then serves the lifecycle (serve.ts).
 *
 * This file is built by the owner together with the library's public modules (see
 * ../build/library.ts), which it imports while warming up: a program's
 * `import … from '@hotshm/hot-reload'` is then the very module this runner already loaded, and
 * every module they share (the hand-off, the futex bindings) is one instance.
 *
 * The owner's end of the pipe closing means the owner is gone, however it went: the process ends.
 */
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Channel, channel } from '../../channel/index.js';
import { ChannelClosedError, RegionNotFoundError } from '../../errors.js';
import { beginFrameEpoch } from '../../frames/framebuffer.js';
import { type FrameBuffer, framebuffer } from '../../frames/index.js';
import { HEADER_SIZE, readHeader, validateHeader, writeHeader } from '../../memory/header.js';
import { openRegion, type Region } from '../../memory/index.js';
import { type Cell, fixedString, i32, struct, u8, u32 } from '../../schema/index.js';
import { createBindContext } from '../../state/context.js';
import { defineStateCore, layoutChange } from '../../state/define.js';
import { describeLayout } from '../../state/descriptor.js';
import { layoutState } from '../../state/layout.js';
import { checkPid, checkRegionName, ENV } from '../../state/runtime.js';
import { syncBackend } from '../../sync/backend.js';
import { warmUpEvaluation } from '../build/evaluate.js';
import { libraryModuleUrl, PUBLIC_MODULES, WARM_MODULE } from '../build/modules.js';
import { CONTROL_FD, type FromRenderer } from '../protocol.js';
import { type OwnerPort, serve } from './serve.js';

const t0 = performance.now();
const ownerPid = checkPid(Number(process.env[ENV.ownerPid]), ENV.ownerPid);

let controlPipe: Socket | undefined;

/** The owner's side of the conversation: the control pipe (POSIX) or Node's IPC (Windows). */
function ownerPort(): OwnerPort {
  if (process.platform === 'win32') {
    process.on('disconnect', () => process.exit(0));
    return {
      send: (m: FromRenderer) => process.send?.(m),
      onMessage: (listener) => process.on('message', listener),
    };
  }
  const pipe = new Socket({ fd: CONTROL_FD, readable: true, writable: true });
  controlPipe = pipe;
  pipe.setEncoding('utf8');
  // The owner's end closed: the owner is gone (or closed us). Nothing to draw for any more.
  pipe.on('end', () => process.exit(0));
  pipe.on('close', () => process.exit(0));
  pipe.on('error', () => process.exit(0));
  const listeners: Array<(m: unknown) => void> = [];
  let partial = '';
  pipe.on('data', (chunk: string) => {
    partial += chunk;
    for (;;) {
      const end = partial.indexOf('\n');
      if (end < 0) break;
      const line = partial.slice(0, end);
      partial = partial.slice(end + 1);
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        message = undefined;
      }
      for (const l of listeners) l(message);
    }
  });
  return {
    send: (m: FromRenderer) => {
      if (!pipe.destroyed) pipe.write(`${JSON.stringify(m)}\n`);
    },
    onMessage: (listener) => listeners.push(listener),
  };
}

/** Ends the process once what it said to the owner is out (a failure report must arrive). */
function exitAfterFlush(code: number): void {
  if (
    process.platform === 'win32' ||
    controlPipe === undefined ||
    controlPipe.writableLength === 0
  ) {
    process.exit(code);
  }
  controlPipe.once('drain', () => process.exit(code));
  setTimeout(() => process.exit(code), 100).unref();
}

// A renderer whose owner retired it sees its channels close; a `recv()` it did not expect to end
// may throw that out of a timer or a promise chain. That is the end it was asked for, not a crash.
const quietOnRetire = (error: unknown): void => {
  if (error instanceof ChannelClosedError) process.exit(0);
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
};
process.on('uncaughtException', quietOnRetire);
process.on('unhandledRejection', quietOnRetire);

const port = ownerPort();
const regionName = checkRegionName(process.env[ENV.region], ENV.region);
/**
 * The region the owner had when it started this process, mapped now so that a load does not wait
 * for it. It may be gone already (the state migrated while this process booted): then the load
 * maps the region it names.
 */
const region = (() => {
  let r: Region;
  try {
    r = openRegion(regionName);
  } catch (e) {
    if (e instanceof RegionNotFoundError) return undefined;
    throw e;
  }
  const owner = readHeader(r).ownerPid;
  if (owner !== ownerPid) {
    console.error(
      `hotshm runner: region ${regionName} belongs to pid ${owner}, expected ${ownerPid}`,
    );
    process.exit(1);
  }
  return r;
})();

serve({ port, ownerPid, ...(region ? { region } : {}), exit: exitAfterFlush });

await warmUp();
port.send({ type: 'warm', ms: performance.now() - t0 });

/**
 * Runs, once and on scratch memory, the paths a renderer's first milliseconds take: importing a
 * file with a source map, the library's public modules, a layout and its fingerprint, binding a
 * framebuffer and channels, a present and a send. A fresh process compiles each function on its
 * first call; doing that here, while the user is still typing, takes it off the reload path.
 */
async function warmUp(): Promise<void> {
  // The module runner's own paths (compile, link, run, import.meta), on a tiny program.
  await warmUpEvaluation();
  await import(libraryModuleUrl(WARM_MODULE, import.meta.url));
  for (const files of Object.values(PUBLIC_MODULES)) {
    if (files.warm === false) continue;
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
  beginFrameEpoch(fields.framebuffer, 1);
  fields.framebuffer.back().fill(0);
  fields.framebuffer.present();
  fields.input.trySend({ kind: 1, x: 2 });
  fields.input.tryRecv();
  fields.text.trySend('warm');
  fields.text.drain();
  fields.memory.n.set(fields.memory.n.get() + 1);
  JSON.parse(process.env[ENV.args] ?? 'null');
  // What State.reloadable() does on the real region, and what the first receive does: the wait
  // back end is built (koffi bindings, native timespecs) and the header checked, once, here.
  syncBackend();
  if (region) validateHeader(region, { fingerprint: readHeader(region).fingerprint });
  // What a load does before the program's main(): its fallback timer (a process's first
  // setTimeout costs 0.25 ms of lazy compilation), reading the program file as text, and
  // comparing the program's state layout with the region's header.
  clearTimeout(setTimeout(() => {}, 1000));
  try {
    JSON.parse(JSON.stringify(readFileSync(fileURLToPath(import.meta.url), 'utf8').slice(0, 4096)));
  } catch {
    // Only a warm-up: a runner that cannot read itself reads the program all the same.
  }
  const warmState = defineStateCore({
    name: 'warm',
    reloadable: '/warm.ts',
    args: struct({ n: u32 }),
    fields: () => ({ n: u32 }),
  });
  const warmLayout = warmState.layout({ n: 1 });
  writeHeader(scratch, {
    fingerprint: warmLayout.fingerprint,
    descriptor: JSON.stringify(describeLayout(warmLayout)),
    ownerPid: process.pid,
  });
  layoutChange(scratch, '{"n":1}');
  layoutChange(scratch, '{"n":2}');
}
