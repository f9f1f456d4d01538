/**
 * The owner. It opens the window first (so it appears at once), creates the shared state, starts
 * the renderer (hot: a supervised process rebuilt on save; otherwise a worker thread), and runs a
 * frame loop paced at 60 fps on timers — never a blocking loop, because the watcher and the
 * supervisor live on the same event loop. Each frame: forward input, take titles from the
 * renderer, and hand SDL the front buffer's address (no copy in JavaScript).
 */
import { createWriteStream, readdirSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Backend, InputEvent as BackendInput } from '@hotshm/hot-reload/window';
import { InputKind, Key, openBackend } from '@hotshm/hot-reload/window';
import { State } from 'hot-reloaded-state';

export const TITLE = 'Hot Reload Demo';
const ERROR_BORDER = 0xffe01b24;
const FRAME_MS = 1000 / 60;

export interface AppOptions {
  readonly width?: number;
  readonly height?: number;
  readonly hot?: boolean;
  /** Overrides the reloadable entry (tests point it at a temporary copy). */
  readonly entry?: string;
  readonly log?: (line: string) => void;
}

export interface App {
  readonly backend: Backend;
  readonly state: Awaited<ReturnType<typeof State.owner>>;
  /** Resolves with the exit code once the app has stopped (Escape, close button, `stop()`). */
  readonly done: Promise<number>;
  stop(code?: number): Promise<void>;
  /** Frame-loop figures so far: owner work per frame (ms) and event-loop delay. */
  stats(): { frames: number; workMs: number[]; loopDelayP99Ms: number };
}

export async function startApp(options: AppOptions = {}): Promise<App> {
  const width = options.width ?? 300;
  const height = options.height ?? 300;
  const hot = options.hot ?? true;
  let log = options.log ?? ((line: string) => console.log(line));

  const { backend, note } = await openBackend({ width, height, title: TITLE });
  if (note) log(`hotshm: ${note}`);
  // The terminal back end owns the screen: every line printed would scroll the picture, so the
  // app's log, the supervisor's report and the renderers' stderr go to a file instead.
  let logFile: WriteStream | undefined;
  let logPath: string | undefined;
  if (backend.name === 'terminal' && !options.log) {
    removeStaleLogs();
    const path = join(tmpdir(), `hotshm-${process.pid}.log`);
    logPath = path;
    const file = createWriteStream(path);
    logFile = file;
    log = (line: string) => file.write(`${line}\n`);
    backend.setTitle(`${TITLE} - log in ${path}`);
  }
  const state = await State.owner(
    { width, height },
    {
      hot,
      ...(options.entry ? { entry: options.entry } : {}),
      // The library's report (one line per reload, with its phases) goes where the app's goes.
      log: (line: string) => log(line),
      ...(logFile ? { host: { stderr: logFile } } : {}),
    },
  );
  log(
    `hotshm: region ${state.region.name}, backend ${backend.name}, ${hot ? 'hot reload on' : 'renderer on a worker thread (no hot reload)'}`,
  );

  let title = TITLE;
  let problem: string | undefined;
  // ASCII separator: SDL sets _NET_WM_NAME (what window managers and xdotool read) through Xlib's
  // locale conversion, and nobody calls setlocale() in Node, so a character outside Latin-1 (an em
  // dash) left _NET_WM_NAME at the previous title while only the legacy WM_NAME changed.
  const showTitle = (): void => backend.setTitle(problem ? `${title} - ${problem}` : title);
  const sup = state.host;
  sup.on('reload', (e) => {
    // A restart after a crash runs the very code that crashed: keep saying so until an edit
    // brings new code, or the note would flash by in the 100 ms before the restart.
    if (e.reason !== 'restart') problem = undefined;
    else if (problem && !problem.endsWith(', restarted')) problem = `${problem}, restarted`;
    showTitle();
  });
  sup.on('build-done', () => {
    // An edit undone after a build error builds what already runs: the error is gone.
    if (problem?.startsWith('build error')) {
      problem = undefined;
      showTitle();
    }
  });
  sup.on('build-error', (e) => {
    problem = `build error at ${e.locations[0] ?? 'unknown place'}`;
    showTitle();
  });
  sup.on('crash', (e) => {
    // A start that failed is told by what failed, not by the signal the supervisor then sent to
    // stop it (that would read like an outside kill).
    const stage = 'stage' in e.error ? e.error.stage : undefined;
    const how =
      stage === 'timeout'
        ? 'timed out'
        : stage === 'main'
          ? 'threw in main()'
          : stage === 'import'
            ? 'threw at its top level'
            : (e.signal ?? `exit ${e.code}`);
    problem = `renderer ${e.phase === 'start' ? 'failed to start' : 'crashed'} (${how})`;
    showTitle();
  });
  sup.on('repair', (e) => {
    problem = `repaired a damaged region (${e.repairs.map((r) => r.part).join(', ')})`;
    showTitle();
  });

  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const workMs: number[] = [];
  let frames = 0;
  let dropped = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveDone: (code: number) => void = () => {};
  const done = new Promise<number>((r) => {
    resolveDone = r;
  });

  const forward = (ev: BackendInput): void => {
    const sent = state.toRenderer.trySend({
      kind: ev.kind,
      button: ev.button,
      buttons: ev.buttons,
      modifiers: ev.modifiers,
      x: ev.x | 0,
      y: ev.y | 0,
      key: ev.key | 0,
      dx: Math.max(-32768, Math.min(32767, ev.dx | 0)),
      dy: Math.max(-32768, Math.min(32767, ev.dy | 0)),
    });
    // Motion is a stream where only the latest matters; a full queue must never lose a click.
    if (!sent) {
      dropped++;
      if (ev.kind !== InputKind.MouseMove)
        log(`hotshm: input queue full (renderer not reading?): dropped a ${ev.kind} event`);
    }
  };

  let next = performance.now();
  const frame = (): void => {
    if (stopped) return;
    const t0 = performance.now();
    const { events, quit } = backend.poll();
    for (const ev of events) {
      if (ev.kind === InputKind.KeyDown && ev.key === Key.Escape) continue;
      forward(ev);
    }
    for (const msg of state.fromRenderer.drain()) title = msg;
    if (events.length > 0 || title !== lastTitle) {
      if (title !== lastTitle) {
        lastTitle = title;
        showTitle();
      }
    }
    const front = state.framebuffer.acquireFront();
    backend.upload(
      front && { address: front.address, pixels: front.pixels, width, height, pitch: front.pitch },
      problem ? { border: ERROR_BORDER } : {},
    );
    state.framebuffer.releaseFront();
    workMs.push(performance.now() - t0);
    if (workMs.length > 10_000) workMs.splice(0, 5_000);
    backend.flip();
    frames++;
    if (quit) {
      void stop(0);
      return;
    }
    // Drift-corrected pacing: aim at the next 60 Hz slot, never a busy loop.
    next += FRAME_MS;
    const now = performance.now();
    if (next < now - FRAME_MS) next = now;
    timer = setTimeout(frame, Math.max(0, next - now));
  };
  let lastTitle = '';

  const stop = async (code = 0): Promise<void> => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    lag.disable();
    await state.close();
    backend.close();
    logFile?.end();
    // A clean end leaves nothing behind; the log of an owner that crashed stays until the next
    // start (removeStaleLogs), so it can be read.
    if (logPath) rmSync(logPath, { force: true });
    resolveDone(code);
  };

  sup.on('layout-change', () => {
    log('hotshm: the state layout changed; restarting the owner so both sides agree');
    void stop(75);
  });

  showTitle();
  frame();
  void dropped;
  return {
    backend,
    state,
    done,
    stop,
    stats: () => ({ frames, workMs: [...workMs], loopDelayP99Ms: lag.percentile(99) / 1e6 }),
  };
}

/** Removes the terminal back end's logs of owners that are gone (`hotshm-<pid>.log`). */
function removeStaleLogs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^hotshm-(\d+)\.log$/.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH')
        rmSync(join(tmpdir(), name), { force: true });
    }
  }
}
