/**
 * Drawing with Skia into a framebuffer. CanvasKit (Google's Skia in WebAssembly, the optional peer
 * dependency `canvaskit-wasm`) draws into a raster surface over memory from `CanvasKit.Malloc`, in
 * the framebuffer's own byte order: RGBA_8888 for an `abgr8888` framebuffer (bytes R, G, B, A),
 * BGRA_8888 for the default `argb8888` (bytes B, G, R, A on little-endian). `present()` copies
 * that memory into the framebuffer's back buffer with one `TypedArray.set` (a memcpy: no
 * per-pixel JavaScript, no conversion) and publishes it; the window uploads the frame in the
 * framebuffer's format.
 *
 * Declare the framebuffer `abgr8888` for Skia: RGBA is canvaskit-wasm's native order, and it
 * blends text, images and translucent paint into it 5 to 16 times faster than into BGRA, which
 * takes Skia's generic per-pixel pipeline (measured here: 43 px text, 0.34 against 4.6 ms per
 * line at 1920×1080). Converting RGBA to BGRA afterwards costs more than it saves (7 ms for a
 * 1080p frame in Skia's readPixels, 9 ms in a JavaScript loop).
 *
 * One copy is the least there can be: WebAssembly memory is its own ArrayBuffer and cannot be the
 * shared region. `@napi-rs/canvas` was measured too and not taken: its `data()` returns a new copy
 * of premultiplied RGBA on every call (23.9 ms per 1080p frame here), and it cannot draw into a
 * caller's buffer.
 *
 * CanvasKit takes 70–90 ms to compile and start in a fresh process. This module starts loading it
 * when it is imported, so a process that imports it ahead of the renderer (a standby that preloads
 * the renderer's packages) has Skia ready when `main()` runs, and the reload does not wait for it.
 * Standbys do not import it while warming up (`warm: false` in host/build/modules.ts): an app
 * that does not draw with Skia never loads it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type {
  Canvas,
  CanvasKit,
  CanvasKitInitOptions,
  MallocObj,
  Surface,
  Typeface,
} from 'canvaskit-wasm';
import { CanvasError } from '../errors.js';
import type { FrameBuffer } from '../frames/index.js';

/** What a canvas draws into: a framebuffer field (only the renderer's side of it is used). */
export type CanvasTarget = Pick<
  FrameBuffer,
  'width' | 'height' | 'stride' | 'format' | 'back' | 'present'
>;

export interface CanvasOptions {
  /**
   * A CanvasKit loaded by the app (another build, such as `canvaskit-wasm/full`, or its own
   * `locateFile`). Default: the one `loadCanvasKit()` loads, once per process.
   */
  readonly canvasKit?: CanvasKit;
}

/** A Skia canvas the size of a framebuffer, presented into it as frames. */
export interface FrameCanvas {
  /** The CanvasKit module: colours, paints, paths, fonts (`new canvasKit.Paint()`, …). */
  readonly canvasKit: CanvasKit;
  readonly surface: Surface;
  /** Draw here; what is drawn stays until drawn over (the surface is this canvas's own memory). */
  readonly canvas: Canvas;
  readonly width: number;
  readonly height: number;
  /**
   * Copies the drawing into the framebuffer's back buffer (one copy) and presents it. False (and
   * nothing shown) when the owner has begun another renderer's epoch: this renderer is replaced.
   */
  present(): boolean;
  /** The drawing as words in the framebuffer's format, row after row: a view into CanvasKit's memory, no copy. */
  pixels(): Uint32Array;
  /** Frees the surface and its memory; the canvas cannot be used after. */
  dispose(): void;
}

let loading: Promise<CanvasKit> | undefined;

/**
 * CanvasKit, loaded once per process (the default build of `canvaskit-wasm`). Rejects with a
 * `CanvasError` when canvaskit-wasm is not installed or does not start.
 *
 * @example
 * const canvasKit = await loadCanvasKit();
 * const paint = new canvasKit.Paint();
 */
export function loadCanvasKit(): Promise<CanvasKit> {
  loading ??= (async () => {
    let init: (options?: CanvasKitInitOptions) => Promise<CanvasKit>;
    try {
      // A CommonJS module: its `default` is the init function under Node, and under TypeScript's
      // `bundler` resolution; `nodenext` sees the whole module there, with the function in it.
      const mod = (await import('canvaskit-wasm')) as unknown as {
        default: typeof init | { default: typeof init };
      };
      init = typeof mod.default === 'function' ? mod.default : mod.default.default;
    } catch (e) {
      throw new CanvasError(
        `expected the package canvaskit-wasm (0.42) to be installed for @hotshm/hot-reload/canvas, got: ${(e as Error).message.split('\n')[0]}; install it with \`npm i canvaskit-wasm@0.42.0\``,
        { cause: e },
      );
    }
    try {
      return await init();
    } catch (e) {
      throw new CanvasError(`canvaskit-wasm did not start: ${(e as Error).message}`, { cause: e });
    }
  })();
  return loading;
}

// Started at import (see the top of this file). A failure is kept for the first caller, not
// reported here: a process that imports this module and never draws must not see it.
loadCanvasKit().catch(() => {});

class SkiaFrameCanvas implements FrameCanvas {
  readonly canvasKit: CanvasKit;
  readonly surface: Surface;
  readonly canvas: Canvas;
  readonly width: number;
  readonly height: number;
  readonly #target: CanvasTarget;
  readonly #memory: MallocObj;
  #disposed = false;

  constructor(canvasKit: CanvasKit, target: CanvasTarget) {
    const { width, height, stride } = target;
    for (const [what, v] of [
      ['width', width],
      ['height', height],
      ['stride', stride],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) {
        throw new CanvasError(`createCanvas: expected a framebuffer ${what} ≥ 1, got ${v}`);
      }
    }
    if (target.format !== 'argb8888' && target.format !== 'abgr8888') {
      throw new CanvasError(
        `createCanvas: expected a framebuffer format 'argb8888' or 'abgr8888', got ${String(target.format)}`,
      );
    }
    if (stride < width) {
      throw new CanvasError(
        `createCanvas: expected a stride of at least the width ${width}, got ${stride}`,
      );
    }
    this.canvasKit = canvasKit;
    this.#target = target;
    this.width = width;
    this.height = height;
    // Rows as the framebuffer lays them out, so the hand-over is one copy of the whole block.
    this.#memory = canvasKit.Malloc(Uint32Array, stride * height);
    const surface = canvasKit.MakeRasterDirectSurface(
      {
        width,
        height,
        colorType:
          target.format === 'abgr8888'
            ? canvasKit.ColorType.RGBA_8888
            : canvasKit.ColorType.BGRA_8888,
        alphaType: canvasKit.AlphaType.Premul,
        colorSpace: canvasKit.ColorSpace.SRGB,
      },
      this.#memory,
      stride * 4,
    );
    if (surface === null) {
      canvasKit.Free(this.#memory);
      throw new CanvasError(
        `createCanvas: CanvasKit made no ${width}×${height} raster surface (out of WebAssembly memory?)`,
      );
    }
    this.surface = surface;
    this.canvas = surface.getCanvas();
    // Malloc'd memory holds whatever was there: start from transparent black, as a fresh frame.
    this.canvas.clear(canvasKit.TRANSPARENT);
  }

  #open(what: string): void {
    if (this.#disposed) throw new CanvasError(`${what}: this canvas was disposed`);
  }

  // Arrow properties: usable detached (`const { present } = await createCanvas(…)`).
  readonly pixels = (): Uint32Array => {
    this.#open('pixels()');
    // toTypedArray() makes a new view when the WebAssembly memory has grown (the old one is then
    // detached, length 0): never keep the view across frames.
    return this.#memory.toTypedArray() as Uint32Array;
  };

  readonly present = (): boolean => {
    this.#open('present()');
    this.surface.flush();
    this.#target.back().set(this.#memory.toTypedArray() as Uint32Array);
    return this.#target.present();
  };

  readonly dispose = (): void => {
    if (this.#disposed) return;
    this.#disposed = true;
    this.surface.delete();
    this.canvasKit.Free(this.#memory);
  };
}

/**
 * A Skia canvas over a framebuffer field: draw with CanvasKit, then `present()`.
 *
 * @example
 * import { createCanvas } from '@hotshm/hot-reload/canvas';
 * const state = State.reloadable();
 * const { canvas, canvasKit, present } = await createCanvas(state.framebuffer);
 * const paint = new canvasKit.Paint();
 * canvas.clear(canvasKit.WHITE);
 * paint.setColor(canvasKit.Color(40, 90, 220));
 * canvas.drawCircle(100, 100, 40, paint);
 * present();
 */
export async function createCanvas(
  target: CanvasTarget,
  options: CanvasOptions = {},
): Promise<FrameCanvas> {
  const canvasKit = options.canvasKit ?? (await loadCanvasKit());
  return new SkiaFrameCanvas(canvasKit, target);
}

/**
 * A typeface from a font file (TrueType, OpenType, WOFF or WOFF2): a path, a `file:` URL (as
 * `import.meta.resolve('some-font-package/Font.ttf')` gives) or the file's bytes.
 *
 * @example
 * const face = loadTypeface(canvasKit, import.meta.resolve('@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf'));
 * const font = new canvasKit.Font(face, 24);
 */
export function loadTypeface(
  canvasKit: CanvasKit,
  source: string | URL | ArrayBuffer | Uint8Array,
): Typeface {
  let bytes: ArrayBuffer;
  let what: string;
  if (typeof source === 'string' || source instanceof URL) {
    const path =
      source instanceof URL || source.startsWith('file:') ? fileURLToPath(source) : source;
    what = path;
    let file: Uint8Array;
    try {
      file = readFileSync(path);
    } catch (e) {
      throw new CanvasError(
        `loadTypeface: expected a font file at ${path}, got ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
        { cause: e },
      );
    }
    bytes = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength) as ArrayBuffer;
  } else if (source instanceof ArrayBuffer) {
    bytes = source;
    what = 'the given bytes';
  } else if (source instanceof Uint8Array) {
    bytes = source.buffer.slice(
      source.byteOffset,
      source.byteOffset + source.byteLength,
    ) as ArrayBuffer;
    what = 'the given bytes';
  } else {
    throw new CanvasError(
      `loadTypeface: expected a path, a file URL or the bytes of a font, got ${typeof source}`,
    );
  }
  const face = canvasKit.Typeface.MakeTypefaceFromData(bytes);
  if (face === null) {
    throw new CanvasError(
      `loadTypeface: expected a TrueType, OpenType, WOFF or WOFF2 font in ${what}, got ${bytes.byteLength} bytes that FreeType cannot read`,
    );
  }
  return face;
}
