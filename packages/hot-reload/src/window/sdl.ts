/**
 * The SDL2 back end: a window, a renderer and one streaming ARGB8888 texture, bound through koffi.
 * A frame's C address goes straight to SDL_UpdateTexture, so no pixel is copied in JavaScript;
 * events are decoded from one 56-byte SDL_Event buffer allocated when the window opens. The
 * frame path (poll, upload, flip) allocates nothing of its own.
 *
 * A lost device (SDL_RENDER_DEVICE_RESET) makes the renderer and the texture again and asks the
 * frame loop for the frame once more; a failed SDL call on the frame path throws a
 * WindowFrameError that the loop reports, never a plain Error.
 */
import type { LibraryHandle } from 'koffi';
import koffi from 'koffi';
import { InvalidArgumentError } from '../errors.js';
import type { PixelFormat } from '../frames/index.js';
import { BackendFailure, BackendUnavailableError, FrameStage, WindowFrameError } from './errors.js';
import { checkFrame } from './frame-check.js';
import { toFrame } from './geometry.js';
import type { InputEvent, InputKind as InputKindType } from './input.js';
import { InputKind, Key, Modifier } from './input.js';
import type {
  Backend,
  Frame,
  OpenBackendOptions,
  Overlay,
  PollResult,
  WindowGeometry,
} from './types.js';

// --- SDL2 constants (SDL.h, SDL_video.h, SDL_render.h, SDL_events.h, SDL_keycode.h) ---
/** Up to this many pixels (800×600), SDL's software renderer draws the window (see open()). */
const SOFTWARE_RENDERER_MAX_PIXELS = 800 * 600;
const SDL_INIT_VIDEO = 0x20;
const SDL_WINDOWPOS_CENTERED = 0x2fff_0000;
const SDL_WINDOW_SHOWN = 0x4;
const SDL_WINDOW_RESIZABLE = 0x20;
const SDL_WINDOW_ALLOW_HIGHDPI = 0x2000;
const SDL_RENDERER_SOFTWARE = 0x1;
const SDL_RENDERER_ACCELERATED = 0x2;
const SDL_RENDERER_PRESENTVSYNC = 0x4;
const SDL_PIXELFORMAT_ARGB8888 = 0x1636_2004;
/** Words 0xAABBGGRR: bytes R, G, B, A on little-endian (SDL_PIXELFORMAT_RGBA32 there). */
const SDL_PIXELFORMAT_ABGR8888 = 0x1676_2004;
const SDL_FORMATS: Readonly<Record<PixelFormat, number>> = {
  argb8888: SDL_PIXELFORMAT_ARGB8888,
  abgr8888: SDL_PIXELFORMAT_ABGR8888,
};
const SDL_TEXTUREACCESS_STREAMING = 1;
const SDL_SYSWM_X11 = 2;

const SDL_QUIT = 0x100;
const SDL_WINDOWEVENT = 0x200;
const SDL_KEYDOWN = 0x300;
const SDL_KEYUP = 0x301;
const SDL_MOUSEMOTION = 0x400;
const SDL_MOUSEBUTTONDOWN = 0x401;
const SDL_MOUSEBUTTONUP = 0x402;
const SDL_MOUSEWHEEL = 0x403;
/** The render targets' contents were lost: draw again. */
const SDL_RENDER_TARGETS_RESET = 0x2000;
/** The device was lost and made again: every texture must be made again. */
const SDL_RENDER_DEVICE_RESET = 0x2001;

const SDL_WINDOWEVENT_EXPOSED = 3;
const SDL_WINDOWEVENT_SIZE_CHANGED = 6;
const SDL_WINDOWEVENT_CLOSE = 14;
/** SDL 2.0.18+: the window moved to another display (its pixel density may have changed). */
const SDL_WINDOWEVENT_DISPLAY_CHANGED = 18;
const SDL_MOUSEWHEEL_FLIPPED = 1;

const KMOD_SHIFT = 0x0003;
const KMOD_CTRL = 0x00c0;
const KMOD_ALT = 0x0300;
const KMOD_GUI = 0x0c00;

/** sizeof(SDL_Event) in SDL2: a union padded to 56 bytes. */
const EVENT_SIZE = 56;
/** Byte offsets inside SDL_Event, per member struct (SDL_events.h; all start with type, timestamp). */
const Ev = {
  type: 0, // Uint32, every event
  windowEvent: 12, // SDL_WindowEvent.event: Uint8 after windowID at 8
  keySym: 20, // SDL_KeyboardEvent.keysym.sym: Sint32 (keysym at 16: scancode, sym, mod)
  keyMod: 24, // SDL_KeyboardEvent.keysym.mod: Uint16
  motionState: 16, // SDL_MouseMotionEvent.state: Uint32 button mask
  motionX: 20, // SDL_MouseMotionEvent.x: Sint32, window-relative
  motionY: 24,
  buttonButton: 16, // SDL_MouseButtonEvent.button: Uint8
  buttonX: 20, // SDL_MouseButtonEvent.x: Sint32, window-relative
  buttonY: 24,
  wheelX: 16, // SDL_MouseWheelEvent.x: Sint32
  wheelY: 20,
  wheelDirection: 24, // Uint32: SDL_MOUSEWHEEL_NORMAL / FLIPPED
} as const;

/** SDL_Rect: four Sint32. The overlay's four bars are drawn in one SDL_RenderFillRects call. */
const RECT_SIZE = 16;
const BORDER_BARS = 4;
/** Thickness of the overlay border, in output pixels. */
export const BORDER_WIDTH = 4;
/** SDL_SysWMinfo: SDL_version (3 bytes), subsystem at 4, the platform union at 8 (64 bytes). */
const WMINFO_SIZE = 128;
const WMINFO_SUBSYSTEM = 4;
const WMINFO_X11_WINDOW = 16; // union.x11 = { Display *display; Window window; }
/** SDL_RendererInfo: const char *name at 0, Uint32 flags at 8, … (88 bytes). */
const RENDERER_INFO_SIZE = 88;
const RENDERER_INFO_FLAGS = 8;
/** SDL_DisplayMode: Uint32 format, int w, int h, int refresh_rate at 12, void *driverdata. */
const DISPLAY_MODE_SIZE = 24;
const DISPLAY_MODE_REFRESH = 12;
/** Scratch bytes for the out-parameters: two ints, a renderer info or a display mode. */
const SCRATCH_SIZE = Math.max(8, RENDERER_INFO_SIZE, DISPLAY_MODE_SIZE);

/** Where the SDL2 library is looked for, in order; HOTSHM_SDL_LIBRARY replaces the list. */
export function sdlLibraryCandidates(
  platform: NodeJS.Platform = process.platform,
  override: string | undefined = process.env.HOTSHM_SDL_LIBRARY,
): string[] {
  if (override) return [override];
  switch (platform) {
    case 'darwin':
      return [
        'libSDL2-2.0.0.dylib',
        '/opt/homebrew/lib/libSDL2-2.0.0.dylib',
        '/usr/local/lib/libSDL2-2.0.0.dylib',
      ];
    case 'win32':
      return ['SDL2.dll'];
    default:
      return ['libSDL2-2.0.so.0', 'libSDL2.so'];
  }
}

type Ptr = bigint;

/** A function SDL may lack (added after 2.0.0): undefined when this SDL has none. */
function optional<F>(make: () => F): F | undefined {
  try {
    return make();
  } catch {
    return undefined;
  }
}

/** The SDL2 functions used, declared once per process (koffi keeps the library loaded). */
function bind(lib: LibraryHandle) {
  return {
    SDL_Init: lib.func('int SDL_Init(uint32_t flags)'),
    SDL_Quit: lib.func('void SDL_Quit()'),
    SDL_QuitSubSystem: lib.func('void SDL_QuitSubSystem(uint32_t flags)'),
    SDL_GetError: lib.func('const char *SDL_GetError()'),
    SDL_GetVersion: lib.func('void SDL_GetVersion(void *ver)'),
    SDL_GetCurrentVideoDriver: lib.func('const char *SDL_GetCurrentVideoDriver()'),
    SDL_CreateWindow: lib.func(
      'void *SDL_CreateWindow(const char *title, int x, int y, int w, int h, uint32_t flags)',
    ),
    SDL_DestroyWindow: lib.func('void SDL_DestroyWindow(void *window)'),
    SDL_GetWindowID: lib.func('uint32_t SDL_GetWindowID(void *window)'),
    SDL_GetWindowSize: lib.func('void SDL_GetWindowSize(void *window, void *w, void *h)'),
    SDL_GetWindowPosition: lib.func('void SDL_GetWindowPosition(void *window, void *x, void *y)'),
    SDL_GetWindowDisplayIndex: lib.func('int SDL_GetWindowDisplayIndex(void *window)'),
    SDL_GetCurrentDisplayMode: lib.func('int SDL_GetCurrentDisplayMode(int index, void *mode)'),
    SDL_GetWindowWMInfo: lib.func('int SDL_GetWindowWMInfo(void *window, void *info)'),
    SDL_SetWindowTitle: lib.func('void SDL_SetWindowTitle(void *window, const char *title)'),
    SDL_StopTextInput: lib.func('void SDL_StopTextInput()'),
    SDL_CreateRenderer: lib.func(
      'void *SDL_CreateRenderer(void *window, int index, uint32_t flags)',
    ),
    SDL_DestroyRenderer: lib.func('void SDL_DestroyRenderer(void *renderer)'),
    SDL_GetRendererInfo: lib.func('int SDL_GetRendererInfo(void *renderer, void *info)'),
    SDL_RenderSetVSync: optional(() =>
      lib.func('int SDL_RenderSetVSync(void *renderer, int vsync)'),
    ),
    SDL_GetRendererOutputSize: lib.func(
      'int SDL_GetRendererOutputSize(void *renderer, void *w, void *h)',
    ),
    SDL_CreateTexture: lib.func(
      'void *SDL_CreateTexture(void *renderer, uint32_t format, int access, int w, int h)',
    ),
    SDL_DestroyTexture: lib.func('void SDL_DestroyTexture(void *texture)'),
    SDL_UpdateTexture: lib.func(
      'int SDL_UpdateTexture(void *texture, const void *rect, const void *pixels, int pitch)',
    ),
    SDL_SetRenderDrawColor: lib.func(
      'int SDL_SetRenderDrawColor(void *renderer, uint8_t r, uint8_t g, uint8_t b, uint8_t a)',
    ),
    SDL_RenderClear: lib.func('int SDL_RenderClear(void *renderer)'),
    SDL_RenderCopy: lib.func(
      'int SDL_RenderCopy(void *renderer, void *texture, const void *src, const void *dst)',
    ),
    SDL_RenderFillRects: lib.func(
      'int SDL_RenderFillRects(void *renderer, const void *rects, int count)',
    ),
    SDL_RenderPresent: lib.func('void SDL_RenderPresent(void *renderer)'),
    SDL_PollEvent: lib.func('int SDL_PollEvent(void *event)'),
    SDL_GetModState: lib.func('int SDL_GetModState()'),
  };
}
type Sdl = ReturnType<typeof bind>;

let loaded: { sdl: Sdl; path: string } | undefined;

/** Loads SDL2 once per process; throws BackendUnavailableError(NoLibrary) listing what was tried. */
export function loadSdl(): { sdl: Sdl; path: string } {
  if (loaded) return loaded;
  const tried: string[] = [];
  for (const path of sdlLibraryCandidates()) {
    let lib: LibraryHandle;
    try {
      lib = koffi.load(path);
    } catch (error) {
      tried.push(`${path} (${firstLine(error)})`);
      continue;
    }
    loaded = { sdl: bind(lib), path };
    return loaded;
  }
  throw new BackendUnavailableError(
    'sdl',
    BackendFailure.NoLibrary,
    `SDL2 library not found: tried ${tried.join(', ')}`,
  );
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0] ?? '';
}

/**
 * Is there something to open a window on? On Linux and the BSDs SDL needs X11 or Wayland; asked
 * with neither, SDL 2.26 quietly picks its "offscreen" driver, which would show nothing.
 */
export function hasDisplay(env: NodeJS.ProcessEnv = process.env): boolean {
  if (process.platform === 'darwin' || process.platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.SDL_VIDEODRIVER);
}

export type SdlOpenOptions = Omit<OpenBackendOptions, 'prefer'>;

export class SdlBackend implements Backend {
  readonly name = 'sdl' as const;
  readonly windowId: number;
  readonly x11Window?: number;
  /** How many times a lost device made the renderer and texture again. */
  resets = 0;

  readonly #sdl: Sdl;
  readonly #software: boolean;
  #wantVsync: boolean;
  #window: Ptr;
  #renderer: Ptr = 0n;
  #rendererName = '';
  #vsync = false;
  #refreshHz: number | undefined;
  #texture: Ptr = 0n;
  #textureWidth = 0;
  #textureHeight = 0;
  #textureFormat: PixelFormat = 'argb8888';
  // Window size in SDL's mouse units and the renderer's output size in pixels (they differ on
  // high-DPI screens), refreshed on SIZE_CHANGED and DISPLAY_CHANGED.
  #windowWidth: number;
  #windowHeight: number;
  #outputWidth = 0;
  #outputHeight = 0;

  readonly #eventPtr: Ptr;
  readonly #event: DataView;
  readonly #rectsPtr: Ptr;
  readonly #rects: Int32Array;
  readonly #scratchPtr: Ptr;
  readonly #scratch: DataView;

  readonly #result: { events: InputEvent[]; quit: boolean; resized: boolean; redraw: boolean } = {
    events: [],
    quit: false,
    resized: false,
    redraw: false,
  };
  #mouseX = 0;
  #mouseY = 0;
  #buttons = 0;
  // Something must be drawn again: a new frame, a changed overlay, or the window was exposed.
  #dirty = true;
  #rendered = false;
  #border: number | undefined;
  #closed = false;

  constructor(options: SdlOpenOptions) {
    const { width, height, title } = options;
    if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
      throw new InvalidArgumentError(
        `SDL window size: expected positive integers, got ${width}×${height}`,
      );
    }
    if (!hasDisplay()) {
      throw new BackendUnavailableError(
        'sdl',
        BackendFailure.NoDisplay,
        'no display (DISPLAY and WAYLAND_DISPLAY are unset)',
      );
    }
    const { sdl } = loadSdl();
    this.#sdl = sdl;
    this.#software =
      process.env.SDL_RENDER_DRIVER === undefined && width * height <= SOFTWARE_RENDERER_MAX_PIXELS;
    this.#wantVsync = options.vsync ?? false;
    // Without this, SDL backs the software renderer's window surface with a GL texture.
    if (this.#software) process.env.SDL_FRAMEBUFFER_ACCELERATION ??= '0';
    if (sdl.SDL_Init(SDL_INIT_VIDEO) !== 0) {
      throw new BackendUnavailableError(
        'sdl',
        BackendFailure.Failed,
        `SDL_Init failed: ${sdl.SDL_GetError()}`,
      );
    }
    const driver = String(sdl.SDL_GetCurrentVideoDriver() ?? '');
    if ((driver === 'offscreen' || driver === 'dummy') && !process.env.SDL_VIDEODRIVER) {
      sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO);
      // SDL 2.26 falls back to this driver when X/Wayland cannot be reached instead of failing.
      const where = process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
      const why = where ? `cannot reach display ${where}` : 'no display';
      throw new BackendUnavailableError(
        'sdl',
        BackendFailure.NoDisplay,
        `${why} (SDL fell back to its "${driver}" video driver)`,
      );
    }
    const flags =
      SDL_WINDOW_SHOWN |
      (options.resizable ? SDL_WINDOW_RESIZABLE : 0) |
      (options.highDpi === false ? 0 : SDL_WINDOW_ALLOW_HIGHDPI);
    const window = sdl.SDL_CreateWindow(
      title,
      position(options.x),
      position(options.y),
      width,
      height,
      flags,
    ) as Ptr | null;
    if (!window) {
      const message = `SDL_CreateWindow failed: ${sdl.SDL_GetError()}`;
      sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO);
      throw new BackendUnavailableError('sdl', BackendFailure.Failed, message);
    }
    this.#window = window;
    this.#eventPtr = koffi.alloc('uint8_t', EVENT_SIZE) as Ptr;
    this.#event = new DataView(koffi.view(this.#eventPtr, EVENT_SIZE));
    this.#rectsPtr = koffi.alloc('uint8_t', RECT_SIZE * BORDER_BARS) as Ptr;
    this.#rects = new Int32Array(koffi.view(this.#rectsPtr, RECT_SIZE * BORDER_BARS));
    this.#scratchPtr = koffi.alloc('uint8_t', SCRATCH_SIZE) as Ptr;
    this.#scratch = new DataView(koffi.view(this.#scratchPtr, SCRATCH_SIZE));
    try {
      this.#createRenderer();
    } catch (error) {
      sdl.SDL_DestroyWindow(window);
      sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO);
      this.#free();
      throw new BackendUnavailableError('sdl', BackendFailure.Failed, (error as Error).message);
    }
    // Keys arrive as SDL_KEYDOWN; text input (on by default in SDL2) would only add IME events.
    sdl.SDL_StopTextInput();

    this.#windowWidth = width;
    this.#windowHeight = height;
    this.#refreshSizes();
    this.#refreshHz = this.#displayRefresh();
    this.windowId = sdl.SDL_GetWindowID(window) as number;
    const x11 = this.#x11Window();
    if (x11 !== undefined) this.x11Window = x11;
  }

  /** The SDL renderer in use ("opengl", "software", …), for notes and benchmarks. */
  get rendererName(): string {
    return this.#rendererName;
  }

  /** True when SDL_RenderPresent waits for the vertical blank (asked for, and SDL says it does). */
  get vsync(): boolean {
    return this.#vsync;
  }

  get refreshHz(): number | undefined {
    return this.#refreshHz;
  }

  stopVsync(): void {
    this.#wantVsync = false;
    this.#vsync = false;
    if (!this.#closed && this.#renderer !== 0n) this.#sdl.SDL_RenderSetVSync?.(this.#renderer, 0);
  }

  poll(): PollResult {
    const result = this.#result;
    const events = result.events;
    events.length = 0;
    result.resized = false;
    result.redraw = false;
    if (this.#closed) return result;
    const sdl = this.#sdl;
    const ev = this.#event;
    while (sdl.SDL_PollEvent(this.#eventPtr) === 1) {
      const type = ev.getUint32(Ev.type, true);
      switch (type) {
        case SDL_QUIT:
          result.quit = true;
          break;
        case SDL_WINDOWEVENT: {
          const what = ev.getUint8(Ev.windowEvent);
          if (what === SDL_WINDOWEVENT_CLOSE) result.quit = true;
          else if (what === SDL_WINDOWEVENT_EXPOSED) this.#dirty = true;
          else if (
            what === SDL_WINDOWEVENT_SIZE_CHANGED ||
            what === SDL_WINDOWEVENT_DISPLAY_CHANGED
          ) {
            if (this.#refreshSizes()) result.resized = true;
            if (what === SDL_WINDOWEVENT_DISPLAY_CHANGED) this.#refreshHz = this.#displayRefresh();
            this.#dirty = true;
          }
          break;
        }
        case SDL_RENDER_TARGETS_RESET:
          // Only render targets lost their contents; the streaming texture kept its pixels, but
          // what the window showed is gone: draw it again.
          this.#dirty = true;
          result.redraw = true;
          break;
        case SDL_RENDER_DEVICE_RESET:
          this.#lose();
          result.redraw = true;
          break;
        case SDL_KEYDOWN:
        case SDL_KEYUP: {
          const key = ev.getInt32(Ev.keySym, true);
          const down = type === SDL_KEYDOWN;
          if (down && key === Key.Escape) result.quit = true;
          events.push(
            this.#make(
              down ? InputKind.KeyDown : InputKind.KeyUp,
              0,
              key,
              modifiers(ev.getUint16(Ev.keyMod, true)),
            ),
          );
          break;
        }
        case SDL_MOUSEMOTION:
          this.#moveTo(ev.getInt32(Ev.motionX, true), ev.getInt32(Ev.motionY, true));
          this.#buttons = ev.getUint32(Ev.motionState, true);
          events.push(this.#make(InputKind.MouseMove, 0, 0, this.#mods()));
          break;
        case SDL_MOUSEBUTTONDOWN:
        case SDL_MOUSEBUTTONUP: {
          const button = ev.getUint8(Ev.buttonButton);
          const down = type === SDL_MOUSEBUTTONDOWN;
          this.#moveTo(ev.getInt32(Ev.buttonX, true), ev.getInt32(Ev.buttonY, true));
          const bit = 1 << (button - 1);
          this.#buttons = down ? this.#buttons | bit : this.#buttons & ~bit;
          events.push(
            this.#make(down ? InputKind.MouseDown : InputKind.MouseUp, button, 0, this.#mods()),
          );
          break;
        }
        case SDL_MOUSEWHEEL: {
          const sign = ev.getUint32(Ev.wheelDirection, true) === SDL_MOUSEWHEEL_FLIPPED ? -1 : 1;
          const event = this.#make(InputKind.Wheel, 0, 0, this.#mods());
          event.dx = sign * ev.getInt32(Ev.wheelX, true);
          event.dy = sign * ev.getInt32(Ev.wheelY, true);
          events.push(event);
          break;
        }
        default:
          break;
      }
    }
    return result;
  }

  present(frame: Frame | null, overlay?: Overlay): void {
    this.upload(frame, overlay);
    this.flip();
  }

  upload(frame: Frame | null, overlay?: Overlay): void {
    if (this.#closed) return;
    const sdl = this.#sdl;
    // A device lost without a renderer made again (that failed): try again now.
    if (this.#renderer === 0n) this.#remake();
    const renderer = this.#renderer;
    if (frame !== null) {
      checkFrame(frame);
      const format = frame.format ?? 'argb8888';
      if (
        frame.width !== this.#textureWidth ||
        frame.height !== this.#textureHeight ||
        format !== this.#textureFormat
      ) {
        // A texture in the frame's own format: SDL takes the words as they are.
        this.#createTexture(frame.width, frame.height, format);
      }
      // The frame's own memory goes to SDL: the only copy is SDL's, into the texture.
      if (sdl.SDL_UpdateTexture(this.#texture, null, frame.address, frame.pitch) !== 0) {
        throw new WindowFrameError(
          FrameStage.Upload,
          `SDL_UpdateTexture failed: ${sdl.SDL_GetError()}`,
        );
      }
      this.#dirty = true;
    }
    const border = overlay?.border;
    if (border !== this.#border) {
      this.#border = border;
      this.#dirty = true;
    }
    if (!this.#dirty) return;
    sdl.SDL_SetRenderDrawColor(renderer, 0, 0, 0, 255);
    sdl.SDL_RenderClear(renderer);
    if (this.#texture !== 0n && sdl.SDL_RenderCopy(renderer, this.#texture, null, null) !== 0) {
      throw new WindowFrameError(FrameStage.Upload, `SDL_RenderCopy failed: ${sdl.SDL_GetError()}`);
    }
    if (border !== undefined) {
      sdl.SDL_SetRenderDrawColor(
        renderer,
        (border >>> 16) & 0xff,
        (border >>> 8) & 0xff,
        border & 0xff,
        255,
      );
      sdl.SDL_RenderFillRects(renderer, this.#rectsPtr, BORDER_BARS);
    }
    this.#dirty = false;
    this.#rendered = true;
  }

  flip(): boolean {
    // Nothing new was drawn: the window still shows the last picture (an expose sets #dirty).
    if (this.#closed || !this.#rendered || this.#renderer === 0n) return false;
    this.#sdl.SDL_RenderPresent(this.#renderer);
    this.#rendered = false;
    return true;
  }

  setTitle(title: string): void {
    if (this.#closed) return;
    this.#sdl.SDL_SetWindowTitle(this.#window, title);
  }

  geometry(): WindowGeometry {
    let x = 0;
    let y = 0;
    if (!this.#closed) {
      this.#sdl.SDL_GetWindowPosition(this.#window, this.#scratchPtr, this.#scratchPtr + 4n);
      x = this.#scratch.getInt32(0, true);
      y = this.#scratch.getInt32(4, true);
    }
    return {
      x,
      y,
      width: this.#windowWidth,
      height: this.#windowHeight,
      pixelWidth: this.#outputWidth || this.#windowWidth,
      pixelHeight: this.#outputHeight || this.#windowHeight,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const sdl = this.#sdl;
    if (this.#texture !== 0n) sdl.SDL_DestroyTexture(this.#texture);
    if (this.#renderer !== 0n) sdl.SDL_DestroyRenderer(this.#renderer);
    sdl.SDL_DestroyWindow(this.#window);
    sdl.SDL_Quit();
    this.#texture = 0n;
    this.#renderer = 0n;
    this.#window = 0n;
    // The views over these buffers are only read in poll/upload/geometry, which check #closed.
    this.#free();
  }

  #free(): void {
    koffi.free(this.#eventPtr);
    koffi.free(this.#rectsPtr);
    koffi.free(this.#scratchPtr);
  }

  /**
   * Makes the renderer: small windows use SDL's software renderer (blitting a few hundred
   * kilobytes costs less than a texture upload, and it keeps a GL driver out of the owner: under
   * Xvfb that is Mesa's llvmpipe, 60 MB of resident LLVM); large ones the accelerated renderer.
   * Vsync, when asked for, is set after creation and read back: SDL says whether it took.
   */
  #createRenderer(): void {
    const sdl = this.#sdl;
    const first = this.#software ? SDL_RENDERER_SOFTWARE : SDL_RENDERER_ACCELERATED;
    const second = this.#software ? SDL_RENDERER_ACCELERATED : SDL_RENDERER_SOFTWARE;
    let renderer = sdl.SDL_CreateRenderer(this.#window, -1, first) as Ptr | null;
    if (!renderer) renderer = sdl.SDL_CreateRenderer(this.#window, -1, second) as Ptr | null;
    if (!renderer) throw new Error(`SDL_CreateRenderer failed: ${sdl.SDL_GetError()}`);
    this.#renderer = renderer;
    if (this.#wantVsync) sdl.SDL_RenderSetVSync?.(renderer, 1);
    const info = this.#scratchPtr;
    if (sdl.SDL_GetRendererInfo(renderer, info) === 0) {
      this.#rendererName = String(koffi.decode(info, 'const char *') ?? '');
      const flags = this.#scratch.getUint32(RENDERER_INFO_FLAGS, true);
      this.#vsync = this.#wantVsync && (flags & SDL_RENDERER_PRESENTVSYNC) !== 0;
    }
  }

  /** A lost device: every texture is gone with it. Make the renderer again, then the texture. */
  #lose(): void {
    const sdl = this.#sdl;
    if (this.#texture !== 0n) sdl.SDL_DestroyTexture(this.#texture);
    if (this.#renderer !== 0n) sdl.SDL_DestroyRenderer(this.#renderer);
    this.#texture = 0n;
    this.#textureWidth = 0;
    this.#textureHeight = 0;
    this.#renderer = 0n;
    this.#dirty = true;
    this.#remake();
  }

  #remake(): void {
    try {
      this.#createRenderer();
    } catch (error) {
      throw new WindowFrameError(FrameStage.Reset, (error as Error).message, { cause: error });
    }
    this.resets++;
    this.#refreshSizes();
  }

  #make(kind: InputKindType, button: number, key: number, mods: number): InputEvent {
    return {
      kind,
      x: this.#mouseX,
      y: this.#mouseY,
      button,
      buttons: this.#buttons,
      key,
      modifiers: mods,
      dx: 0,
      dy: 0,
    };
  }

  #mods(): number {
    return modifiers(this.#sdl.SDL_GetModState() as number);
  }

  /** Window coordinates → framebuffer coordinates (the texture is stretched over the window). */
  #moveTo(x: number, y: number): void {
    this.#mouseX = toFrame(x, this.#windowWidth, this.#textureWidth || this.#outputWidth);
    this.#mouseY = toFrame(y, this.#windowHeight, this.#textureHeight || this.#outputHeight);
  }

  #createTexture(width: number, height: number, format: PixelFormat): void {
    const sdl = this.#sdl;
    if (this.#texture !== 0n) sdl.SDL_DestroyTexture(this.#texture);
    const texture = sdl.SDL_CreateTexture(
      this.#renderer,
      SDL_FORMATS[format],
      SDL_TEXTUREACCESS_STREAMING,
      width,
      height,
    ) as Ptr | null;
    if (!texture) {
      this.#texture = 0n;
      this.#textureWidth = 0;
      this.#textureHeight = 0;
      throw new WindowFrameError(
        FrameStage.Upload,
        `SDL_CreateTexture ${width}×${height} failed: ${sdl.SDL_GetError()}`,
      );
    }
    this.#texture = texture;
    this.#textureWidth = width;
    this.#textureHeight = height;
    this.#textureFormat = format;
  }

  /** Reads the window's and the drawable's sizes; true if either changed. */
  #refreshSizes(): boolean {
    const sdl = this.#sdl;
    const size = this.#scratch;
    const at = this.#scratchPtr;
    const before = [this.#windowWidth, this.#windowHeight, this.#outputWidth, this.#outputHeight];
    sdl.SDL_GetWindowSize(this.#window, at, at + 4n);
    this.#windowWidth = size.getInt32(0, true) || this.#windowWidth;
    this.#windowHeight = size.getInt32(4, true) || this.#windowHeight;
    if (this.#renderer !== 0n && sdl.SDL_GetRendererOutputSize(this.#renderer, at, at + 4n) === 0) {
      this.#outputWidth = size.getInt32(0, true);
      this.#outputHeight = size.getInt32(4, true);
    }
    // The four border bars over the image's edge, in output pixels: top, bottom, left, right.
    const w = this.#outputWidth;
    const h = this.#outputHeight;
    const t = Math.min(BORDER_WIDTH, Math.floor(w / 2), Math.floor(h / 2));
    this.#rects.set([0, 0, w, t, 0, h - t, w, t, 0, t, t, h - 2 * t, w - t, t, t, h - 2 * t]);
    const after = [this.#windowWidth, this.#windowHeight, this.#outputWidth, this.#outputHeight];
    return after.some((v, i) => v !== before[i]);
  }

  #displayRefresh(): number | undefined {
    const sdl = this.#sdl;
    const index = sdl.SDL_GetWindowDisplayIndex(this.#window) as number;
    if (index < 0 || sdl.SDL_GetCurrentDisplayMode(index, this.#scratchPtr) !== 0) return undefined;
    const hz = this.#scratch.getInt32(DISPLAY_MODE_REFRESH, true);
    return hz > 0 ? hz : undefined;
  }

  #x11Window(): number | undefined {
    const sdl = this.#sdl;
    const info = koffi.alloc('uint8_t', WMINFO_SIZE) as Ptr;
    try {
      const bytes = new Uint8Array(koffi.view(info, WMINFO_SIZE));
      bytes.fill(0);
      // SDL_GetWindowWMInfo wants info->version filled with the SDL version the caller knows.
      sdl.SDL_GetVersion(info);
      if (sdl.SDL_GetWindowWMInfo(this.#window, info) !== 1) return undefined;
      const view = new DataView(bytes.buffer);
      if (view.getUint32(WMINFO_SUBSYSTEM, true) !== SDL_SYSWM_X11) return undefined;
      return Number(view.getBigUint64(WMINFO_X11_WINDOW, true));
    } finally {
      koffi.free(info);
    }
  }
}

/** A window coordinate as SDL_CreateWindow takes it: given, or centred. */
function position(v: number | undefined): number {
  if (v === undefined) return SDL_WINDOWPOS_CENTERED;
  if (!Number.isInteger(v)) {
    throw new InvalidArgumentError(`SDL window position: expected an integer, got ${v}`);
  }
  return v;
}

function modifiers(kmod: number): number {
  return (
    (kmod & KMOD_SHIFT ? Modifier.Shift : 0) |
    (kmod & KMOD_CTRL ? Modifier.Ctrl : 0) |
    (kmod & KMOD_ALT ? Modifier.Alt : 0) |
    (kmod & KMOD_GUI ? Modifier.Meta : 0)
  );
}

/** Opens an SDL window; throws BackendUnavailableError when SDL cannot be used here. */
export function openSdl(options: SdlOpenOptions): SdlBackend {
  return new SdlBackend(options);
}

/** The SDL event numbers a test may push (SDL_PushEvent) to play a lost device. */
export const SdlEventType = {
  RenderTargetsReset: SDL_RENDER_TARGETS_RESET,
  RenderDeviceReset: SDL_RENDER_DEVICE_RESET,
} as const;
