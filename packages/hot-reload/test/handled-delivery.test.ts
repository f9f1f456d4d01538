/**
 * Issue 20 item 4 on real processes: a channel with `delivery: 'handled'` hands the message a
 * renderer was handling when it crashed to the next renderer (the host releases a gone renderer's
 * claims on every exit), and a message that crashes two renderers is dropped and reported instead
 * of crash-looping the app.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type Owner, openOwner, record } from './fixtures/owners.js';
import { createWorkspace, type TempWorkspace, until } from './fixtures/workspace.js';

const STATE = `
import { channel, defineState, framebuffer, struct, u32 } from '@hotshm/hot-reload';
export const State = defineState({
  name: 'handled-delivery-test',
  reloadable: new URL('./renderer.ts', import.meta.url),
  args: struct({ width: u32, height: u32 }),
  fields: ({ width, height }) => ({
    framebuffer: framebuffer(width, height),
    input: channel(u32, { capacity: 64, delivery: 'handled' }),
    memory: struct({ starts: u32, last: u32, seen: u32 }),
  }),
});
`;

/** Counts how often message 13 was handled; `crashOn` says which start throws on it. */
const renderer = (crashOn: string): string => `
import { State } from './state.ts';
export async function main() {
  const s = State.reloadable();
  s.memory.starts.set(s.memory.starts.get() + 1);
  s.framebuffer.back().fill(0xff00ff00);
  s.framebuffer.present();
  for await (const m of s.input) {
    if (m === 13) {
      s.memory.seen.set(s.memory.seen.get() + 1);
      if (${crashOn}) throw new Error('crash while handling 13');
    }
    s.memory.last.set(m);
  }
}
`;

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

type Memory = { starts: { get(): number }; last: { get(): number }; seen: { get(): number } };

describe("handled delivery across a renderer's crash", () => {
  it('the message a renderer crashed on is handled again by the next renderer, then the rest', async () => {
    ws = createWorkspace(renderer('s.memory.starts.get() === 1'));
    writeFileSync(ws.statePath, STATE);
    owner = await openOwner(ws);
    const seen = record(owner);
    const memory = owner.memory as unknown as Memory;
    await until('the first renderer', () => memory.starts.get() === 1);
    owner.input.send(13);
    owner.input.send(14);
    await until('the restarted renderer to handle the rest', () => memory.last.get() === 14);
    expect(seen.crashes).toHaveLength(1);
    expect(memory.starts.get()).toBe(2);
    // Once by the renderer that crashed on it, once more by the next: not lost with the first.
    expect(memory.seen.get()).toBe(2);
  });

  it('a message that crashes every renderer is dropped after two crashes, reported, and the app goes on', async () => {
    ws = createWorkspace(renderer('true'));
    writeFileSync(ws.statePath, STATE);
    owner = await openOwner(ws);
    const seen = record(owner);
    const memory = owner.memory as unknown as Memory;
    await until('the first renderer', () => memory.starts.get() === 1);
    owner.input.send(13);
    owner.input.send(14);
    await until('the message after the poison one', () => memory.last.get() === 14);
    expect(memory.seen.get()).toBe(2);
    expect(seen.crashes).toHaveLength(2);
    expect(seen.warnings.join('\n')).toMatch(/input: .*13/);
  });
});
