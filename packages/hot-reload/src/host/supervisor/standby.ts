/**
 * One renderer process (standby or live) as the supervisor sees it: its IPC, the tail of its
 * stderr for crash reports, a promise of its exit, and a stop that escalates from SIGTERM to
 * SIGKILL after a grace period.
 *
 * Each renderer leads its own process group (POSIX: `detached`, i.e. setsid), and every signal
 * goes to the whole group: processes a renderer starts itself (a `sleep`, a helper server) are
 * stopped with it, on a reload and when the owner exits. What a SIGKILL of the owner leaves is
 * the renderer itself, killed by the kernel (PR_SET_PDEATHSIG), and any processes it started:
 * those keep running (nothing in the owner runs to stop them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { SpawnError } from '../../errors.js';
import { onProcessExit } from '../../lifetime.js';
import { type FromRunner, isFromRunner, type ToRunner } from './protocol.js';

const STDERR_TAIL_BYTES = 8 * 1024;
/** Process groups exist on POSIX; on Windows a child started detached gets its own console. */
const GROUPS = process.platform !== 'win32';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
}

export interface Writable {
  write(chunk: string | Uint8Array): unknown;
}

export class RendererProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly spawnedAt = performance.now();
  readonly exited: Promise<ChildExit>;
  /** Resolves when the runner has loaded everything and waits for a bundle. */
  readonly warm: Promise<void>;
  isWarm = false;
  exit: ChildExit | undefined;
  /** Why the supervisor stopped it, if it did: its exit is then not a crash. */
  stopReason: string | undefined;
  epoch = 0;
  /** performance.now() when it was handed its bundle (0: still a standby). */
  startedAt = 0;
  /** The bundle it runs (set at hand-off): a crash restarts the same code. */
  build: unknown;
  private stderrTail = '';
  private listeners = new Set<(m: FromRunner) => void>();
  private readonly disposeExitHook: () => void;

  constructor(runnerPath: string, env: NodeJS.ProcessEnv, stderr: Writable) {
    this.proc = spawn(process.execPath, ['--enable-source-maps', runnerPath], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env,
      serialization: 'json',
      detached: GROUPS,
    });
    // Before anything can fail: a spawn that fails (EMFILE, EAGAIN) reports through 'error', and
    // an unheard 'error' would take the owner down. An IPC write to a process that just died
    // (EPIPE) comes here too; its exit is reported separately.
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
    this.disposeExitHook = onProcessExit(() => this.signal('SIGKILL'));
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.disposeExitHook();
        // Whatever the renderer started and left behind goes with it.
        this.signal('SIGKILL');
        resolve(this.exit);
      });
    });
    this.proc.on('message', (m: unknown) => {
      if (!isFromRunner(m)) return;
      for (const l of this.listeners) l(m);
    });
    this.warm = new Promise((resolve, reject) => {
      const off = this.on((m) => {
        if (m.type === 'warm') {
          off();
          this.isWarm = true;
          resolve();
        }
      });
      void this.exited.then((e) => {
        off();
        reject(
          new SpawnError(
            `the standby process exited before it was ready (${describeExit(e)})${this.stderrTail ? `:\n${this.stderrTail}` : ''}`,
          ),
        );
      });
    });
    this.warm.catch(() => {});
  }

  on(listener: (m: FromRunner) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  send(m: ToRunner): void {
    if (this.proc.connected) this.proc.send(m);
  }

  get stderr(): string {
    return this.stderrTail;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** Sends `signal` to the renderer's process group (or the process alone where there are none). */
  signal(signal: 'SIGTERM' | 'SIGKILL'): void {
    try {
      if (GROUPS) process.kill(-this.pid, signal);
      else if (this.alive) this.proc.kill(signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }

  /** SIGTERM, then SIGKILL once `graceMs` has passed; resolves when the process is gone. */
  async stop(graceMs: number, reason: string): Promise<ChildExit> {
    // A process that already ended on its own was not stopped: its exit is what it did.
    if (this.exit) return this.exit;
    this.stopReason ??= reason;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }

  /** SIGKILL at once; resolves when the process is gone. */
  async kill(reason: string): Promise<ChildExit> {
    if (this.exit) return this.exit;
    this.stopReason ??= reason;
    this.signal('SIGKILL');
    return this.exited;
  }
}

export function describeExit(e: ChildExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}
