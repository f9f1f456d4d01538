/**
 * The worker thread's entry (no-hot mode), built by the owner together with the library's public
 * modules (see ../build/library.ts). It leaves the hand-off for `State.reloadable()`, imports the
 * renderer's bundle, and runs its `main()`; it tells the owner when the renderer has its state,
 * and when it failed before that. When the owner retires it, the renderer's channels close, its
 * loops end, `main()` returns, and the thread ends on its own: no `terminate()` lands inside a
 * native call.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ChannelClosedError } from '../../errors.js';
import {
  checkEpoch,
  checkPid,
  checkRegionName,
  installHandoff,
  type RuntimeHandoff,
} from '../../state/runtime.js';
import { syncBackend } from '../../sync/backend.js';
import { type FailStage, runBundle, type StartFailure, startFailure } from '../run-bundle.js';

export interface WorkerData {
  readonly hotshm: {
    readonly regionName: string;
    readonly argsJson: string;
    readonly epoch: number;
    readonly ownerPid: number;
  };
  /** Absolute path of the bundle to run. */
  readonly bundle: string;
}

export type FromWorker =
  | { readonly type: 'ready'; readonly importMs: number }
  /** An error nobody caught after the renderer was ready: the thread ends with it. */
  | { readonly type: 'crashed'; readonly message: string; readonly stack: string }
  | StartFailure;

const data = workerData as WorkerData;
// The wait back end, with the native memory its waits use, is made now, before the renderer has
// its state, not at its first wait: making it takes koffi calls that abort the process when they
// run while the owner ends this thread (process.exit() on the main thread terminates it at once),
// and an owner can end right after the renderer is ready. A wait itself is safe to interrupt.
syncBackend();
const post = (m: FromWorker): void => parentPort?.postMessage(m);
const start = performance.now();
let importMs = 0;
let ready = false;
const handoff: RuntimeHandoff = {
  regionName: checkRegionName(data.hotshm.regionName, 'workerData.hotshm.regionName'),
  argsJson: String(data.hotshm.argsJson),
  epoch: checkEpoch(data.hotshm.epoch, 'workerData.hotshm.epoch'),
  ownerPid: checkPid(data.hotshm.ownerPid, 'workerData.hotshm.ownerPid'),
  onReloadable: () => {
    if (ready) return;
    ready = true;
    post({ type: 'ready', importMs });
  },
};
installHandoff(handoff);

// A renderer its owner retired may see a `recv()` end in a timer or a promise chain it did not
// guard: that is the end it was asked for. Anything else ends the thread and is reported.
const onUncaught = (error: unknown): void => {
  if (error instanceof ChannelClosedError) process.exit(0);
  const err = error instanceof Error ? error : new Error(String(error));
  post({ type: 'crashed', message: err.message, stack: err.stack ?? err.message });
  process.exit(1);
};
process.on('uncaughtException', onUncaught);
process.on('unhandledRejection', onUncaught);

// Stack traces name the user's files, as in a renderer process (which runs with
// --enable-source-maps): the bundle's inline source map points at them.
process.setSourceMapsEnabled(true);

let stage: FailStage = 'import';
try {
  await runBundle(data.bundle, () => {
    importMs = performance.now() - start;
    stage = 'main';
  });
  handoff.onReloadable?.();
} catch (e) {
  if (!(e instanceof ChannelClosedError)) {
    if (ready) onUncaught(e);
    post(startFailure(stage, e));
    process.exit(1);
  }
}
