/**
 * A typed event emitter whose declarations mention no Node.js type: the published `.d.ts` must
 * typecheck for a consumer whose TypeScript includes no `@types/node` (TypeScript 7 includes no
 * `@types/*` unless `types` names them). Node's EventEmitter does the work inside.
 */
import { EventEmitter } from 'node:events';

export type Listener<Args extends unknown[]> = (...args: Args) => void;

export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #inner = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.#inner.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.#inner.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): this {
    this.#inner.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Number of listeners of `event`. */
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.#inner.listenerCount(event);
  }

  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    this.#inner.emit(event, ...args);
  }
}
