/**
 * The frame loop of `openWindow`, driven on a clock the test moves (vitest's fake timers) with the
 * headless back end playing the user: what it uploads (only new frames), what reaches the input
 * and title channels, what the host's events do to the title and border, resizes (debounced,
 * through `state.resize`), a lost device, and failures of every step, which are reported once and
 * never end the loop.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  BuildError,
  InvalidArgumentError,
  RendererCrashError,
  RendererStartError,
} from '../errors.js';
import type { FrontFrame } from '../frames/index.js';
import { FrameStage, WindowFrameError } from './errors.js';
import { HeadlessBackend } from './headless.js';
import { type InputEvent, InputKind, Key, MouseButton } from './input.js';
import { IDLE_AFTER_MS, STALLED_MS } from './pacer.js';
import type { Backend, Frame } from './types.js';
import { openWindow, type Window, type WindowOptions } from './window.js';

const PERIOD = 1000 / 60;

/** A framebuffer in plain memory: the headless back end never dereferences the address. */
class Frames {
  width: number;
  height: number;
  address: bigint;
  pixels: Uint32Array;
  frame = 0;
  held = 0;
  constructor(width: number, height: number, address = 0x1000n) {
    this.width = width;
    this.height = height;
    this.address = address;
    this.pixels = new Uint32Array(width * height);
  }
  present(colour: number): void {
    this.pixels.fill(colour);
    this.frame++;
  }
  acquireFront(): FrontFrame | null {
    if (this.frame === 0) return null;
    this.held++;
    return {
      pixels: this.pixels,
      address: this.address,
      byteLength: this.pixels.byteLength,
      pitch: this.width * 4,
      frame: this.frame,
      epoch: 1,
    };
  }
  releaseFront(): void {
    this.held--;
  }
}

class Sink {
  readonly sent: InputEvent[] = [];
  room = Number.POSITIVE_INFINITY;
  trySend(event: InputEvent): boolean {
    if (this.sent.length >= this.room) return false;
    this.sent.push({ ...event });
    return true;
  }
}

class Titles {
  readonly queue: string[] = [];
  drain(): string[] {
    return this.queue.splice(0);
  }
}

function makeState(
  options: { resize?: (args: { width: number; height: number }) => Promise<void> } = {},
) {
  const host = new EventEmitter();
  const state = {
    args: { width: 8, height: 4 },
    framebuffer: new Frames(8, 4),
    input: new Sink(),
    titles: new Titles(),
    host,
    resizes: [] as { width: number; height: number }[],
    async resize(args: { width: number; height: number }): Promise<void> {
      state.resizes.push(args);
      await options.resize?.(args);
      state.framebuffer = new Frames(args.width, args.height, 0x2000n);
      state.args = args;
    },
  };
  return state;
}

function event(kind: number, extra: Partial<InputEvent> = {}): InputEvent {
  return { kind, button: 0, buttons: 0, modifiers: 0, x: 0, y: 0, key: 0, dx: 0, dy: 0, ...extra };
}

const windows: Window[] = [];
async function open<S extends object>(state: S, options?: WindowOptions<S>): Promise<Window> {
  const w = await openWindow(state, options);
  windows.push(w);
  return w;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(async () => {
  for (const w of windows.splice(0)) await w.close();
  vi.useRealTimers();
});

describe('openWindow: frames', () => {
  it('uploads a frame once, however many ticks show it, and a new frame when one is presented', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    const w = await open(state, { backend });
    expect(backend.uploads).toBe(0);
    state.framebuffer.present(0xffffb300);
    vi.advanceTimersByTime(PERIOD * 10);
    expect(w.stats().frames).toBeGreaterThanOrEqual(10);
    expect(backend.uploads).toBe(1);
    expect(backend.presents).toBe(1);
    const shown = backend.lastFrame()!;
    expect(shown).toMatchObject({ width: 8, height: 4, pitch: 32, address: 0x1000n });
    expect(shown.pixels).toBe(state.framebuffer.pixels);
    state.framebuffer.present(0xff00ff00);
    vi.advanceTimersByTime(PERIOD * 2);
    expect(backend.uploads).toBe(2);
    expect(w.stats().uploads).toBe(2);
    // Every front taken was given back.
    expect(state.framebuffer.held).toBe(0);
  });

  it("hands the back end each frame in its framebuffer's pixel format", async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    await open(state, { backend });
    state.framebuffer.present(1);
    vi.advanceTimersByTime(PERIOD * 2);
    // A source that says nothing is argb8888, as every framebuffer was before formats.
    expect(backend.lastFrame()?.format).toBe('argb8888');
    state.framebuffer = Object.assign(new Frames(8, 4, 0x3000n), { format: 'abgr8888' as const });
    state.framebuffer.present(2);
    vi.advanceTimersByTime(PERIOD * 2);
    expect(backend.lastFrame()).toMatchObject({ address: 0x3000n, format: 'abgr8888' });
  });

  it('uploads the same frame again after a lost device', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    await open(state, { backend });
    state.framebuffer.present(1);
    vi.advanceTimersByTime(PERIOD * 3);
    expect(backend.uploads).toBe(1);
    backend.lose();
    vi.advanceTimersByTime(PERIOD * 3);
    expect(backend.uploads).toBe(2);
  });

  it('slows down while nothing happens, and takes a new frame at the full rate again', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    const w = await open(state, { backend });
    vi.advanceTimersByTime(IDLE_AFTER_MS + 100);
    expect(w.stats().idle).toBe(true);
    const ticks = w.stats().frames;
    vi.advanceTimersByTime(1000);
    // 30 Hz while idle, not 60.
    expect(w.stats().frames - ticks).toBeLessThanOrEqual(31);
    state.framebuffer.present(2);
    vi.advanceTimersByTime(100);
    expect(backend.uploads).toBe(1);
    expect(w.stats().idle).toBe(false);
  });

  it('rejects a state without the framebuffer or channels it is told to use', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't' });
    await expect(openWindow({}, { backend })).rejects.toThrowError(
      new InvalidArgumentError(
        'openWindow: expected state.framebuffer to be a framebuffer, got undefined',
      ),
    );
    await expect(openWindow(state, { backend, input: 'titles' as 'input' })).rejects.toThrowError(
      /options\.input: expected the name of a channel of InputEvent/,
    );
    await expect(openWindow(state, { backend, titles: 'input' as 'titles' })).rejects.toThrowError(
      /options\.titles: expected the name of a channel of strings/,
    );
    const { resize: _, ...noResize } = state;
    await expect(openWindow(noResize, { backend, resize: true })).rejects.toThrowError(
      /options\.resize: expected a state with resize\(args\)/,
    );
  });
});

describe('openWindow: input and titles', () => {
  it('forwards input to the channel it names, never Escape, and lets onInput keep events back', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't' });
    const seen: number[] = [];
    await open(state, {
      backend,
      input: 'input',
      onInput: (e) => {
        seen.push(e.kind);
        return e.kind !== InputKind.Wheel;
      },
    });
    backend.input(event(InputKind.MouseDown, { button: MouseButton.Left, buttons: 1, x: 3, y: 2 }));
    backend.input(event(InputKind.KeyDown, { key: Key.Escape }));
    backend.input(event(InputKind.Wheel, { dy: 1 }));
    backend.input(event(InputKind.MouseUp, { button: MouseButton.Left, x: 3.7, y: 2, dx: 1e6 }));
    vi.advanceTimersByTime(PERIOD);
    expect(state.input.sent.map((e) => e.kind)).toEqual([InputKind.MouseDown, InputKind.MouseUp]);
    // Coordinates are integers, wheel steps fit the i16 of the schema.
    expect(state.input.sent[1]).toMatchObject({ x: 3, dx: 32767 });
    expect(seen).toEqual([InputKind.MouseDown, InputKind.Wheel, InputKind.MouseUp]);
  });

  it('says once that the input queue is full, and counts what it dropped', async () => {
    const state = makeState();
    state.input.room = 1;
    const backend = new HeadlessBackend({ title: 't' });
    const lines: string[] = [];
    const w = await open(state, { backend, input: 'input', log: (l) => lines.push(l) });
    for (let i = 0; i < 4; i++) backend.input(event(InputKind.MouseUp, { button: 1 }));
    vi.advanceTimersByTime(PERIOD);
    expect(w.stats().droppedInput).toBe(3);
    expect(lines).toEqual([
      'hotshm: input queue full (renderer not reading?): dropped a MouseUp event; further drops are counted in stats()',
    ]);
  });

  it('titles the window from the channel it names, and from setTitle', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 'first' });
    const w = await open(state, { backend, title: 'Demo', titles: 'titles' });
    expect(backend.title).toBe('Demo');
    state.titles.queue.push('Render 1', 'Render 2');
    vi.advanceTimersByTime(PERIOD);
    expect(backend.title).toBe('Render 2');
    w.setTitle('by hand');
    expect(backend.title).toBe('by hand');
  });
});

describe('openWindow: what the host says', () => {
  const crash = (phase: 'start' | 'running', extra: object = {}) => ({
    pid: 1,
    epoch: 2,
    code: 1,
    signal: null,
    phase,
    error: new RendererCrashError('m', 1, null),
    message: 'm',
    stderr: '',
    willRestart: true,
    restartInMs: 100,
    ...extra,
  });

  it('shows a build error in the title and a red border, and clears both when a build succeeds', async () => {
    const state = makeState();
    state.framebuffer.present(1);
    const backend = new HeadlessBackend({ title: 't' });
    await open(state, { backend, title: 'Demo' });
    vi.advanceTimersByTime(PERIOD);
    expect(backend.lastOverlay()).toEqual({});
    state.host.emit('build-error', {
      error: new BuildError('broken', []),
      messages: [],
      locations: ['src/index.ts:3:9'],
      buildMs: 1,
    });
    expect(backend.title).toBe('Demo - build error at src/index.ts:3:9');
    vi.advanceTimersByTime(PERIOD);
    expect(backend.lastOverlay()).toEqual({ border: 0xffe01b24 });
    state.host.emit('build-done', { buildMs: 1, unchanged: true });
    expect(backend.title).toBe('Demo');
    vi.advanceTimersByTime(PERIOD);
    expect(backend.lastOverlay()).toEqual({});
  });

  it('says a renderer crashed, then restarted, until a reload brings new code', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't' });
    await open(state, { backend, title: 'Demo' });
    state.host.emit('crash', crash('running'));
    expect(backend.title).toBe('Demo - renderer crashed (exit 1)');
    state.host.emit('reload', { reason: 'restart' });
    expect(backend.title).toBe('Demo - renderer crashed (exit 1), restarted');
    state.host.emit('reload', { reason: 'restart' });
    expect(backend.title).toBe('Demo - renderer crashed (exit 1), restarted');
    state.host.emit('reload', { reason: 'change' });
    expect(backend.title).toBe('Demo');
    state.host.emit('crash', crash('start', { error: new RendererStartError('main', 'threw') }));
    expect(backend.title).toBe('Demo - renderer failed to start (threw in main())');
    state.host.emit('repair', { repairs: [{ part: 'fromRenderer', message: '' }] });
    expect(backend.title).toBe('Demo - repaired a damaged region (fromRenderer)');
  });

  it('stops listening to the host once closed', async () => {
    const state = makeState();
    const w = await open(state, { backend: new HeadlessBackend({ title: 't' }) });
    expect(state.host.listenerCount('crash')).toBe(1);
    await w.close();
    expect(state.host.eventNames()).toEqual([]);
  });
});

describe('openWindow: resize', () => {
  it('resizes the state to the drawable’s pixels once the user stopped resizing, through the mapping', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    const w = await open(state, {
      backend,
      resize: ({ width, height }) => ({ width, height: height + 1 }),
      resizeDebounceMs: 100,
    });
    backend.resize(10, 5);
    vi.advanceTimersByTime(50);
    backend.resize(20, 10, 2);
    vi.advanceTimersByTime(50);
    expect(state.resizes).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(state.resizes).toEqual([{ width: 40, height: 21 }]);
    expect(w.stats().resizes).toBe(1);
    // The new framebuffer is what the window shows from now on.
    state.framebuffer.present(3);
    vi.advanceTimersByTime(PERIOD);
    expect(backend.lastFrame()).toMatchObject({ width: 40, height: 21, address: 0x2000n });
  });

  it('with resize: true, keeps the other arguments and sets width and height; a high-DPI drawable resizes at once', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    backend.resize(8, 4, 2);
    backend.poll();
    await open(state, { backend, resize: true });
    await vi.advanceTimersByTimeAsync(PERIOD);
    expect(state.resizes).toEqual([{ width: 16, height: 8 }]);
  });

  it('does not resize to the size the framebuffer already has', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    await open(state, { backend, resize: true, resizeDebounceMs: 10 });
    // The drawable is 8×4 at open, as the framebuffer: nothing to do.
    await vi.advanceTimersByTimeAsync(50);
    backend.resize(9, 4);
    await vi.advanceTimersByTimeAsync(50);
    // A resize that ends where it began (9×4 again, which the framebuffer now is).
    backend.resize(12, 4);
    backend.resize(9, 4);
    await vi.advanceTimersByTimeAsync(50);
    expect(state.resizes).toEqual([{ width: 9, height: 4 }]);
  });

  it('reports a resize that fails, and goes on showing the old framebuffer', async () => {
    const state = makeState({
      resize: async () => {
        throw new Error('no room in /dev/shm');
      },
    });
    state.framebuffer.present(1);
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4 });
    const errors: WindowFrameError[] = [];
    const w = await open(state, {
      backend,
      resize: true,
      resizeDebounceMs: 10,
      onError: (e) => errors.push(e),
    });
    backend.resize(30, 30);
    await vi.advanceTimersByTimeAsync(50);
    expect(errors.map((e) => [e.stage, e.message])).toEqual([
      ['resize', 'window resize: no room in /dev/shm'],
    ]);
    expect(w.stats().resizes).toBe(0);
    expect(backend.lastFrame()).toMatchObject({ width: 8, height: 4 });
  });
});

/** A back end whose steps throw while `failing` names them. */
class FaultyBackend extends HeadlessBackend {
  failing = new Set<'poll' | 'upload' | 'flip' | 'setTitle'>();
  override poll() {
    if (this.failing.has('poll')) throw new Error('poll failed');
    return super.poll();
  }
  override upload(frame: Frame | null, overlay?: { border?: number }) {
    if (this.failing.has('upload') && frame !== null) {
      throw new WindowFrameError(FrameStage.Upload, 'SDL_UpdateTexture failed: device lost');
    }
    super.upload(frame, overlay);
  }
  override flip() {
    if (this.failing.has('flip')) throw new Error('present failed');
    return super.flip();
  }
  override setTitle(title: string) {
    if (this.failing.has('setTitle')) throw new Error('title failed');
    super.setTitle(title);
  }
}

describe('openWindow: a frame step that fails', () => {
  const setup = async (options: WindowOptions<ReturnType<typeof makeState>> = {}) => {
    const state = makeState();
    const backend = new FaultyBackend({ title: 't', width: 8, height: 4 });
    const errors: WindowFrameError[] = [];
    const w = await open(state, { backend, onError: (e) => errors.push(e), ...options });
    let closed = false;
    void w.closed.then(() => {
      closed = true;
    });
    return { state, backend, errors, w, isClosed: () => closed };
  };

  it('an upload that throws is reported once, tried again each tick, and the loop goes on', async () => {
    const { state, backend, errors, w, isClosed } = await setup();
    backend.failing.add('upload');
    state.framebuffer.present(1);
    vi.advanceTimersByTime(PERIOD * 10);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'HOTSHM_WINDOW_FRAME',
      stage: 'upload',
      message: 'window upload: SDL_UpdateTexture failed: device lost',
    });
    expect(w.stats().failures).toBeGreaterThanOrEqual(10);
    backend.failing.delete('upload');
    vi.advanceTimersByTime(PERIOD);
    expect(backend.lastFrame()?.address).toBe(0x1000n);
    expect(state.framebuffer.held).toBe(0);
    await Promise.resolve();
    expect(isClosed()).toBe(false);
  });

  it('a present, a poll, a title, an input handler and a title formatter that throw: each reported once, the window stays', async () => {
    const { state, backend, errors, w, isClosed } = await setup({
      input: 'input',
      titles: 'titles',
      onInput: () => {
        throw new Error('handler threw');
      },
      formatTitle: (t) => {
        if (t === 'boom') throw new Error('formatter threw');
        return t;
      },
    });
    state.framebuffer.present(1);
    backend.failing.add('flip');
    vi.advanceTimersByTime(PERIOD * 3);
    backend.failing.delete('flip');
    backend.input(event(InputKind.MouseUp, { button: 1 }));
    vi.advanceTimersByTime(PERIOD * 3);
    // The handler threw, the event still went to the channel.
    expect(state.input.sent).toHaveLength(1);
    state.titles.queue.push('boom');
    vi.advanceTimersByTime(PERIOD * 3);
    expect(backend.title).toBe('boom');
    backend.failing.add('setTitle');
    w.setTitle('x');
    w.setTitle('y');
    backend.failing.delete('setTitle');
    backend.failing.add('poll');
    vi.advanceTimersByTime(PERIOD * 3);
    backend.failing.delete('poll');
    const before = w.stats().frames;
    vi.advanceTimersByTime(PERIOD * 3);
    expect(w.stats().frames).toBeGreaterThan(before);
    expect(errors.map((e) => e.stage)).toEqual([
      'present',
      'input-handler',
      'title',
      'title',
      'poll',
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'window present: present failed',
      'window input-handler: handler threw',
      'window title: formatter threw',
      'window title: title failed',
      'window poll: poll failed',
    ]);
    await Promise.resolve();
    expect(isClosed()).toBe(false);
  });

  it('a host event listener that throws is reported, and the host is not disturbed', async () => {
    const { state, errors } = await setup({
      formatTitle: () => {
        throw new Error('formatter threw');
      },
    });
    expect(() => state.host.emit('build-done', {})).not.toThrow();
    expect(() => state.host.emit('reload', null)).not.toThrow();
    expect(errors.map((e) => e.stage)).toEqual(['title', 'host-event']);
  });

  it('an onError that throws does not take the loop with it', async () => {
    const state = makeState();
    const backend = new FaultyBackend({ title: 't' });
    const w = await open(state, {
      backend,
      onError: () => {
        throw new Error('reporter threw');
      },
    });
    backend.failing.add('flip');
    state.framebuffer.present(1);
    vi.advanceTimersByTime(PERIOD * 3);
    expect(w.stats().failures).toBeGreaterThan(0);
    const before = w.stats().frames;
    vi.advanceTimersByTime(PERIOD * 3);
    expect(w.stats().frames).toBeGreaterThan(before);
  });

  it('a log function that throws does not take the loop with it', async () => {
    const state = makeState();
    state.input.room = 0;
    const backend = new HeadlessBackend({ title: 't' });
    const w = await open(state, {
      backend,
      input: 'input',
      log: () => {
        throw new Error('log threw');
      },
    });
    backend.input(event(InputKind.MouseUp, { button: 1 }));
    expect(() => vi.advanceTimersByTime(PERIOD * 3)).not.toThrow();
    expect(w.stats().droppedInput).toBe(1);
    const before = w.stats().frames;
    vi.advanceTimersByTime(PERIOD * 3);
    expect(w.stats().frames).toBeGreaterThan(before);
  });

  it('without onError, logs one line per kind of failure', async () => {
    const state = makeState();
    const backend = new FaultyBackend({ title: 't' });
    const lines: string[] = [];
    await open(state, { backend, log: (l) => lines.push(l) });
    backend.failing.add('flip');
    state.framebuffer.present(1);
    vi.advanceTimersByTime(PERIOD * 5);
    expect(lines).toEqual(['hotshm: window present: present failed (the window goes on)']);
  });
});

describe('openWindow: vsync', () => {
  /** A back end whose present waits for a blank that, while `hidden`, does not come. */
  class StallingBackend extends HeadlessBackend {
    override vsync: boolean = true;
    hidden = false;
    stopped = 0;
    override flip(): boolean {
      const shown = super.flip();
      // The clock moves while the present waits, as it would in SDL_RenderPresent.
      if (shown) vi.advanceTimersByTime(this.hidden ? STALLED_MS + 50 : 4);
      return shown;
    }
    stopVsync(): void {
      this.stopped++;
      this.vsync = false;
    }
  }

  it('paces by the blank, and turns vsync off once two presents in a row waited far longer than a frame', async () => {
    const state = makeState();
    const backend = new StallingBackend({ title: 't' });
    const lines: string[] = [];
    const w = await open(state, { backend, log: (l) => lines.push(l) });
    state.framebuffer.present(1);
    vi.advanceTimersByTime(PERIOD * 3);
    expect(w.stats().pacing).toBe('vsync');
    backend.hidden = true;
    state.framebuffer.present(2);
    vi.advanceTimersByTime(PERIOD * 3);
    expect(backend.stopped).toBe(0);
    state.framebuffer.present(3);
    vi.advanceTimersByTime(PERIOD * 3);
    expect(backend.stopped).toBe(1);
    state.framebuffer.present(4);
    vi.advanceTimersByTime(PERIOD * 3);
    expect(w.stats().pacing).toBe('timer');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^hotshm: a present waited \d+ ms for the display; vsync is off/);
  });
});

describe('openWindow: closing', () => {
  it('closes when the user does, with reason "user", and stops ticking', async () => {
    const state = makeState();
    const backend = new HeadlessBackend({ title: 't' });
    const w = await open(state, { backend });
    backend.quit();
    vi.advanceTimersByTime(PERIOD);
    await expect(w.closed).resolves.toBe('user');
    expect(backend.closed).toBe(true);
    const frames = w.stats().frames;
    vi.advanceTimersByTime(PERIOD * 5);
    expect(w.stats().frames).toBe(frames);
  });

  it('tells where the window was after it closed, to reopen it there', async () => {
    const backend = new HeadlessBackend({ title: 't', width: 8, height: 4, x: 70, y: 20 });
    const w = await open(makeState(), { backend });
    backend.resize(12, 6);
    await w.close();
    expect(w.geometry()).toEqual({
      x: 70,
      y: 20,
      width: 12,
      height: 6,
      pixelWidth: 12,
      pixelHeight: 6,
    });
  });

  it('closes when the app does, with reason "app"; a second close does nothing', async () => {
    const backend: Backend = new HeadlessBackend({ title: 't' });
    const w = await open(makeState(), { backend });
    await w.close();
    await w.close();
    await expect(w.closed).resolves.toBe('app');
  });
});
