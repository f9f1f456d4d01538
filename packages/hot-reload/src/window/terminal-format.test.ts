/**
 * The terminal back end draws a frame in its own pixel format: the same orange from an argb8888
 * word and from an abgr8888 word (the cells are coloured from each sampled word, swapped when the
 * frame is abgr8888). Over a stand-in terminal: streams that say they are TTYs.
 */
import { closeSync, openSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import koffi from 'koffi';
import { afterEach, describe, expect, it } from 'vitest';
import type { PixelFormat } from '../frames/index.js';
import { openTerminal } from './terminal.js';

const ORANGE_FG = '38;2;255;179;0';
const SWAPPED_FG = '38;2;0;179;255';
const fds: number[] = [];
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
});

/** What the back end writes for one 8×8 frame filled with `word`, presented as `format`. */
async function drawn(word: number, format: PixelFormat | undefined): Promise<string> {
  const fd = openSync('/dev/null', 'w');
  fds.push(fd);
  const written: string[] = [];
  const output = Object.assign(new PassThrough(), { isTTY: true, columns: 40, rows: 20, fd });
  output.on('data', (d) => written.push(String(d)));
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    isRaw: false,
    setRawMode: () => input,
  });
  const backend = openTerminal({
    width: 8,
    height: 8,
    title: 'format',
    input: input as unknown as NodeJS.ReadStream,
    output: output as unknown as NodeJS.WriteStream,
  });
  try {
    const address = koffi.alloc('uint32_t', 64) as bigint;
    const pixels = new Uint32Array(koffi.view(address, 256));
    pixels.fill(word);
    backend.present({
      address,
      pixels,
      width: 8,
      height: 8,
      pitch: 32,
      ...(format === undefined ? {} : { format }),
    });
    await new Promise((resolve) => setImmediate(resolve));
    return written.join('');
  } finally {
    backend.close();
  }
}

describe('terminal back end and the pixel format', () => {
  it('colours cells from argb8888 words, the default', async () => {
    expect(await drawn(0xffffb300, undefined)).toContain(ORANGE_FG);
    expect(await drawn(0xffffb300, 'argb8888')).toContain(ORANGE_FG);
  });

  it('colours cells from abgr8888 words with red and blue where they belong', async () => {
    const abgr = await drawn(0xff00b3ff, 'abgr8888');
    expect(abgr).toContain(ORANGE_FG);
    expect(abgr).not.toContain(SWAPPED_FG);
    // The same words read as argb8888 are another colour: the format is what tells them apart.
    expect(await drawn(0xff00b3ff, 'argb8888')).toContain(SWAPPED_FG);
  });
});
