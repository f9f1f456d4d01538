/**
 * The owner's side of a restart, with the launcher played by a fake channel: what State.owner()
 * asks and adopts in a new owner, and what an old owner stops, keeps and unlinks, in which order.
 */
import { describe, expect, it } from 'vitest';
import type { Region } from '../../memory/index.js';
import type { HostEvents } from '../events.js';
import { type FromOwner, PROTOCOL, type ToOwner } from './protocol.js';
import { Session, type SessionChannel } from './session.js';

class FakeChannel implements SessionChannel {
  readonly sent: FromOwner[] = [];
  readonly holds: boolean[] = [];
  #message: (m: ToOwner) => void = () => {};
  #disconnect: () => void = () => {};
  send(m: FromOwner): void {
    this.sent.push(m);
  }
  onMessage(l: (m: ToOwner) => void): void {
    this.#message = l;
  }
  onDisconnect(l: () => void): void {
    this.#disconnect = l;
  }
  hold(on: boolean): void {
    this.holds.push(on);
  }
  deliver(m: Record<string, unknown> & { type: ToOwner['type'] }): void {
    this.#message({ hotshm: PROTOCOL, ...m } as ToOwner);
  }
  disconnect(): void {
    this.#disconnect();
  }
}

function fakeRegion(name: string) {
  const calls: string[] = [];
  return { region: { name, unlink: () => calls.push('unlink') } as unknown as Region, calls };
}

function fakeHost() {
  const listeners = new Map<string, ((e: unknown) => void)[]>();
  const calls: string[] = [];
  return {
    calls,
    host: {
      on<K extends keyof HostEvents & string>(event: K, l: (...a: HostEvents[K]) => void) {
        listeners.set(event, [...(listeners.get(event) ?? []), l as (e: unknown) => void]);
        return this as never;
      },
      close: async (reason?: string) => {
        calls.push(`close: ${reason}`);
      },
    },
    emit: (event: keyof HostEvents, e: unknown) => {
      for (const l of listeners.get(event) ?? []) l(e);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('the owner session', () => {
  it('in a new owner: asks for the state, adopts what it is given, says so, then reports inputs', async () => {
    const ch = new FakeChannel();
    const session = new Session('dev', ch);
    const { region } = fakeRegion('/hotshm-2-bbbbbbbb');
    const adopted: string[] = [];
    const h = fakeHost();
    const joining = session.join({
      state: 'demo',
      owned: {
        region,
        adopt: async (from: string) => {
          adopted.push(from);
          return { summary: 'kept 4 fields' };
        },
      },
      host: h.host,
    });
    expect(ch.sent).toEqual([{ hotshm: PROTOCOL, type: 'take', state: 'demo' }]);
    // The process is held alive while it waits: nothing else may run before the answer.
    expect(ch.holds).toEqual([true]);
    const window = { x: 5, y: 6, width: 300, height: 200 };
    ch.deliver({ type: 'give', state: 'demo', region: '/hotshm-1-aaaaaaaa', window });
    const link = await joining;
    expect(adopted).toEqual(['/hotshm-1-aaaaaaaa']);
    expect(ch.holds).toEqual([true, false]);
    expect(ch.sent[1]).toEqual({
      hotshm: PROTOCOL,
      type: 'adopted',
      state: 'demo',
      from: '/hotshm-1-aaaaaaaa',
      ok: true,
      summary: 'kept 4 fields',
    });
    expect(session.windowHandover('/hotshm-2-bbbbbbbb').restore).toEqual(window);
    expect(session.windowHandover('/hotshm-3-cccccccc').restore).toBeUndefined();
    h.emit('inputs', { files: ['/app/state.ts'], reloads: true });
    h.emit('layout-change', { message: 'the layout changed' });
    expect(ch.sent.slice(2)).toEqual([
      { hotshm: PROTOCOL, type: 'inputs', files: ['/app/state.ts'], reloads: true },
      { hotshm: PROTOCOL, type: 'restart', reason: 'the layout changed' },
    ]);
    // Nothing handed over: closing the state goes ahead at once.
    await link.released();
  });

  it('starts fresh, and says why, when the library cannot adopt or the adoption fails', async () => {
    const ch = new FakeChannel();
    const session = new Session('dev', ch);
    const a = session.join({
      state: 'a',
      owned: { region: fakeRegion('/hotshm-2-aaaaaaaa').region },
      host: fakeHost().host,
    });
    ch.deliver({ type: 'give', state: 'a', region: '/hotshm-1-aaaaaaaa', window: null });
    await a;
    expect(ch.sent[1]).toMatchObject({ type: 'adopted', ok: false });
    expect((ch.sent[1] as { summary: string }).summary).toMatch(/^not carried: this build/);
    const b = session.join({
      state: 'b',
      owned: {
        region: fakeRegion('/hotshm-2-bbbbbbbb').region,
        adopt: () => {
          throw new Error('region /hotshm-1-bbbbbbbb does not exist');
        },
      },
      host: fakeHost().host,
    });
    ch.deliver({ type: 'give', state: 'b', region: '/hotshm-1-bbbbbbbb', window: null });
    await b;
    expect(ch.sent[3]).toMatchObject({
      type: 'adopted',
      ok: false,
      summary: 'not carried: region /hotshm-1-bbbbbbbb does not exist',
    });
  });

  it('in an old owner: stops the renderer, notes the window, keeps the region until adopted and the window until the new one is up', async () => {
    const ch = new FakeChannel();
    const session = new Session('dev', ch);
    const { region, calls } = fakeRegion('/hotshm-1-aaaaaaaa');
    const h = fakeHost();
    const joining = session.join({ state: 'demo', owned: { region }, host: h.host });
    ch.deliver({ type: 'give', state: 'demo', region: null, window: null });
    const link = await joining;
    const windowCalls: string[] = [];
    session.windowHandover(region.name).register({
      geometry: () => ({ x: 1, y: 2, width: 3, height: 4 }),
      close: () => windowCalls.push('close'),
    });
    expect(ch.sent.at(-1)).toEqual({ hotshm: PROTOCOL, type: 'window', state: 'demo' });
    ch.deliver({ type: 'release' });
    await tick();
    expect(h.calls).toEqual(['close: handed over to a new owner']);
    // The window keeps showing the last frame: no blank screen while the new owner starts.
    expect(windowCalls).toEqual([]);
    expect(ch.sent.at(-1)).toEqual({
      hotshm: PROTOCOL,
      type: 'released',
      states: [
        {
          state: 'demo',
          region: '/hotshm-1-aaaaaaaa',
          window: { x: 1, y: 2, width: 3, height: 4 },
        },
      ],
    });
    // Held alive; the app's state.close() waits for the adoption.
    expect(ch.holds.at(-1)).toBe(true);
    let released = false;
    void link.released().then(() => {
      released = true;
    });
    await tick();
    expect(released).toBe(false);
    expect(calls).toEqual([]);
    ch.deliver({ type: 'adopted', region: '/hotshm-1-aaaaaaaa' });
    await tick();
    expect(released).toBe(true);
    expect(calls).toEqual(['unlink']);
    expect(ch.holds.at(-1)).toBe(false);
    expect(windowCalls).toEqual([]);
    ch.deliver({ type: 'close-windows' });
    await tick();
    expect(windowCalls).toEqual(['close']);
  });

  it('lets go of everything when the launcher is gone', async () => {
    const ch = new FakeChannel();
    const session = new Session('dev', ch);
    const { region } = fakeRegion('/hotshm-1-aaaaaaaa');
    const joining = session.join({ state: 'demo', owned: { region }, host: fakeHost().host });
    ch.disconnect();
    const link = await joining;
    await link.released();
    expect(ch.holds).toEqual([true, false]);
  });

  it('under `hotshm start` has hot reload off and no launcher to talk to', async () => {
    const session = new Session('start', undefined);
    expect(session.hot).toBe(false);
    expect(new Session('dev', undefined).hot).toBe(true);
    const link = await session.join({
      state: 'demo',
      owned: { region: fakeRegion('/hotshm-1-aaaaaaaa').region },
      host: fakeHost().host,
    });
    await link.released();
  });
});
