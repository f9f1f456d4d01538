/**
 * Child of window-open.test.ts: `openWindow` on a state of its own whose framebuffer lives in
 * koffi memory (so SDL reads it by address, as it reads a region), shown through the real SDL back
 * end wrapped so that commands can make its steps throw. Prints one JSON line per input event
 * that reaches the input channel, per reported failure, per `state.resize(args)` call, and when
 * the window closes. Options in argv[2] (JSON): `{ position?, resizable? }`.
 *
 * Commands on stdin, one per line, each answered with {"ack": <command>}:
 *   present <rrggbb>        fill the framebuffer with the colour and present it as a new frame
 *   title <text>            a message on the title channel
 *   host <event> <json>     the state's host emits the event with that payload
 *   fail <step> <count>     the back end's poll/upload/flip/setTitle throws the next count times
 *   reset                   push SDL_RENDER_DEVICE_RESET, as a lost device does
 *   stats                   print {"stats", "geometry", "resets", "uploads"}
 */
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import koffi from 'koffi';
import type { FrontFrame } from '../src/frames/index.js';
import type { Backend, Frame, Overlay } from '../src/window/index.js';
import { openBackend, openWindow } from '../src/window/index.js';
import { loadSdl, SdlBackend, SdlEventType } from '../src/window/sdl.js';

const say = (line: unknown): void => {
  process.stdout.write(
    `${JSON.stringify(line, (_, v) => (typeof v === 'bigint' ? String(v) : v))}\n`,
  );
};

const options = JSON.parse(process.argv[2] ?? '{}') as {
  position?: { x: number; y: number };
  resizable?: boolean;
};

/** A framebuffer in C memory: what the window shows, by address. */
class Frames {
  readonly address: bigint;
  readonly pixels: Uint32Array;
  frame = 0;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.address = koffi.alloc('uint32_t', width * height) as bigint;
    this.pixels = new Uint32Array(koffi.view(this.address, width * height * 4));
  }
  present(colour: number): void {
    this.pixels.fill(colour);
    this.frame++;
  }
  acquireFront(): FrontFrame | null {
    if (this.frame === 0) return null;
    const { pixels, address, width, frame } = this;
    return { pixels, address, byteLength: pixels.byteLength, pitch: width * 4, frame, epoch: 1 };
  }
  releaseFront(): void {}
}

const titleQueue: string[] = [];
let colour = 0xffffb300;
const state = {
  args: { width: 300, height: 300 },
  framebuffer: new Frames(300, 300),
  input: {
    trySend(event: unknown): boolean {
      say({ event });
      return true;
    },
  },
  titles: { drain: () => titleQueue.splice(0) },
  host: new EventEmitter(),
  async resize(args: { width: number; height: number }): Promise<void> {
    say({ resize: args });
    const next = new Frames(args.width, args.height);
    next.present(colour);
    state.framebuffer = next;
    state.args = args;
  },
};

type Step = 'poll' | 'upload' | 'flip' | 'setTitle';
const failing = new Map<Step, number>();
const failNow = (step: Step): void => {
  const left = failing.get(step) ?? 0;
  if (left <= 0) return;
  failing.set(step, left - 1);
  throw new Error(`injected ${step} failure`);
};

const { backend: real } = await openBackend({
  width: 300,
  height: 300,
  title: 'window-open',
  vsync: true,
  ...(options.resizable ? { resizable: true } : {}),
  ...(options.position ?? {}),
});
if (!(real instanceof SdlBackend)) throw new Error(`expected the SDL back end, got ${real.name}`);
let uploads = 0;
/** The real back end, with steps that throw on command. */
const backend: Backend = {
  name: real.name,
  get vsync() {
    return real.vsync;
  },
  get refreshHz() {
    return real.refreshHz;
  },
  windowId: real.windowId,
  ...(real.x11Window !== undefined ? { x11Window: real.x11Window } : {}),
  poll: () => {
    failNow('poll');
    return real.poll();
  },
  upload: (frame: Frame | null, overlay?: Overlay) => {
    if (frame !== null) failNow('upload');
    real.upload(frame, overlay);
    if (frame !== null) uploads++;
  },
  flip: () => {
    failNow('flip');
    return real.flip();
  },
  present: (frame, overlay) => real.present(frame, overlay),
  setTitle: (t: string) => {
    failNow('setTitle');
    real.setTitle(t);
  },
  geometry: () => real.geometry(),
  stopVsync: () => real.stopVsync(),
  close: () => real.close(),
};

const window = await openWindow(state, {
  backend,
  title: 'Window Test',
  input: 'input',
  titles: 'titles',
  ...(options.resizable ? { resize: true as const, resizeDebounceMs: 100 } : {}),
  onError: (e) => say({ error: { stage: e.stage, code: e.code, message: e.message } }),
});
void window.closed.then((reason) => {
  say({ closed: reason });
  process.exit(0);
});

// SDL_PushEvent on the SDL the back end loaded: a lost device as SDL itself reports one.
const pushEvent = koffi.load(loadSdl().path).func('int SDL_PushEvent(void *event)');

say({ ready: true, x11Window: real.x11Window ?? null, vsync: real.vsync });

createInterface({ input: process.stdin }).on('line', (line) => {
  const [command = '', ...rest] = line.split(' ');
  if (command === 'present') {
    colour = (0xff000000 | Number.parseInt(rest[0] ?? '0', 16)) >>> 0;
    state.framebuffer.present(colour);
  } else if (command === 'title') titleQueue.push(rest.join(' '));
  else if (command === 'host') state.host.emit(rest[0] ?? '', JSON.parse(rest.slice(1).join(' ')));
  else if (command === 'fail') failing.set(rest[0] as Step, Number(rest[1]));
  else if (command === 'reset') {
    const event = koffi.alloc('uint8_t', 56) as bigint;
    new Uint8Array(koffi.view(event, 56)).fill(0);
    new DataView(koffi.view(event, 56)).setUint32(0, SdlEventType.RenderDeviceReset, true);
    pushEvent(event);
    koffi.free(event);
  } else if (command === 'stats') {
    const { workMs: _, ...stats } = window.stats();
    say({ stats, geometry: window.geometry(), resets: real.resets, uploads });
  }
  say({ ack: line });
});
