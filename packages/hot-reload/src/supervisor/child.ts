/**
 * One renderer process (standby or live) as the supervisor sees it: its IPC, the tail of its
 * stderr for crash reports, a promise of its exit, and a stop that escalates from SIGTERM to
 * SIGKILL after a grace period.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { type FromRunner, isFromRunner, type ToRunner } from './protocol.js';

const STDERR_TAIL_BYTES = 8 * 1024;

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class RendererProcess {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly spawnedAt = performance.now();
  readonly exited: Promise<ChildExit>;
  readonly warm: Promise<void>;
  exit: ChildExit | undefined;
  /** Set when the supervisor asked it to stop: its exit is then not a crash. */
  stopping = false;
  epoch = 0;
  startedAt = 0;
  /** The bundle it runs (set at hand-off): a crash restarts the same code. */
  build: unknown;
  private stderrTail = '';
  private listeners = new Set<(m: FromRunner) => void>();

  constructor(runnerPath: string, env: NodeJS.ProcessEnv, stderr: NodeJS.WritableStream) {
    this.proc = spawn(process.execPath, ['--enable-source-maps', runnerPath], {
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env,
      serialization: 'json',
    });
    // Before anything can fail: a spawn that fails (EMFILE, EAGAIN) reports through 'error', and
    // an unheard 'error' would take the owner down. An IPC write to a process that just died
    // (EPIPE) comes here too; its exit is reported separately.
    let spawnError: Error | undefined;
    this.proc.on('error', (err) => {
      spawnError ??= err;
    });
    if (this.proc.pid === undefined) {
      throw new Error(`could not start a renderer process: ${spawnError?.message ?? 'no pid'}`, {
        cause: spawnError,
      });
    }
    this.pid = this.proc.pid;
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      stderr.write(chunk);
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
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
          resolve();
        }
      });
      void this.exited.then((e) => {
        off();
        reject(
          new Error(
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

  /** SIGTERM, then SIGKILL once `graceMs` has passed; resolves when the process is gone. */
  async stop(graceMs: number): Promise<ChildExit> {
    this.stopping = true;
    if (this.exit) return this.exit;
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const e = await this.exited;
    clearTimeout(timer);
    return e;
  }
}

export function describeExit(e: ChildExit): string {
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}
