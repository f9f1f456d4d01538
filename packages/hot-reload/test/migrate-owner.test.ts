/**
 * A save that changes the state's definition, on real processes: the owner (this process) keeps
 * running, the region migrates to the new layout, the values and the owner's own handles carry
 * over, and the new renderer runs on the new region. A save that removes a field the owner's code
 * uses is refused, naming it, and the running renderer stays.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { MigrateEvent } from '../src/index.js';
import { frontPixel, type Owner, openOwner } from './fixtures/owners.js';
import {
  createWorkspace,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

function editState(ws: TempWorkspace, from: string, to: string): void {
  const text = readFileSync(ws.statePath, 'utf8');
  if (!text.includes(from)) throw new Error(`the state source has no ${from}`);
  writeFileSync(ws.statePath, text.replace(from, to));
}

describe('a save of the state definition', () => {
  it('migrates the region: same owner, values and handles carried, the new renderer on the new layout', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const last = owner.memory.last;
    const input = owner.input;
    input.send(7);
    await until('the renderer to take the message', () => last.get() === 7);
    const oldRegion = owner.region.name;
    const migrated = new Promise<MigrateEvent>((r) => owner!.host.once('migrate', r));
    editState(
      ws,
      'memory: struct({ starts: u32, last: u32 })',
      'memory: struct({ starts: u32, last: u32, extra: u32 })',
    );
    const e = await migrated;
    expect(e.reason).toBe('layout');
    expect(e.from).toBe(oldRegion);
    expect(e.to).toBe(owner.region.name);
    expect(e.summary).toContain('added memory.extra');
    // The owner's captured handles read and write the new region.
    expect(last.get()).toBe(7);
    await until(
      'the new renderer to start on the new region',
      () => owner!.memory.starts.get() === 2,
    );
    input.send(11);
    await until('the new renderer to take a message', () => last.get() === 11);
    expect(frontPixel(owner)).toBe(RED);
  });

  it('is refused when it removes a field the owner uses: the message names it, the renderer stays', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const last = owner.memory.last;
    expect(last.get()).toBe(0);
    const pid = owner.host.rendererPid;
    const refused = new Promise<{ message: string }>((r) => owner!.host.once('layout-change', r));
    editState(ws, 'memory: struct({ starts: u32, last: u32 })', 'memory: struct({ starts: u32 })');
    // The new renderer's code must not use `last` either, or it would not build against the state.
    ws.writeRenderer(rendererSource(RED).replace('s.memory.last.set(m);', ''));
    const e = await refused;
    expect(e.message).toContain('memory.last');
    expect(e.message).toContain('removes it');
    expect(owner.host.rendererPid).toBe(pid);
    owner.input.send(3);
    await until('the old renderer to go on taking messages', () => last.get() === 3);
  });

  it('new arguments at run time (a resize) migrate the framebuffer through the same path', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const fb = owner.framebuffer;
    const migrated = new Promise<MigrateEvent>((r) => owner!.host.once('migrate', r));
    await (owner as unknown as { resize(a: unknown): Promise<unknown> }).resize({
      width: 16,
      height: 4,
    });
    const e = await migrated;
    expect(e.reason).toBe('resize');
    expect(e.summary).toContain('framebuffer(8×4) → framebuffer(16×4)');
    expect([fb.width, fb.height]).toEqual([16, 4]);
    expect(owner.args).toEqual({ width: 16, height: 4 });
    await until('the new renderer on the new size', () => owner!.memory.starts.get() === 2);
    expect(frontPixel(owner)).toBe(RED);
  });

  it('restarts the renderer it was for when that renderer is killed mid-migration: the state migrates, a renderer runs', async () => {
    // The old renderer takes 150 ms to end once stopped, so the kill lands while the migration
    // waits for it: the new region exists, the old one is not gone. The failed start used to
    // fall back on that old renderer, which the migration was ending: nothing ran afterwards.
    const slow = rendererSource(RED, {
      onStart: "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 150));",
    });
    ws = createWorkspace(slow);
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const host = owner.host;
    if (host.mode !== 'process') throw new Error('expected a process host');
    const incoming = await until('a warm standby', () => host.standbyPid);
    const from = owner.region.name.slice(1);
    const mine = (): string[] =>
      readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${process.pid}-`));
    const migrations: MigrateEvent[] = [];
    host.on('migrate', (m) => migrations.push(m));
    editState(
      ws,
      'memory: struct({ starts: u32, last: u32 })',
      'memory: struct({ starts: u32, last: u32, extra: u32 })',
    );
    await until('the new region', () => mine().length >= 2 && mine().includes(from), 20_000);
    process.kill(incoming, 'SIGKILL');
    const e = await until('the migration, after a restart', () => migrations[0], 20_000);
    expect(e.to).toBe(owner.region.name);
    await until(
      'a renderer on the new region',
      () => host.rendererPid !== undefined && host.rendererPid !== incoming,
    );
    owner.input.send(5);
    await until('the renderer to take a message', () => owner!.memory.last.get() === 5);
  });
});
