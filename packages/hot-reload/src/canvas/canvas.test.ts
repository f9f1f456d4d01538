/**
 * The canvas helper over a real framebuffer in a real shared region: what Skia draws is what the
 * owner's front buffer holds, word for word, in the framebuffer's ARGB8888.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createFields, openFields } from '../../test/channel-context.js';
import { CanvasError, HotshmError } from '../errors.js';
import { beginFrameEpoch } from '../frames/framebuffer.js';
import { framebuffer, type PixelFormat } from '../frames/index.js';
import { createCanvas, type FrameCanvas, loadCanvasKit, loadTypeface } from './index.js';

const FONT = createRequire(import.meta.url).resolve(
  '@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf',
);
/** Words of each format: argb8888 0xAARRGGBB, abgr8888 0xAABBGGRR. */
const WORDS = {
  argb8888: { red: 0xffff0000, blue: 0xff0000ff },
  abgr8888: { red: 0xff0000ff, blue: 0xffff0000 },
} as const;
const { red: RED, blue: BLUE } = WORDS.argb8888;
const WHITE = 0xffffffff;
const BLACK = 0xff000000;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function owned(width: number, height: number, format: PixelFormat = 'argb8888') {
  const owner = createFields([framebuffer(width, height, { format })] as const);
  cleanups.push(() => owner.ctx.region.unlink());
  return owner;
}

async function canvasOver(fb: Parameters<typeof createCanvas>[0]): Promise<FrameCanvas> {
  const canvas = await createCanvas(fb);
  cleanups.push(canvas.dispose);
  return canvas;
}

/** The owner's view of the frame on screen, copied out. */
function front(fb: ReturnType<typeof owned>['fields'][0]): { pixels: number[]; frame: number } {
  const f = fb.acquireFront();
  if (f === null) throw new Error('no frame presented');
  const out = { pixels: Array.from(f.pixels), frame: f.frame };
  fb.releaseFront();
  return out;
}

describe('createCanvas', () => {
  it.each(['argb8888', 'abgr8888'] as const)(
    'presents what Skia drew into the front buffer, in %s words',
    async (format) => {
      const { red, blue } = WORDS[format];
      const owner = owned(16, 8, format);
      const fb = owner.fields[0];
      const { canvas, canvasKit: ck, present, width, height } = await canvasOver(fb);
      expect([width, height]).toEqual([16, 8]);
      canvas.clear(ck.Color(255, 0, 0));
      const paint = new ck.Paint();
      paint.setColor(ck.Color(0, 0, 255));
      canvas.drawRect(ck.LTRBRect(4, 2, 8, 5), paint); // x 4..7, y 2..4
      paint.delete();
      expect(present()).toBe(true);
      const shown = front(fb);
      expect(shown.frame).toBe(1);
      const expected = Array.from({ length: 16 * 8 }, (_, i) => {
        const x = i % 16;
        const y = Math.floor(i / 16);
        return x >= 4 && x < 8 && y >= 2 && y < 5 ? blue : red;
      });
      expect(shown.pixels).toEqual(expected);
    },
  );

  it('keeps its drawing between frames; each present is a new frame of the framebuffer', async () => {
    const owner = owned(8, 4);
    const fb = owner.fields[0];
    const c = await canvasOver(fb);
    const ck = c.canvasKit;
    c.canvas.clear(ck.Color(0, 0, 0));
    expect(c.present()).toBe(true);
    // Drawn over the last frame, not over a cleared one: the surface is the canvas's own memory.
    const paint = new ck.Paint();
    paint.setColor(ck.Color(255, 255, 255));
    c.canvas.drawRect(ck.LTRBRect(0, 0, 1, 1), paint);
    paint.delete();
    expect(c.present()).toBe(true);
    const shown = front(fb);
    expect(shown.frame).toBe(2);
    expect(shown.pixels[0]).toBe(WHITE);
    expect(shown.pixels.slice(1)).toEqual(Array(31).fill(BLACK));
    expect(Array.from(c.pixels())).toEqual(shown.pixels);
  });

  it('starts from transparent black, whatever the memory held', async () => {
    const owner = owned(8, 8);
    const c = await canvasOver(owner.fields[0]);
    expect(Array.from(c.pixels())).toEqual(Array(64).fill(0));
  });

  it('still presents the right pixels after the WebAssembly memory has grown', async () => {
    const owner = owned(32, 16);
    const fb = owner.fields[0];
    const c = await canvasOver(fb);
    const ck = c.canvasKit;
    const before = c.pixels();
    c.canvas.clear(ck.Color(0, 0, 255));
    // Larger than the heap: CanvasKit grows its memory, which detaches every view into it.
    const heap = before.buffer.byteLength;
    const big = ck.Malloc(Uint8Array, heap);
    cleanups.push(() => ck.Free(big));
    expect(before.length).toBe(0);
    expect(c.present()).toBe(true);
    expect(front(fb).pixels).toEqual(Array(32 * 16).fill(BLUE));
  });

  it('is refused by the framebuffer once a newer renderer has begun its epoch', async () => {
    const owner = owned(4, 4);
    const renderer = openFields([framebuffer(4, 4)] as const, owner.ctx.regionName);
    cleanups.push(() => renderer.ctx.region.close());
    const c = await canvasOver(renderer.fields[0]);
    c.canvas.clear(c.canvasKit.Color(255, 0, 0));
    expect(c.present()).toBe(true);
    beginFrameEpoch(owner.fields[0], 2);
    c.canvas.clear(c.canvasKit.Color(0, 0, 255));
    expect(c.present()).toBe(false);
    expect(front(owner.fields[0]).pixels).toEqual(Array(16).fill(RED));
  });

  it('cannot be used once disposed; dispose twice is harmless', async () => {
    const owner = owned(4, 4);
    const c = await canvasOver(owner.fields[0]);
    c.dispose();
    c.dispose();
    expect(() => c.present()).toThrow(CanvasError);
    expect(() => c.present()).toThrow('present(): this canvas was disposed');
    expect(() => c.pixels()).toThrow(CanvasError);
  });

  it('refuses a target whose size is not a framebuffer size', async () => {
    const fake = (width: number, height: number, stride: number, format = 'argb8888') => ({
      width,
      height,
      stride,
      format: format as PixelFormat,
      back: () => new Uint32Array(0),
      present: () => true,
    });
    await expect(createCanvas(fake(0, 4, 4))).rejects.toThrow(
      'createCanvas: expected a framebuffer width ≥ 1, got 0',
    );
    await expect(createCanvas(fake(4, 4, 3))).rejects.toThrow(
      'createCanvas: expected a stride of at least the width 4, got 3',
    );
    await expect(createCanvas(fake(4, 4, 4, 'rgb565'))).rejects.toThrow(
      "createCanvas: expected a framebuffer format 'argb8888' or 'abgr8888', got rgb565",
    );
  });

  it('uses a CanvasKit given to it, and loads one only once per process', async () => {
    const ck = await loadCanvasKit();
    expect(loadCanvasKit()).toBe(loadCanvasKit());
    const owner = owned(2, 2);
    const c = await canvasOver(owner.fields[0]);
    expect(c.canvasKit).toBe(ck);
    const given = await createCanvas(owner.fields[0], { canvasKit: ck });
    cleanups.push(given.dispose);
    expect(given.canvasKit).toBe(ck);
  });
});

describe('loadTypeface', () => {
  it('draws text with a TTF from a path, a file URL or bytes', async () => {
    const owner = owned(64, 24);
    const fb = owner.fields[0];
    const c = await canvasOver(fb);
    const ck = c.canvasKit;
    const { readFileSync } = await import('node:fs');
    for (const source of [
      FONT,
      pathToFileURL(FONT),
      pathToFileURL(FONT).href,
      readFileSync(FONT),
    ]) {
      const face = loadTypeface(ck, source);
      const font = new ck.Font(face, 16);
      const paint = new ck.Paint();
      paint.setColor(ck.Color(255, 255, 255));
      c.canvas.clear(ck.Color(0, 0, 0));
      // "1" at x=2, baseline 18: ink only inside the glyph's box, on the left half.
      c.canvas.drawText('1', 2, 18, paint, font);
      expect(c.present()).toBe(true);
      const { pixels } = front(fb);
      const lit = pixels.flatMap((p, i) => (p !== BLACK ? [i] : []));
      expect(lit.length).toBeGreaterThan(10);
      for (const i of lit) {
        expect(i % 64).toBeLessThan(16);
        expect(Math.floor(i / 64)).toBeLessThan(20);
      }
      // Grey levels from anti-aliasing, all opaque, red = green = blue.
      for (const i of lit) {
        const p = pixels[i]!;
        expect(p >>> 24).toBe(0xff);
        expect((p >>> 16) & 0xff).toBe(p & 0xff);
      }
      font.delete();
      paint.delete();
      face.delete();
    }
  });

  it('says what it expected when the file is missing or not a font', async () => {
    const ck = await loadCanvasKit();
    expect(() => loadTypeface(ck, '/nonexistent/font.ttf')).toThrow(
      'loadTypeface: expected a font file at /nonexistent/font.ttf, got ENOENT',
    );
    const notAFont = fileURLToPath(import.meta.url);
    expect(() => loadTypeface(ck, notAFont)).toThrow(
      new RegExp(
        `expected a TrueType, OpenType, WOFF or WOFF2 font in ${notAFont}, got \\d+ bytes`,
      ),
    );
    expect(() => loadTypeface(ck, new Uint8Array([1, 2, 3]))).toThrow(
      'expected a TrueType, OpenType, WOFF or WOFF2 font in the given bytes, got 3 bytes that FreeType cannot read',
    );
    try {
      loadTypeface(ck, new ArrayBuffer(0));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HotshmError);
      expect((e as HotshmError).code).toBe('HOTSHM_CANVAS');
    }
  });
});

describe('without canvaskit-wasm', () => {
  it('rejects with a CanvasError that says how to install it', () => {
    // A child whose resolver cannot find canvaskit-wasm, as in a project that never installed it.
    const resolve = `function resolve(s, c, next) {
        if (s === 'canvaskit-wasm') throw Object.assign(new Error("Cannot find package 'canvaskit-wasm'"), { code: 'ERR_MODULE_NOT_FOUND' });
        return next(s, c);
      }`;
    const hook = `data:text/javascript,${encodeURIComponent(`export ${resolve}`)}`;
    // In process where Node has registerHooks (22.15 and later): module.register, which Node 20
    // needs, is deprecated from Node 26 on (DEP0205), and its warning would be on stderr.
    const register = `data:text/javascript,${encodeURIComponent(
      `import * as m from 'node:module';
      if (m.registerHooks) m.registerHooks({ resolve: ${resolve} });
      else m.register(${JSON.stringify(hook)});`,
    )}`;
    const script = `
      const { createCanvas } = await import(${JSON.stringify(pathToFileURL(fileURLToPath(new URL('./index.ts', import.meta.url))).href)});
      try {
        await createCanvas({ width: 1, height: 1, stride: 1, format: 'argb8888', back: () => new Uint32Array(1), present: () => true });
        console.log('no error');
      } catch (e) { console.log(e.name, e.code, e.message); }
    `;
    const r = spawnSync(
      process.execPath,
      ['--import', register, '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(
      "CanvasError HOTSHM_CANVAS expected the package canvaskit-wasm (0.42) to be installed for @hotshm/hot-reload/canvas, got: Cannot find package 'canvaskit-wasm'; install it with `npm i canvaskit-wasm@0.42.0`",
    );
  });
});
