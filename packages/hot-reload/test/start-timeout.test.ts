/**
 * Issue 11, case 2: a save whose top level never returns (`for (;;) {}`). The new renderer must
 * not freeze the app: the old renderer keeps presenting (a renderer begins its epoch only when it
 * has its state), the stuck one is killed after `startTimeoutMs` and reported as a start that
 * timed out, and a later save is applied — also before the deadline, when it supersedes the
 * stuck start. Real files, real renderer processes (or a real worker thread without hot reload).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RendererStartError } from '../src/exports/errors.js';
import { frontPixel, type Owner, openOwner, record } from './fixtures/owners.js';
import { createWorkspace, isAlive, type TempWorkspace, until } from './fixtures/workspace.js';

const RED = 0xffff0000;
const GREEN = 0xff00ff00;

/** Fills the frame with `base` at start and with `base + m` for every message m: live frames. */
function drawing(base: number, prelude = ''): string {
  return `
import { State } from './state.ts';
${prelude}
export async function main() {
  const s = State.reloadable();
  const draw = (c) => { s.framebuffer.back().fill(c); s.framebuffer.present(); };
  draw(0x${base.toString(16)});
  for await (const m of s.input) draw((0x${base.toString(16)} + m) >>> 0);
}
`;
}

/** A renderer whose top level writes its pid to `pidFile`, then spins forever. */
function stuckAtTopLevel(pidFile: string): string {
  return drawing(
    GREEN,
    `import { writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(pidFile)}, String(process.pid));
for (;;) {}`,
  );
}

const readPid = (file: string): number | undefined => {
  try {
    return Number(readFileSync(file, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
};

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

describe('a renderer stuck at its top level (issue 11, case 2)', () => {
  it('is killed after startTimeoutMs and reported; the old renderer keeps its frames coming; a later save is applied', async () => {
    ws = createWorkspace(drawing(RED));
    owner = await openOwner(ws, { host: { startTimeoutMs: 1500 } });
    const seen = record(owner);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const old = owner.host.rendererPid;
    const pidFile = join(ws.dir, 'stuck.pid');

    ws.writeRenderer(stuckAtTopLevel(pidFile));
    // Its pid in the file: it was handed over and its top level runs.
    const stuck = await until('the stuck renderer to spin', () => readPid(pidFile));

    // The old renderer still answers and its frames are the ones shown, while the new one spins
    // and after it was killed.
    owner.input.send(1);
    await until('a frame of the old renderer', () => frontPixel(owner!) === RED + 1);
    const crash = await until('the start to be reported', () => seen.crashes[0]);
    expect(crash.phase).toBe('start');
    expect(crash.pid).toBe(stuck);
    expect(crash.error).toBeInstanceOf(RendererStartError);
    expect((crash.error as RendererStartError).stage).toBe('timeout');
    expect(crash.message).toMatch(/1500 ms/);
    // Nothing to restart: the renderer it was to replace runs on.
    expect(crash.willRestart).toBe(false);
    await until('the stuck renderer to be gone', () => !isAlive(stuck));
    expect(owner.host.rendererPid).toBe(old);
    owner.input.send(2);
    await until('another frame of the old renderer', () => frontPixel(owner!) === RED + 2);

    ws.writeRenderer(drawing(GREEN));
    await until('the next save on screen', () => frontPixel(owner!) === GREEN);
    // Its first frame can be on screen a moment before the host has made it the live renderer.
    await until('the new renderer to be the live one', () => {
      const pid = owner!.host.rendererPid;
      return pid !== undefined && pid !== old;
    });
    owner.input.send(3);
    await until('a frame of the new renderer', () => frontPixel(owner!) === GREEN + 3);
  });

  it('gives way to a newer save without waiting for the deadline', async () => {
    ws = createWorkspace(drawing(RED));
    // A deadline the test never reaches: only superseding can replace the stuck start.
    owner = await openOwner(ws, { host: { startTimeoutMs: 600_000 } });
    const seen = record(owner);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const pidFile = join(ws.dir, 'stuck.pid');
    ws.writeRenderer(stuckAtTopLevel(pidFile));
    const stuck = await until('the stuck renderer to spin', () => readPid(pidFile));
    ws.writeRenderer(drawing(GREEN));
    await until('the newer save on screen', () => frontPixel(owner!) === GREEN);
    await until('the stuck renderer to be gone', () => !isAlive(stuck));
    // A start that gave way to a newer save is not a crash.
    expect(seen.crashes).toEqual([]);
  });

  it('without hot reload: owner() rejects with a RendererStartError of stage "timeout", and the process lives on', async () => {
    ws = createWorkspace(stuckAtTopLevel('/dev/null'));
    const failure = await openOwner(ws, {
      hot: false,
      host: { startTimeoutMs: 1000, graceMs: 200 },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure, 'owner() must reject').toBeInstanceOf(Error);
    expect((failure as Error).name, String(failure)).toBe('RendererStartError');
    expect(failure).toBeInstanceOf(RendererStartError);
    expect((failure as RendererStartError).stage).toBe('timeout');
    // The stuck worker was terminated: this process can open another owner right away.
    ws.writeRenderer(drawing(RED));
    owner = await openOwner(ws, { hot: false });
    await until('a frame from a working worker', () => frontPixel(owner!) === RED);
  });
});
