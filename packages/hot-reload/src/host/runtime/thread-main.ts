/**
 * A renderer thread's body (no-hot mode), built by the owner with the library's public modules
 * (see ../build/library.ts): maps the region, says `warm`, and serves the lifecycle (serve.ts)
 * over the worker's port. When the owner retires it, its channels close, its loops end, `main()`
 * returns and the thread ends on its own: no `terminate()` lands inside a native call.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChannelClosedError } from '../../errors.js';
import { openRegion } from '../../memory/index.js';
import { checkPid, checkRegionName } from '../../state/runtime.js';
import { syncBackend } from '../../sync/backend.js';
import type { FromRenderer } from '../protocol.js';
import type { ThreadData } from '../thread/transport.js';
import { serve } from './serve.js';

const t0 = performance.now();
const data = workerData as Partial<ThreadData> | null;
const port = parentPort;
if (!port || !data?.hotshm) {
  throw new Error('hotshm: the renderer thread entry must be started by the owner');
}
const regionName = checkRegionName(data.hotshm.regionName, 'workerData.hotshm.regionName');
const ownerPid = checkPid(data.hotshm.ownerPid, 'workerData.hotshm.ownerPid');

// The wait back end, with the native memory its waits use, is made now, before the renderer has
// its state, not at its first wait: making it takes koffi calls that abort the process when they
// run while the owner ends this thread (process.exit() on the main thread terminates it at once),
// and an owner can end right after the renderer is ready. A wait itself is safe to interrupt.
syncBackend();
const region = openRegion(regionName);

// A renderer its owner retired may see a `recv()` end in a timer or a promise chain it did not
// guard: that is the end it was asked for. Anything else ends the thread and is reported.
const onUncaught = (error: unknown): void => {
  if (error instanceof ChannelClosedError) process.exit(0);
  const err = error instanceof Error ? error : new Error(String(error));
  send({ type: 'crashed', message: err.message, stack: err.stack ?? err.message });
  process.exit(1);
};
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUncaught);
// Stack traces name the user's files, as in a renderer process (which runs with
// --enable-source-maps).
process.setSourceMapsEnabled(true);

function send(m: FromRenderer): void {
  port?.postMessage(m);
}

serve({
  port: { send, onMessage: (listener) => port.on('message', listener) },
  ownerPid,
  region,
  exit: (code) => process.exit(code),
});
send({ type: 'warm', ms: performance.now() - t0 });
