/**
 * The terminal back end in a real terminal (a private tmux server): what tmux's screen holds
 * after a present, SGR mouse bytes and keys typed into the pane, the overlay border, a resize, and
 * the terminal's modes once the child quit. The input decoder and the layout are also checked
 * directly on byte strings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InputEvent } from '../src/window/index.js';
import { InputKind, Key, Modifier } from '../src/window/index.js';
import { cellToFrame, createDecoder, decodeInput, layoutFor } from '../src/window/terminal.js';
import { waitFor } from './x11.js';

const ORANGE_FG = '38;2;255;179;0';
const RED_FG = '38;2;255;0;0';
const child = fileURLToPath(new URL('./window-terminal-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('layout and input decoding', () => {
  // 300×300 in 100×40: 39 image rows = 78 half-block pixels tall, so 78 columns, centred.
  const layout = layoutFor(300, 300, 100, 40);

  it('fits the frame keeping its aspect ratio, leaving the last row for the status line', () => {
    expect(layout).toMatchObject({ cellColumns: 78, cellRows: 39, left: 11, top: 0 });
    // Width-limited: 320×100 in 80×24 is 80 columns × 25 pixels → 12 rows, centred vertically.
    expect(layoutFor(320, 100, 80, 24)).toMatchObject({
      cellColumns: 80,
      cellRows: 12,
      left: 0,
      top: 5,
    });
  });

  it('maps a cell to the pixel under its centre, clamped to the frame', () => {
    // Column 50 is image column 38 of 78: (38.5 × 300 / 78) = 148.08; row 20 is image row 19:
    // pixel rows 38 and 39 of 78, centre (39 × 300 / 78) = 150.
    expect(cellToFrame(layout, 50, 20)).toEqual([148, 150]);
    expect(cellToFrame(layout, 1, 1)).toEqual([0, 3]);
    expect(cellToFrame(layout, 100, 40)).toEqual([299, 299]);
  });

  const decode = (...chunks: string[]) => {
    const decoder = createDecoder();
    const out: InputEvent[] = [];
    for (const chunk of chunks) decodeInput(decoder, chunk, layout, out);
    return { decoder, out };
  };

  it('reads a lone ESC as Escape and quits; ESC that starts a sequence is not Escape', () => {
    const lone = decode('\x1b');
    expect(lone.decoder.quit).toBe(true);
    expect(lone.out.map((e) => [e.kind, e.key])).toEqual([
      [InputKind.KeyDown, Key.Escape],
      [InputKind.KeyUp, Key.Escape],
    ]);
    const arrows = decode('\x1b[A\x1bOD\x1b[1;5C');
    expect(arrows.decoder.quit).toBe(false);
    expect(arrows.out.filter((e) => e.kind === InputKind.KeyDown).map((e) => e.key)).toEqual([
      Key.Up,
      Key.Left,
      Key.Right,
    ]);
    expect(arrows.out[4]?.modifiers).toBe(Modifier.Ctrl);
    const alt = decode('\x1bx');
    expect(alt.decoder.quit).toBe(false);
    expect(alt.out[0]).toMatchObject({ key: 0x78, modifiers: Modifier.Alt });
  });

  it('reads Ctrl+C as quit and letters as lower-case keycodes with Shift', () => {
    expect(decode('\x03').decoder.quit).toBe(true);
    const { out } = decode('aZ\r');
    expect(
      out.filter((e) => e.kind === InputKind.KeyDown).map((e) => [e.key, e.modifiers]),
    ).toEqual([
      [0x61, 0],
      [0x7a, Modifier.Shift],
      [Key.Return, 0],
    ]);
  });

  it('decodes SGR mouse press, motion, release and wheel, even split across chunks', () => {
    // Column 51 is image column 39: 39.5 × 300 / 78 = 151.9.
    const { out, decoder } = decode(
      '\x1b[<0;50;20M\x1b[<3',
      '2;51;20M\x1b[<0;51;20m\x1b[<65;1;1M\x1b[<18;50;20M',
    );
    expect(decoder.quit).toBe(false);
    expect(out.map((e) => [e.kind, e.button, e.buttons, e.x, e.y])).toEqual([
      [InputKind.MouseDown, 1, 1, 148, 150],
      [InputKind.MouseMove, 0, 1, 151, 150],
      [InputKind.MouseUp, 1, 0, 151, 150],
      [InputKind.Wheel, 0, 0, 0, 3],
      [InputKind.MouseDown, 3, 4, 148, 150],
    ]);
    expect(out[3]).toMatchObject({ dx: 0, dy: -1 });
    expect(out[4]?.modifiers).toBe(Modifier.Ctrl);
  });
});

describe('terminal back end in tmux', () => {
  const socket = `hotshm-test-${process.pid}`;
  const session = 'demo';
  let dir: string;
  let events: string;
  let stty: string;

  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const lines = (): Record<string, unknown>[] => {
    try {
      return readFileSync(events, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    } catch {
      return [];
    }
  };
  const find = (what: string, match: (l: Record<string, unknown>) => boolean, from = 0) =>
    waitFor(what, () => lines().slice(from).find(match));
  const flags = () =>
    tmux(
      'display-message',
      '-p',
      '-t',
      session,
      '#{alternate_on} #{cursor_flag} #{mouse_sgr_flag} #{mouse_any_flag}',
    ).trim();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotshm-terminal-'));
    events = join(dir, 'events.jsonl');
    stty = join(dir, 'stty.txt');
    // After the child, the shell records the terminal's modes and stays, so tmux can be asked too.
    const command = [
      `cd ${JSON.stringify(root)}`,
      `HOTSHM_BACKEND=terminal ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(child)} ${JSON.stringify(events)}`,
      `echo "exit $?" > ${JSON.stringify(`${stty}.exit`)}`,
      // Renamed into place: the test must never read a file the shell has only begun to write.
      `stty -a > ${JSON.stringify(`${stty}.tmp`)}`,
      `mv ${JSON.stringify(`${stty}.tmp`)} ${JSON.stringify(stty)}`,
      'sleep 60',
    ].join('; ');
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '40', command);
    await find('the child to start', (l) => l.ready === true);
  });

  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws orange half blocks in truecolor, centred, with the title on the status line', async () => {
    expect(lines()[0]).toMatchObject({ backend: 'terminal', columns: 100, rows: 40 });
    const screen = await waitFor('orange half blocks', () => {
      const s = tmux('capture-pane', '-e', '-p', '-t', session);
      return s.includes(ORANGE_FG) && s.includes('▀') ? s : undefined;
    });
    expect(screen).toContain(`48;2;255;179;0`);
    const plain = tmux('capture-pane', '-p', '-t', session).split('\n');
    // 39 rows of 78 half blocks starting at column 12 (11 spaces), then the status line.
    expect(plain[0]).toBe(`${' '.repeat(11)}${'▀'.repeat(78)}`);
    expect(plain.filter((l) => l.includes('▀'))).toHaveLength(39);
    expect(plain[39]?.trim()).toBe('Hot Reload Demo');
    expect(tmux('display-message', '-p', '-t', session, '#{pane_title}').trim()).toBe(
      'Hot Reload Demo',
    );
    // Alternate screen on, cursor hidden, SGR mouse reporting with motion.
    expect(flags()).toBe('1 0 1 1');
  });

  it('maps an SGR mouse click typed into the pane to MouseDown/MouseUp at framebuffer coordinates', async () => {
    const from = lines().length;
    // ESC [ < 0 ; 50 ; 20 M, then the same with m: left press and release at column 50, row 20.
    const hex = (s: string) => [...s].map((c) => c.charCodeAt(0).toString(16));
    tmux('send-keys', '-t', session, '-H', ...hex('\x1b[<0;50;20M'));
    tmux('send-keys', '-t', session, '-H', ...hex('\x1b[<0;50;20m'));
    const up = await find(
      'MouseUp',
      (l) => (l.event as InputEvent | undefined)?.kind === InputKind.MouseUp,
      from,
    );
    const down = lines()
      .slice(from)
      .find((l) => (l.event as InputEvent | undefined)?.kind === InputKind.MouseDown);
    expect(down?.event).toMatchObject({ button: 1, buttons: 1, x: 148, y: 150 });
    expect(up.event).toMatchObject({ button: 1, buttons: 0, x: 148, y: 150 });
  });

  it('draws the overlay border as red cells around the image, leaving the pixels orange', async () => {
    const pid = lines()[0]?.pid as number;
    const from = lines().length;
    process.kill(pid, 'SIGUSR1');
    expect(await find('border on', (l) => l.border === true, from)).toMatchObject({
      allOrange: true,
    });
    const screen = await waitFor('a red frame', () => {
      const s = tmux('capture-pane', '-e', '-p', '-t', session);
      return s.includes(RED_FG) ? s.split('\n') : undefined;
    });
    // Top row all red; a middle row red at both ends and orange inside.
    expect(screen[0]).toContain(RED_FG);
    expect(screen[0]).not.toContain(ORANGE_FG);
    const middle = screen[20] ?? '';
    expect(middle.indexOf(RED_FG)).toBeLessThan(middle.indexOf(ORANGE_FG));
    expect(middle.lastIndexOf(RED_FG)).toBeGreaterThan(middle.lastIndexOf(ORANGE_FG));
    const off = lines().length;
    process.kill(pid, 'SIGUSR1');
    await find('border off', (l) => l.border === false, off);
    await waitFor('the red frame to go', () =>
      tmux('capture-pane', '-e', '-p', '-t', session).includes(RED_FG) ? undefined : true,
    );
  });

  it('redraws to fit when the terminal is resized', async () => {
    tmux('resize-window', '-t', session, '-x', '60', '-y', '20');
    // 60×20: 19 image rows = 38 pixels tall → 38 columns, 11 from the left.
    const plain = await waitFor('the smaller picture', () => {
      const p = tmux('capture-pane', '-p', '-t', session).split('\n');
      return p[0] === `${' '.repeat(11)}${'▀'.repeat(38)}` ? p : undefined;
    });
    expect(plain.filter((l) => l.includes('▀'))).toHaveLength(19);
    expect(plain[19]?.trim()).toBe('Hot Reload Demo');
  });

  it('quits on Escape and gives the terminal back as it found it', async () => {
    const from = lines().length;
    tmux('send-keys', '-t', session, 'Escape');
    const key = await find(
      'Escape',
      (l) => (l.event as InputEvent | undefined)?.kind === InputKind.KeyDown,
      from,
    );
    expect(key.event).toMatchObject({ key: Key.Escape });
    await find('quit', (l) => l.quit === true, from);
    const modes = await waitFor('stty output', () => {
      try {
        return readFileSync(stty, 'utf8');
      } catch {
        return undefined;
      }
    });
    expect(readFileSync(`${stty}.exit`, 'utf8').trim()).toBe('exit 0');
    // Raw mode undone: canonical input and echo are back.
    expect(modes).toMatch(/(^|\s)icanon(\s|$)/);
    expect(modes).toMatch(/(^|\s)echo(\s|$)/);
    // Main screen, cursor shown, no mouse reporting.
    expect(flags()).toBe('0 1 0 0');
  });
});
