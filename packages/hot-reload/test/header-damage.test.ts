/**
 * Issue 11, case 5: bytes of the region's header overwritten by another process (here: this test,
 * writing the shared-memory file in /dev/shm as any process of the user can). The owner notices,
 * says so once, writes the header back, and the next save still reloads. Before the fix the
 * running renderer went on, the next save failed in the standby with BadMagicError forever, and
 * nobody said why. Real renderer processes (and a real worker thread), a real /dev/shm file.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { frontPixel, type Owner, openOwner, type Recorded, record } from './fixtures/owners.js';
import {
  createWorkspace,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;
const GREEN = 0xff00ff00;
/** The header's identity (magic … reserved: 64 bytes) and its `retired` word (offset 72). */
const IDENTITY_BYTES = 64;
const RETIRED_OFFSET = 72;

/** Writes `bytes` at `offset` of the region's file, from outside the owner's mapping. */
function scribble(owner: Owner, offset: number, bytes: Uint8Array): void {
  const fd = openSync(`/dev/shm${owner.region.name}`, 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

/** 64 random bytes that differ from the header in its first word (the magic), at least. */
const randomIdentity = (): Uint8Array => {
  const b = randomBytes(IDENTITY_BYTES);
  b[0] = b[0]! ^ 0x80;
  return b;
};

const headerRepairs = (seen: Recorded): number =>
  seen.repairs.flat().filter((r) => r.part === 'header').length;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

async function start(hot = true): Promise<{ owner: Owner; ws: TempWorkspace; seen: Recorded }> {
  ws = createWorkspace(rendererSource(RED));
  owner = await openOwner(ws, { hot });
  const seen = record(owner);
  await until('the first frame', () => frontPixel(owner!) === RED);
  return { owner, ws, seen };
}

describe('a damaged region header (issue 11, case 5)', () => {
  it('is reported once and written back; the next save reloads and the new renderer takes input', async () => {
    const { owner, ws, seen } = await start();
    scribble(owner, 0, randomIdentity());
    await until('the header repair', () => headerRepairs(seen) > 0);
    expect(seen.repairs.flat().find((r) => r.part === 'header')!.message).toMatch(
      /header .* was overwritten \(magic/,
    );
    ws.writeRenderer(rendererSource(GREEN));
    await until('the next save on screen', () => frontPixel(owner) === GREEN);
    owner.input.send(11);
    await until('the new renderer to take input', () => owner.memory.last.get() === 11);
    // The owner checks every second: two more checks find nothing more to say.
    await sleep(2500);
    expect(headerRepairs(seen)).toBe(1);
    expect(seen.crashes).toEqual([]);
  });

  it('damaged right before a save: the hand-over repairs it first, and the save lands', async () => {
    const { owner, ws, seen } = await start();
    scribble(owner, 0, randomIdentity());
    ws.writeRenderer(rendererSource(GREEN));
    await until('the save on screen', () => frontPixel(owner) === GREEN);
    owner.input.send(12);
    await until('the new renderer to take input', () => owner.memory.last.get() === 12);
    expect(headerRepairs(seen)).toBe(1);
  });

  it("its retired word overwritten (which closes every renderer's channels): reported, written back, and the next save takes input", async () => {
    const { owner, ws, seen } = await start();
    const retired = Buffer.alloc(4);
    retired.writeInt32LE(0x7fff0000);
    scribble(owner, RETIRED_OFFSET, retired);
    await until('the header repair', () => headerRepairs(seen) > 0);
    ws.writeRenderer(rendererSource(GREEN));
    await until('the next save on screen', () => frontPixel(owner) === GREEN);
    owner.input.send(13);
    await until('the new renderer to take input', () => owner.memory.last.get() === 13);
    expect(headerRepairs(seen)).toBe(1);
  });

  it('without hot reload: reported once and written back; the renderer keeps taking input', async () => {
    const { owner, seen } = await start(false);
    scribble(owner, 0, randomIdentity());
    await until('the header repair', () => headerRepairs(seen) > 0);
    owner.input.send(14);
    await until('the renderer to take input', () => owner.memory.last.get() === 14);
    await sleep(2500);
    expect(headerRepairs(seen)).toBe(1);
  });
});
