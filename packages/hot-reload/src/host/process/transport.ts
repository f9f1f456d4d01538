/**
 * A renderer process as the lifecycle sees it (../lifecycle.ts): messages over a raw pipe, the
 * tail of its stderr for crash reports, its exit, and signals to its whole process group.
 *
 * Messages go over a pipe of their own (fd 3), one JSON object per line, not over Node's IPC
 * channel: measured on a 2-core machine, a message written to a raw pipe reaches an idle child's
 * handler in 0.27 ms, a `process.send` in 2.2 ms, and the hand-over of a build is on the path of
 * every reload. Windows keeps Node's IPC channel (its extra stdio pipes are not sockets a child
 * can open by descriptor the same way).
 *
 * Each renderer leads its own process group (POSIX: `detached`, i.e. setsid), and every signal
 * goes to the whole group: processes a renderer starts itself (a `sleep`, a helper server) are
 * stopped with it, on a reload and when the owner exits. What a SIGKILL of the owner leaves is
 * the renderer itself, killed by the kernel (PR_SET_PDEATHSIG, and the pipe's end), and any
 * processes it started: those are stopped by the next owner's start (../orphans.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { SpawnError } from '../../errors.js';
import { onProcessExit } from '../../lifetime.js';
import type { OutputSink } from '../events.js';
import type { RendererExit, RendererTransport } from '../lifecycle.js';
import { CONTROL_FD, type ToRenderer } from '../protocol.js';

const STDERR_TAIL_BYTES = 8 * 1024;
/** How long after its exit a renderer's stderr may still be read. */
const STDERR_AFTER_EXIT_MS = 100;
/** Process groups and descriptor-passed pipes exist on POSIX. */
const POSIX = process.platform !== 'win32';

export interface ProcessTransportOptions {
  /** The runner module to start with `node`. */
  readonly runner: string;
  readonly env: NodeJS.ProcessEnv;
  readonly stderr: OutputSink;
}

export class ProcessTransport implements RendererTransport {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly #control: Socket | undefined;
  #stderrTail = '';
  #exited = false;
  readonly #messageListeners: Array<(m: unknown) => void> = [];
  readonly #exitListeners: Array<(e: RendererExit) => void> = [];
  readonly #disposeExitHook: () => void;

  constructor(options: ProcessTransportOptions) {
    this.proc = spawn(process.execPath, ['--enable-source-maps', options.runner], {
      stdio: ['ignore', 'inherit', 'pipe', POSIX ? 'pipe' : 'ipc'],
      env: options.env,
      serialization: 'json',
      detached: POSIX,
    });
    // Before anything can fail: a spawn that fails (EMFILE, EAGAIN) reports through 'error', and
    // an unheard 'error' would take the owner down. A write to a process that just died (EPIPE)
    // comes here too; its exit is reported separately.
    let spawnError: Error | undefined;
    this.proc.on('error', (err) => {
      spawnError ??= err;
    });
    if (this.proc.pid === undefined) {
      throw new SpawnError(
        `could not start a renderer process: ${spawnError?.message ?? 'the OS gave it no pid'}`,
        { cause: spawnError },
      );
    }
    this.pid = this.proc.pid;
    // The owner ending in any way JavaScript sees takes the renderer's whole group with it.
    this.#disposeExitHook = onProcessExit(() => this.#signal('SIGKILL'));
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      options.stderr.write(chunk);
      this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    if (POSIX) {
      const control = this.proc.stdio[CONTROL_FD] as Socket | null | undefined;
      if (!control) throw new SpawnError('could not open the control pipe of a renderer process');
      this.#control = control;
      control.setEncoding('utf8');
      // A write to a renderer that is dying fails with EPIPE; its exit is what gets reported.
      control.on('error', () => {});
      let partial = '';
      control.on('data', (chunk: string) => {
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
          for (const l of this.#messageListeners) l(message);
        }
      });
    } else {
      this.proc.on('message', (m: unknown) => {
        for (const l of this.#messageListeners) l(m);
      });
    }
    this.proc.once('exit', (code, signal) => {
      this.#exited = true;
      this.#disposeExitHook();
      // Whatever the renderer started and left behind goes with it.
      this.#signal('SIGKILL');
      this.#control?.destroy();
      const e: RendererExit = { code, signal };
      // Reported once its stderr is read to the end (a crash report needs the last lines, which
      // can arrive after the exit), or a moment after the exit if a process it started outside
      // its group still holds that pipe open.
      let reported = false;
      const report = (): void => {
        if (reported) return;
        reported = true;
        clearTimeout(late);
        this.proc.stderr?.destroy();
        // The process handle finishes closing on the next turn: after that, nothing of this
        // renderer is left in the owner (close() means nothing keeps the owner alive).
        setImmediate(() => {
          for (const l of this.#exitListeners.splice(0)) l(e);
        });
      };
      const late = setTimeout(report, STDERR_AFTER_EXIT_MS);
      this.proc.once('close', report);
    });
  }

  send(message: ToRenderer): void {
    if (this.#exited) return;
    if (this.#control) {
      if (!this.#control.destroyed) this.#control.write(`${JSON.stringify(message)}\n`);
    } else if (this.proc.connected) {
      this.proc.send(message);
    }
  }

  onMessage(listener: (message: unknown) => void): void {
    this.#messageListeners.push(listener);
  }

  onExit(listener: (exit: RendererExit) => void): void {
    this.#exitListeners.push(listener);
  }

  terminate(): void {
    this.#signal('SIGTERM');
  }

  kill(): void {
    this.#signal('SIGKILL');
  }

  get stderr(): string {
    return this.#stderrTail;
  }

  get running(): boolean {
    return !this.#exited;
  }

  /** Sends `signal` to the renderer's process group (or the process alone where there are none). */
  #signal(signal: 'SIGTERM' | 'SIGKILL'): void {
    try {
      if (POSIX) process.kill(-this.pid, signal);
      else if (!this.#exited) this.proc.kill(signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }
}
