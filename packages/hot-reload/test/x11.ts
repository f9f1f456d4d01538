/**
 * Helpers for the SDL test and bench: a private Xvfb server, the X tools that look at it, and a
 * reader for a child's JSON lines. Real processes only; every wait polls a condition.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import koffi from 'koffi';

export interface Xvfb {
  readonly display: string;
  stop(): Promise<void>;
}

/** Runs a command; resolves with stdout as a Buffer, rejects with stderr in the message. */
export function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env, encoding: 'buffer', maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${command} ${args.join(' ')}: ${error.message} ${String(stderr)}`));
        } else resolve(stdout);
      },
    );
  });
}

/** Polls `check` until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts `Xvfb :N` on a free display number (90 + random, retried if taken) and waits until
 * `xdpyinfo` can talk to it.
 */
export async function startXvfb(screen = '640x480x24'): Promise<Xvfb> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const n = 90 + Math.floor(Math.random() * 400);
    if (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) continue;
    const display = `:${n}`;
    const server = spawn(
      'Xvfb',
      [display, '-screen', '0', screen, '-nolisten', 'tcp', '-noreset'],
      {
        stdio: 'ignore',
      },
    );
    let exited = false;
    server.once('exit', () => {
      exited = true;
    });
    try {
      await waitFor(`Xvfb ${display}`, async () => {
        if (exited) throw new Error('Xvfb exited');
        await run('xdpyinfo', ['-display', display]);
        return true;
      });
    } catch {
      server.kill('SIGKILL');
      continue; // taken by a server that started meanwhile, or failed: try another number
    }
    return { display, stop: () => stopChild(server) };
  }
  throw new Error('could not start Xvfb on a free display');
}

export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Collects a child's stdout JSON lines; `next` waits for the first line matching a predicate. */
export class JsonLines {
  readonly lines: Record<string, unknown>[] = [];
  readonly #waiters = new Set<() => void>();

  constructor(stream: NodeJS.ReadableStream) {
    createInterface({ input: stream }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ text: line });
      }
      for (const wake of this.#waiters) wake();
    });
  }

  /** The first line (from index `from`) that matches; waits for it. */
  async find(
    what: string,
    match: (line: Record<string, unknown>) => boolean,
    from = 0,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    return waitFor(what, () => this.lines.slice(from).find(match), timeoutMs);
  }
}

/** The RGB of every pixel of an X window, row by row (ImageMagick's `import`). */
export async function screenshot(
  display: string,
  window: number,
): Promise<{ width: number; height: number; rgb: Buffer }> {
  const env = { ...process.env, DISPLAY: display };
  const info = (await run('xwininfo', ['-id', String(window)], env)).toString();
  const width = Number(/Width: (\d+)/.exec(info)?.[1]);
  const height = Number(/Height: (\d+)/.exec(info)?.[1]);
  const rgb = await run('import', ['-window', String(window), '-depth', '8', 'rgb:-'], env);
  if (rgb.length !== width * height * 3) {
    throw new Error(`screenshot: expected ${width * height * 3} bytes, got ${rgb.length}`);
  }
  return { width, height, rgb };
}

export function pixelAt(
  shot: { width: number; rgb: Buffer },
  x: number,
  y: number,
): [number, number, number] {
  const i = (y * shot.width + x) * 3;
  return [shot.rgb[i] ?? -1, shot.rgb[i + 1] ?? -1, shot.rgb[i + 2] ?? -1];
}

export function near(
  [r, g, b]: readonly number[],
  [er, eg, eb]: readonly number[],
  tolerance = 2,
): boolean {
  return (
    Math.abs((r ?? -999) - (er ?? 0)) <= tolerance &&
    Math.abs((g ?? -999) - (eg ?? 0)) <= tolerance &&
    Math.abs((b ?? -999) - (eb ?? 0)) <= tolerance
  );
}

/** XClientMessageEvent on 64-bit Xlib: type, serial, send_event, display, window, … (XEvent is 192 bytes). */
const XEVENT_SIZE = 192;
const ClientMessage = 33;
const XClient = { type: 0, window: 32, messageType: 40, format: 48, data0: 56 } as const;

/**
 * Asks an X window to close as a window manager's close button does: a WM_PROTOCOLS client
 * message carrying WM_DELETE_WINDOW (what SDL turns into SDL_WINDOWEVENT_CLOSE). Through Xlib
 * (koffi), since xdotool 3.2016 has no command for it.
 */
export function requestClose(display: string, window: number): void {
  const x = koffi.load('libX11.so.6');
  const XOpenDisplay = x.func('void *XOpenDisplay(const char *name)');
  const XInternAtom = x.func('unsigned long XInternAtom(void *d, const char *name, int only)');
  const XSendEvent = x.func(
    'int XSendEvent(void *d, unsigned long w, int propagate, long mask, void *event)',
  );
  const XFlush = x.func('int XFlush(void *d)');
  const XCloseDisplay = x.func('int XCloseDisplay(void *d)');
  const d = XOpenDisplay(display) as bigint | null;
  if (!d) throw new Error(`XOpenDisplay(${display}) failed`);
  const event = koffi.alloc('uint8_t', XEVENT_SIZE) as bigint;
  try {
    const view = new DataView(koffi.view(event, XEVENT_SIZE));
    for (let i = 0; i < XEVENT_SIZE; i++) view.setUint8(i, 0);
    view.setInt32(XClient.type, ClientMessage, true);
    view.setBigUint64(XClient.window, BigInt(window), true);
    view.setBigUint64(XClient.messageType, BigInt(XInternAtom(d, 'WM_PROTOCOLS', 0)), true);
    view.setInt32(XClient.format, 32, true);
    view.setBigUint64(XClient.data0, BigInt(XInternAtom(d, 'WM_DELETE_WINDOW', 0)), true);
    if (XSendEvent(d, window, 0, 0, event) === 0) throw new Error('XSendEvent failed');
    XFlush(d);
  } finally {
    koffi.free(event);
    XCloseDisplay(d);
  }
}
