/**
 * The terminal back end: the frame drawn with truecolor half blocks (▀: foreground = upper pixel,
 * background = lower pixel), scaled down by nearest-neighbour sampling to fit the terminal, with
 * the title on a status line below. Input comes from raw-mode stdin, mouse included (SGR
 * reporting), decoded into the same InputEvents as SDL's, in framebuffer coordinates.
 *
 * A picture is built as one string and written once, and only when what it samples changed (the
 * frame, the terminal's size, the overlay or the title): a terminal is far slower than a window.
 */
import { writeSync } from 'node:fs';
import { BackendFailure, BackendUnavailableError } from './errors.js';
import { checkFrame } from './frame-check.js';
import type { InputEvent } from './input.js';
import { InputKind, Key, Modifier } from './input.js';
import type { Backend, Frame, Overlay, PollResult, WindowGeometry } from './types.js';

const ESC = '\x1b';
const CSI = `${ESC}[`;
/** Alternate screen, hidden cursor, mouse buttons + all motion, SGR coordinates. */
const ENTER = `${CSI}?1049h${CSI}?25l${CSI}?1000h${CSI}?1003h${CSI}?1006h${CSI}2J`;
const LEAVE = `${CSI}?1006l${CSI}?1003l${CSI}?1000l${CSI}0m${CSI}?25h${CSI}?1049l`;
const UPPER_HALF = '▀';

/** Where the image sits in the terminal and how terminal cells map to framebuffer pixels. */
export interface TerminalLayout {
  readonly columns: number;
  readonly rows: number;
  /** Image size in cells; each cell is one pixel wide and two pixels (half blocks) tall. */
  readonly cellColumns: number;
  readonly cellRows: number;
  /** 0-based cell of the image's top-left corner. */
  readonly left: number;
  readonly top: number;
  readonly frameWidth: number;
  readonly frameHeight: number;
}

/**
 * Fits a width×height frame in a columns×rows terminal, keeping its aspect ratio (a half block
 * is about square) and leaving the last row for the status line. Integer arithmetic only, so the
 * result does not depend on floating-point rounding.
 */
export function layoutFor(
  frameWidth: number,
  frameHeight: number,
  columns: number,
  rows: number,
): TerminalLayout {
  const imageRows = Math.max(1, rows - 1);
  let cellColumns: number;
  let pixelRows: number;
  if (columns * frameHeight <= 2 * imageRows * frameWidth) {
    cellColumns = columns;
    pixelRows = Math.floor((frameHeight * columns) / frameWidth);
  } else {
    pixelRows = 2 * imageRows;
    cellColumns = Math.floor((frameWidth * pixelRows) / frameHeight);
  }
  cellColumns = Math.max(1, Math.min(columns, cellColumns));
  const cellRows = Math.max(1, Math.min(imageRows, Math.floor(pixelRows / 2)));
  return {
    columns,
    rows,
    cellColumns,
    cellRows,
    left: Math.floor((columns - cellColumns) / 2),
    top: Math.floor((imageRows - cellRows) / 2),
    frameWidth,
    frameHeight,
  };
}

/**
 * Framebuffer coordinates of a 1-based terminal cell (as SGR mouse reports give them): the pixel
 * under the cell's centre, clamped to the frame so a drag that leaves the image still ends inside.
 */
export function cellToFrame(layout: TerminalLayout, column: number, row: number): [number, number] {
  const cx = column - 1 - layout.left;
  const cy = row - 1 - layout.top;
  const x = Math.floor(((cx + 0.5) * layout.frameWidth) / layout.cellColumns);
  const y = Math.floor(((2 * cy + 1) * layout.frameHeight) / (2 * layout.cellRows));
  return [clamp(x, 0, layout.frameWidth - 1), clamp(y, 0, layout.frameHeight - 1)];
}

function isControl(ch: string): boolean {
  const c = ch.charCodeAt(0);
  return c < 0x20 || c === 0x7f;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}

/** Input decoder state that outlives one chunk of stdin. */
export interface InputDecoder {
  /** An escape sequence cut by the end of a chunk, completed by the next one. */
  pending: string;
  buttons: number;
  x: number;
  y: number;
  quit: boolean;
}

export function createDecoder(): InputDecoder {
  return { pending: '', buttons: 0, x: 0, y: 0, quit: false };
}

/**
 * Decodes one chunk of raw-mode input into events. Keys are pressed and released at once (a
 * terminal reports no key-up). ESC with nothing after it in the same chunk is the Escape key;
 * ESC followed by more is a sequence (CSI, SS3) or Alt+key. Escape and Ctrl+C set `quit`.
 */
export function decodeInput(
  decoder: InputDecoder,
  chunk: string,
  layout: TerminalLayout,
  out: InputEvent[],
): void {
  const s = decoder.pending + chunk;
  decoder.pending = '';
  let i = 0;
  while (i < s.length) {
    const ch = s.charCodeAt(i);
    if (ch !== 0x1b) {
      const code = s.codePointAt(i) ?? ch;
      key(decoder, code, 0, out);
      i += code > 0xffff ? 2 : 1;
      continue;
    }
    const next = s[i + 1];
    if (next === undefined || next === ESC) {
      key(decoder, Key.Escape, 0, out);
      i += 1;
    } else if (next === '[') {
      // CSI: parameter bytes then one final byte in 0x40–0x7e.
      let j = i + 2;
      while (j < s.length && !isFinal(s.charCodeAt(j))) j++;
      if (j >= s.length) {
        decoder.pending = s.slice(i);
        return;
      }
      csi(decoder, s.slice(i + 2, j), s[j] ?? '', layout, out);
      i = j + 1;
    } else if (next === 'O' && i + 2 < s.length) {
      // SS3: arrows in the terminal's application-cursor mode.
      const arrow = arrowKey(s[i + 2] ?? '');
      if (arrow !== 0) key(decoder, arrow, 0, out);
      i += 3;
    } else {
      const code = s.codePointAt(i + 1) ?? 0;
      key(decoder, code, Modifier.Alt, out);
      i += code > 0xffff ? 3 : 2;
    }
  }
}

function isFinal(c: number): boolean {
  return c >= 0x40 && c <= 0x7e && c !== 0x5b /* '[' starts nothing final */;
}

function arrowKey(final: string): number {
  switch (final) {
    case 'A':
      return Key.Up;
    case 'B':
      return Key.Down;
    case 'C':
      return Key.Right;
    case 'D':
      return Key.Left;
    default:
      return 0;
  }
}

function csi(
  decoder: InputDecoder,
  params: string,
  final: string,
  layout: TerminalLayout,
  out: InputEvent[],
): void {
  if (params.startsWith('<') && (final === 'M' || final === 'm')) {
    mouse(decoder, params.slice(1), final === 'M', layout, out);
    return;
  }
  // xterm modifier parameter "1;m": m - 1 has bit 0 shift, bit 1 alt, bit 2 ctrl, bit 3 meta.
  const fields = params.split(';');
  const mod = Number(fields[1] ?? 1) - 1;
  const mods =
    (mod & 1 ? Modifier.Shift : 0) |
    (mod & 2 ? Modifier.Alt : 0) |
    (mod & 4 ? Modifier.Ctrl : 0) |
    (mod & 8 ? Modifier.Meta : 0);
  const arrow = arrowKey(final);
  if (arrow !== 0) key(decoder, arrow, mods, out);
  else if (final === '~' && fields[0] === '3') key(decoder, Key.Delete, mods, out);
}

/** SGR mouse report "b;x;y" + M (press, motion, wheel) or m (release). */
function mouse(
  decoder: InputDecoder,
  params: string,
  press: boolean,
  layout: TerminalLayout,
  out: InputEvent[],
): void {
  const [bs, xs, ys] = params.split(';');
  const b = Number(bs);
  const column = Number(xs);
  const row = Number(ys);
  if (!Number.isInteger(b) || !Number.isInteger(column) || !Number.isInteger(row)) return;
  const [x, y] = cellToFrame(layout, column, row);
  decoder.x = x;
  decoder.y = y;
  const mods =
    (b & 4 ? Modifier.Shift : 0) | (b & 8 ? Modifier.Alt : 0) | (b & 16 ? Modifier.Ctrl : 0);
  const low = b & 3;
  if (b & 64) {
    // Wheel: 64 up, 65 down, 66 left, 67 right; only presses are reported.
    const event = make(decoder, InputKind.Wheel, 0, 0, mods);
    if (low === 0) event.dy = 1;
    else if (low === 1) event.dy = -1;
    else if (low === 2) event.dx = -1;
    else event.dx = 1;
    out.push(event);
    return;
  }
  if (b & 32) {
    out.push(make(decoder, InputKind.MouseMove, 0, 0, mods));
    return;
  }
  if (low === 3) return; // "no button": only legacy (non-SGR) releases look like this
  const button = low + 1; // SGR 0 left, 1 middle, 2 right → SDL 1, 2, 3
  const bit = 1 << low;
  decoder.buttons = press ? decoder.buttons | bit : decoder.buttons & ~bit;
  out.push(make(decoder, press ? InputKind.MouseDown : InputKind.MouseUp, button, 0, mods));
}

/** One key from a code point: control characters become their key with Ctrl. */
function key(decoder: InputDecoder, code: number, extraMods: number, out: InputEvent[]): void {
  let k = code;
  let mods = extraMods;
  if (code === 0x0d || code === 0x0a) k = Key.Return;
  else if (code === 0x09) k = Key.Tab;
  else if (code === 0x7f || code === 0x08) k = Key.Backspace;
  else if (code === 0x1b) k = Key.Escape;
  else if (code >= 0x01 && code <= 0x1a) {
    k = code + 0x60; // Ctrl+A … Ctrl+Z
    mods |= Modifier.Ctrl;
  } else if (code >= 0x41 && code <= 0x5a) {
    k = code + 0x20; // SDL keycodes are the unshifted letter
    mods |= Modifier.Shift;
  }
  if (k === Key.Escape || (k === 0x63 && mods & Modifier.Ctrl)) decoder.quit = true;
  out.push(make(decoder, InputKind.KeyDown, 0, k, mods));
  out.push(make(decoder, InputKind.KeyUp, 0, k, mods));
}

function make(
  decoder: InputDecoder,
  kind: InputEvent['kind'],
  button: number,
  k: number,
  modifiers: number,
): InputEvent {
  return {
    kind,
    x: decoder.x,
    y: decoder.y,
    button,
    buttons: decoder.buttons,
    key: k,
    modifiers,
    dx: 0,
    dy: 0,
  };
}

export interface TerminalOpenOptions {
  readonly width: number;
  readonly height: number;
  readonly title: string;
  readonly input?: NodeJS.ReadStream;
  readonly output?: NodeJS.WriteStream;
}

export class TerminalBackend implements Backend {
  readonly name = 'terminal' as const;
  readonly vsync = false;
  readonly refreshHz = undefined;
  readonly #input: NodeJS.ReadStream;
  readonly #output: NodeJS.WriteStream;
  /**
   * The output's own write, taken at open: while the terminal shows the window, the frame loop
   * sends what the process prints elsewhere by replacing `process.stdout.write` (see capture.ts),
   * and the picture must still reach the terminal.
   */
  readonly #write: (text: string) => boolean;
  readonly #fd: number;
  readonly #decoder = createDecoder();
  readonly #result: { events: InputEvent[]; quit: boolean; resized: false; redraw: false } = {
    events: [],
    quit: false,
    resized: false,
    redraw: false,
  };
  #queue: InputEvent[] = [];
  #layout: TerminalLayout;
  #frame: Frame | null = null;
  #border: number | undefined;
  #title: string;
  // What the last written picture sampled; a new sample equal to it is not written again.
  #sample = new Uint32Array(0);
  #next = new Uint32Array(0);
  #xMap = new Int32Array(0);
  #yMap = new Int32Array(0);
  #needsClear = true;
  #needsStatus = true;
  #needsImage = true;
  #borderChanged = false;
  #picture = '';
  #blocked = false;
  #closed = false;
  /** How many pictures were written (a picture skipped as unchanged is not counted). */
  writes = 0;

  // Stream callbacks run outside the frame loop: a throw there would end the process. What one
  // throws is kept and thrown by the next poll(), where the loop reports it and goes on.
  #failure: unknown;
  readonly #onData = (chunk: string | Buffer): void => {
    try {
      decodeInput(this.#decoder, String(chunk), this.#layout, this.#queue);
    } catch (error) {
      this.#failure ??= error;
    }
  };
  readonly #onResize = (): void => {
    try {
      this.#relayout();
    } catch (error) {
      this.#failure ??= error;
    }
  };
  readonly #onDrain = (): void => {
    this.#blocked = false;
  };
  readonly #onExit = (): void => {
    this.close();
  };
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.close();
    // Only we listened: re-raise so the process still dies of the signal, as it would have.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor(options: TerminalOpenOptions) {
    this.#input = options.input ?? process.stdin;
    this.#output = options.output ?? process.stdout;
    if (!this.#output.isTTY) {
      throw new BackendUnavailableError(
        'terminal',
        BackendFailure.NotATerminal,
        'the terminal back end needs stdout to be a terminal (it is a pipe or a file)',
      );
    }
    // close() writes synchronously to this descriptor (see there).
    this.#fd = (this.#output as { fd?: number }).fd ?? 1;
    const output = this.#output;
    const write = output.write;
    this.#write = (text) => write.call(output, text);
    this.#title = options.title;
    this.#layout = layoutFor(options.width, options.height, 80, 24);
    this.#relayout(options.width, options.height);

    if (this.#input.isTTY) this.#input.setRawMode(true);
    this.#input.setEncoding('utf8');
    this.#input.on('data', this.#onData);
    this.#input.resume();
    this.#output.on('resize', this.#onResize);
    this.#output.on('drain', this.#onDrain);
    process.on('exit', this.#onExit);
    process.once('SIGTERM', this.#onSignal);
    process.once('SIGHUP', this.#onSignal);
    this.#write(ENTER);
    this.setTitle(options.title);
  }

  poll(): PollResult {
    if (this.#failure !== undefined) {
      const failure = this.#failure;
      this.#failure = undefined;
      throw failure;
    }
    // Hand out the queue filled by stdin's 'data' events and refill the array handed out last time.
    const result = this.#result;
    const spare = result.events;
    spare.length = 0;
    result.events = this.#queue;
    this.#queue = spare;
    result.quit = this.#decoder.quit;
    return result;
  }

  present(frame: Frame | null, overlay?: Overlay): void {
    this.upload(frame, overlay);
    this.flip();
  }

  upload(frame: Frame | null, overlay?: Overlay): void {
    if (this.#closed) return;
    if (frame !== null) {
      checkFrame(frame);
      if (
        this.#frame === null ||
        frame.width !== this.#layout.frameWidth ||
        frame.height !== this.#layout.frameHeight
      ) {
        this.#frame = frame;
        this.#relayout(frame.width, frame.height);
      }
      this.#frame = frame;
      this.#needsImage = true;
    }
    const border = overlay?.border;
    if (border !== this.#border) {
      this.#border = border;
      this.#borderChanged = true;
    }
    // While the terminal has not drained, only the flags above are kept: building pictures
    // nobody can write yet would just queue them.
    if (this.#blocked) return;
    if (!this.#needsImage && !this.#needsClear && !this.#needsStatus && !this.#borderChanged) {
      return;
    }
    // Appended: a resize may already have built a picture (starting with a clear) this frame.
    this.#picture += this.#build();
  }

  flip(): boolean {
    if (this.#closed || this.#picture === '' || this.#blocked) return false;
    const picture = this.#picture;
    this.#picture = '';
    this.writes++;
    // A slow terminal: skip pictures until it drained instead of queueing them in memory.
    if (!this.#write(picture)) this.#blocked = true;
    return true;
  }

  setTitle(title: string): void {
    // A control character would end the OSC sequence early or move the cursor.
    const clean = Array.from(title, (ch) => (isControl(ch) ? ' ' : ch)).join('');
    this.#title = clean;
    this.#needsStatus = true;
    if (!this.#closed) this.#write(`${ESC}]0;${clean}\x07`);
  }

  /** The frame's size: a terminal has no window to place, and its cells are not pixels. */
  geometry(): WindowGeometry {
    const { frameWidth: width, frameHeight: height } = this.#layout;
    return { x: 0, y: 0, width, height, pixelWidth: width, pixelHeight: height };
  }

  /** The current layout, for mapping cells to pixels in tests and tools. */
  get layout(): TerminalLayout {
    return this.#layout;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#input.off('data', this.#onData);
    this.#output.off('resize', this.#onResize);
    this.#output.off('drain', this.#onDrain);
    process.off('exit', this.#onExit);
    process.off('SIGTERM', this.#onSignal);
    process.off('SIGHUP', this.#onSignal);
    try {
      // Throws EIO when the terminal is already gone (SIGHUP), and close() also runs on exit.
      if (this.#input.isTTY) this.#input.setRawMode(false);
      this.#input.pause();
    } catch {
      // nothing left to restore
    }
    // Synchronous: close() also runs from process 'exit', where asynchronous writes are lost.
    try {
      writeSync(this.#fd, LEAVE);
    } catch {
      // the terminal is gone (SIGHUP): nothing left to restore
    }
  }

  #relayout(width = this.#layout.frameWidth, height = this.#layout.frameHeight): void {
    const layout = layoutFor(width, height, this.#output.columns || 80, this.#output.rows || 24);
    this.#layout = layout;
    const { cellColumns, cellRows } = layout;
    const pixelRows = 2 * cellRows;
    this.#xMap = new Int32Array(cellColumns);
    for (let c = 0; c < cellColumns; c++) {
      this.#xMap[c] = Math.min(width - 1, Math.floor(((c + 0.5) * width) / cellColumns));
    }
    this.#yMap = new Int32Array(pixelRows);
    for (let p = 0; p < pixelRows; p++) {
      this.#yMap[p] = Math.min(height - 1, Math.floor(((p + 0.5) * height) / pixelRows));
    }
    this.#sample = new Uint32Array(cellColumns * pixelRows);
    this.#next = new Uint32Array(cellColumns * pixelRows);
    this.#needsClear = true;
    this.#needsStatus = true;
    this.#needsImage = true;
    // A resize must be drawn even if the owner only calls present(null) from now on.
    if (!this.#closed && !this.#blocked && this.#frame !== null) this.#picture = this.#build();
  }

  /** The picture to write, or '' when nothing visible changed. */
  #build(): string {
    const layout = this.#layout;
    let out = '';
    if (this.#needsClear) out += `${CSI}0m${CSI}2J`;
    const frame = this.#frame;
    if (frame !== null && (this.#needsImage || this.#needsClear || this.#borderChanged)) {
      const changed = this.#sampleFrame(frame);
      if (changed || this.#needsClear || this.#borderChanged) out += this.#image(layout);
    }
    if (this.#needsStatus || this.#needsClear) {
      const line = ` ${this.#title}`.slice(0, layout.columns).padEnd(layout.columns);
      out += `${CSI}${layout.rows};1H${CSI}0;7m${line}${CSI}0m`;
    }
    this.#needsClear = false;
    this.#needsStatus = false;
    this.#needsImage = false;
    this.#borderChanged = false;
    return out;
  }

  /** Samples the frame into #next; swaps it in and returns true when it differs from #sample. */
  #sampleFrame(frame: Frame): boolean {
    const { pixels, pitch } = frame;
    // The cells are drawn from ARGB: an abgr8888 frame's sampled words swap red and blue (one per
    // cell, not per pixel of the frame).
    const swap = frame.format === 'abgr8888';
    const stride = pitch >>> 2;
    const xMap = this.#xMap;
    const yMap = this.#yMap;
    const next = this.#next;
    const previous = this.#sample;
    const columns = xMap.length;
    let changed = false;
    let k = 0;
    for (let p = 0; p < yMap.length; p++) {
      const row = (yMap[p] ?? 0) * stride;
      for (let c = 0; c < columns; c++, k++) {
        const w = pixels[row + (xMap[c] ?? 0)] ?? 0;
        const v = swap ? ((w & 0xff00ff00) | ((w >>> 16) & 0xff) | ((w & 0xff) << 16)) >>> 0 : w;
        next[k] = v;
        if (v !== previous[k]) changed = true;
      }
    }
    if (changed) {
      this.#next = previous;
      this.#sample = next;
    }
    return changed;
  }

  #image(layout: TerminalLayout): string {
    const sample = this.#sample;
    const { cellColumns, cellRows, left, top } = layout;
    const border = this.#border;
    let out = '';
    for (let r = 0; r < cellRows; r++) {
      out += `${CSI}${top + r + 1};${left + 1}H`;
      let fg = -1;
      let bg = -1;
      const upper = 2 * r * cellColumns;
      const lower = upper + cellColumns;
      const edgeRow = r === 0 || r === cellRows - 1;
      for (let c = 0; c < cellColumns; c++) {
        const onBorder = border !== undefined && (edgeRow || c === 0 || c === cellColumns - 1);
        const u = (onBorder ? border : (sample[upper + c] ?? 0)) & 0xffffff;
        const l = (onBorder ? border : (sample[lower + c] ?? 0)) & 0xffffff;
        // Only colour changes are written: a flat area costs one byte sequence per cell.
        if (u !== fg && l !== bg) {
          out += `${CSI}38;2;${u >>> 16};${(u >>> 8) & 0xff};${u & 0xff};48;2;${l >>> 16};${(l >>> 8) & 0xff};${l & 0xff}m`;
        } else if (u !== fg) {
          out += `${CSI}38;2;${u >>> 16};${(u >>> 8) & 0xff};${u & 0xff}m`;
        } else if (l !== bg) {
          out += `${CSI}48;2;${l >>> 16};${(l >>> 8) & 0xff};${l & 0xff}m`;
        }
        fg = u;
        bg = l;
        out += UPPER_HALF;
      }
      out += `${CSI}0m`;
    }
    return out;
  }
}

/** Opens the terminal back end; throws when stdout is not a terminal. */
export function openTerminal(options: TerminalOpenOptions): TerminalBackend {
  return new TerminalBackend(options);
}
