/**
 * What the window shows, drawn with Skia (CanvasKit) about 60 times a second. Edit anything here
 * and save while the window is open: the renderer reloads in place, and the click count and the
 * animation go on from where they were (they live in shared memory).
 */
import type { Canvas, CanvasKit, Font, Typeface } from 'canvaskit-wasm';

/** ARGB colours: change one and save. */
export const BACKGROUND = 0xff1d2033;
const SQUARE = 0xff3d7bff;
const DOTS = 0xffff8a3d;
const TEXT = 0xfff2f2f2;

export interface Frame {
  /** Seconds since the app first drew. */
  readonly time: number;
  readonly clicks: number;
  /** Where the last click landed, in framebuffer pixels; undefined before the first. */
  readonly lastClick: { readonly x: number; readonly y: number } | undefined;
}

export interface Scene {
  draw(canvas: Canvas, frame: Frame): void;
  /** Frees what the scene made in CanvasKit's memory. */
  delete(): void;
}

export function createScene(
  ck: CanvasKit,
  typeface: Typeface,
  width: number,
  height: number,
): Scene {
  const unit = Math.min(width, height) / 100;
  const cx = width / 2;
  const cy = height / 2;
  const colour = (argb: number) =>
    ck.Color((argb >>> 16) & 0xff, (argb >>> 8) & 0xff, argb & 0xff, (argb >>> 24) / 0xff);
  const background = colour(BACKGROUND);
  const square = colour(SQUARE);
  const dots = colour(DOTS);
  const text = colour(TEXT);

  const fill = new ck.Paint();
  fill.setAntiAlias(true);
  const ring = new ck.Paint();
  ring.setAntiAlias(true);
  ring.setStyle(ck.PaintStyle.Stroke);
  ring.setStrokeWidth(unit);
  ring.setColor(dots);
  const big = new ck.Font(typeface, unit * 16);
  const small = new ck.Font(typeface, unit * 4);

  const widths = new Map<string, number>();
  const centred = (canvas: Canvas, line: string, font: Font, y: number): void => {
    const key = `${font === big ? 'b' : 's'}${line}`;
    let w = widths.get(key);
    if (w === undefined) {
      w = font.getGlyphWidths(font.getGlyphIDs(line)).reduce((a, b) => a + b, 0);
      widths.set(key, w);
    }
    canvas.drawText(line, cx - w / 2, y, fill, font);
  };

  return {
    draw(canvas, { time, clicks, lastClick }) {
      canvas.clear(background);

      // A rounded square turning about the centre.
      canvas.save();
      canvas.rotate(time * 40, cx, cy);
      fill.setColor(square);
      const side = unit * 44;
      canvas.drawRRect(
        ck.RRectXY(ck.XYWHRect(cx - side / 2, cy - side / 2, side, side), unit * 5, unit * 5),
        fill,
      );
      canvas.restore();

      // Three dots orbiting it.
      fill.setColor(dots);
      for (let i = 0; i < 3; i++) {
        const a = time * 1.5 + (i * 2 * Math.PI) / 3;
        canvas.drawCircle(
          cx + Math.cos(a) * unit * 36,
          cy + Math.sin(a) * unit * 36,
          unit * 4,
          fill,
        );
      }

      // A ring where the last click landed.
      if (lastClick) canvas.drawCircle(lastClick.x, lastClick.y, unit * 6, ring);

      // The click count, kept in shared memory: it survives every reload.
      fill.setColor(text);
      centred(canvas, String(clicks), big, cy + unit * 5);
      centred(canvas, clicks === 1 ? 'click' : 'clicks', small, cy + unit * 12);
      centred(canvas, 'click anywhere, edit src/scene.ts and save', small, height - unit * 5);
    },
    delete() {
      fill.delete();
      ring.delete();
      big.delete();
      small.delete();
    },
  };
}
