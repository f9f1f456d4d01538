/**
 * A renderer that draws with `@hotshm/hot-reload/canvas`, run by the real hosts: a renderer
 * process built from a temporary workspace (hot, with a save that must show new pixels) and a
 * worker thread (no-hot). What Skia drew reaches the owner's front buffer in the framebuffer's
 * format, so CanvasKit loads and draws in both kinds of renderer; text in a font the renderer
 * resolves from its own module with `import.meta.resolve`, as the canvas template does.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWorkspace,
  LOCAL_WORK_DIR,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const STATE = `
import { channel, defineState, framebuffer, struct, u32 } from '@hotshm/hot-reload';
export const State = defineState({
  name: 'canvas-test',
  reloadable: new URL('./renderer.ts', import.meta.url),
  args: struct({ width: u32, height: u32 }),
  fields: ({ width, height }) => ({
    framebuffer: framebuffer(width, height, { format: 'abgr8888' }),
    input: channel(u32, { capacity: 16 }),
  }),
});
`;

/** Clears to (r, g, b) and draws a 2×2 white square at the top left, with Skia. */
function renderer([r, g, b]: readonly [number, number, number]): string {
  return `
import { createCanvas } from '@hotshm/hot-reload/canvas';
import { State } from './state.ts';
export async function main() {
  const s = State.reloadable();
  const skia = await createCanvas(s.framebuffer);
  const ck = skia.canvasKit;
  skia.canvas.clear(ck.Color(${r}, ${g}, ${b}));
  const paint = new ck.Paint();
  paint.setColor(ck.Color(255, 255, 255));
  skia.canvas.drawRect(ck.LTRBRect(0, 0, 2, 2), paint);
  skia.present();
  for await (const _ of s.input) {}
  paint.delete();
  skia.dispose();
}
`;
}

/**
 * Text in white on black, in a font the renderer finds as the canvas template does:
 * `import.meta.resolve` of a file of a font package, from the renderer's own module.
 */
const TEXT_RENDERER = `
import { createCanvas, loadTypeface } from '@hotshm/hot-reload/canvas';
import { State } from './state.ts';
const FONT = import.meta.resolve('@expo-google-fonts/roboto-mono/400Regular/RobotoMono_400Regular.ttf');
export async function main() {
  const s = State.reloadable();
  const skia = await createCanvas(s.framebuffer);
  const ck = skia.canvasKit;
  const font = new ck.Font(loadTypeface(ck, FONT), 16);
  const paint = new ck.Paint();
  paint.setColor(ck.Color(255, 255, 255));
  skia.canvas.clear(ck.Color(0, 0, 0));
  skia.canvas.drawText('8', 1, 14, paint, font);
  skia.present();
  for await (const _ of s.input) {}
  skia.dispose();
}
`;

/** abgr8888 words: 0xAABBGGRR. */
const word = ([r, g, b]: readonly [number, number, number]) =>
  ((0xff << 24) | (b << 16) | (g << 8) | r) >>> 0;
const TEAL = [0, 128, 128] as const;
const ORANGE = [255, 128, 0] as const;
const WHITE = 0xffffffff;

interface Owner {
  readonly framebuffer: {
    acquireFront(): { pixels: Uint32Array } | null;
    releaseFront(): void;
  };
  close(): Promise<void>;
}

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

async function start(hot: boolean, source = renderer(TEAL), under?: string): Promise<Owner> {
  ws = createWorkspace(source, under);
  writeFileSync(ws.statePath, STATE);
  const { State } = (await import(pathToFileURL(join(ws.dir, 'state.ts')).href)) as {
    State: {
      owner(
        args: { width: number; height: number },
        options: { hot: boolean; entry: string; log: (line: string) => void },
      ): Promise<Owner>;
    };
  };
  owner = await State.owner(
    { width: 8, height: 4 },
    { hot, entry: ws.rendererPath, log: () => {} },
  );
  return owner;
}

/** The front frame's pixels once they are `expected` (the renderer's first frames may be older). */
function frontIs(o: Owner, background: number): number[] | false {
  const f = o.framebuffer.acquireFront();
  const px = f === null ? undefined : Array.from(f.pixels);
  o.framebuffer.releaseFront();
  return px !== undefined && px[7] === background ? px : false;
}

function expectDrawing(px: number[], background: number): void {
  const expected = Array.from({ length: 32 }, (_, i) =>
    i % 8 < 2 && Math.floor(i / 8) < 2 ? WHITE : background,
  );
  expect(px.map((p) => p >>> 0)).toEqual(expected);
}

describe('a renderer drawing with the canvas helper', () => {
  it('hot: its frames reach the owner, and a save of it draws new ones', async () => {
    const o = await start(true);
    expectDrawing(await until('the teal frame', () => frontIs(o, word(TEAL)), 60_000), word(TEAL));
    ws!.writeRenderer(renderer(ORANGE));
    expectDrawing(
      await until('the orange frame after the save', () => frontIs(o, word(ORANGE)), 60_000),
      word(ORANGE),
    );
  });

  it.each([true, false])(
    'hot %s: draws text in a font it resolves with import.meta.resolve from its own module',
    async (hot) => {
      // Under this package, so the renderer resolves the packages installed here (the font).
      const o = await start(hot, TEXT_RENDERER, LOCAL_WORK_DIR);
      const lit = await until(
        'the text',
        () => {
          const px = frontIs(o, word([0, 0, 0]));
          if (px === false) return undefined;
          return px.filter((p) => p >>> 0 !== word([0, 0, 0])).length;
        },
        60_000,
      );
      expect(lit).toBeGreaterThan(10);
    },
  );

  it('no-hot: on a worker thread, the same frame', async () => {
    const o = await start(false);
    expectDrawing(await until('the teal frame', () => frontIs(o, word(TEAL)), 60_000), word(TEAL));
  });
});
