/**
 * Fakes for the host's unit tests: a clock that only moves when told, and a renderer transport
 * whose messages and exit the test sends by hand. Not part of the library's build (it is only
 * imported by *.test.ts files).
 */
import type { Clock, RendererExit, RendererTransport } from './lifecycle.js';
import type { ToRenderer } from './protocol.js';

export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = end;
  }
}

let nextPid = 1000;

export class FakeTransport implements RendererTransport {
  readonly pid = nextPid++;
  readonly sent: ToRenderer[] = [];
  readonly signals: Array<'terminate' | 'kill'> = [];
  stderr = '';
  #message: Array<(m: unknown) => void> = [];
  #exit: Array<(e: RendererExit) => void> = [];
  #exited = false;
  /** What terminate() does: by default the renderer exits at once with SIGTERM. */
  onTerminate: () => void = () => this.exit({ code: null, signal: 'SIGTERM' });

  send(message: ToRenderer): void {
    if (!this.#exited) this.sent.push(message);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.#message.push(listener);
  }

  onExit(listener: (exit: RendererExit) => void): void {
    this.#exit.push(listener);
  }

  terminate(): void {
    this.signals.push('terminate');
    this.onTerminate();
  }

  kill(): void {
    this.signals.push('kill');
    this.exit({ code: null, signal: 'SIGKILL' });
  }

  /** The renderer says `message`. */
  say(message: unknown): void {
    for (const l of this.#message) l(message);
  }

  exit(e: RendererExit): void {
    if (this.#exited) return;
    this.#exited = true;
    for (const l of this.#exit.splice(0)) l(e);
  }

  get exited(): boolean {
    return this.#exited;
  }

  get running(): boolean {
    return !this.#exited;
  }

  /** The last message of `type` the host sent. */
  last<T extends ToRenderer['type']>(type: T): Extract<ToRenderer, { type: T }> | undefined {
    return this.sent.filter((m) => m.type === type).at(-1) as
      | Extract<ToRenderer, { type: T }>
      | undefined;
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
