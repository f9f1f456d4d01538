/**
 * Library bugs found by the stress and security work, all fixed since: each test is the
 * regression test of one, and fails if its fix is undone. Each comment names the bug as it
 * was, the part of the library it lived in, and what the fix is now.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineState, struct, u8, u16 } from '../../src/index.js';
import { REGION_ALIGNMENT } from '../../src/memory/header.js';
import { createRegion, newRegionName } from '../../src/memory/index.js';
import type { Cell } from '../../src/schema/index.js';
import { sharedWord, storeAndWake } from '../../src/sync/index.js';
import { startOwnerChild } from './child.js';
import { makeEntry, sleep, until } from './fixtures.js';
import { readProc } from './procs.js';
import { StressSession } from './session.js';
import { Fault } from './stress-state.js';

describe('library bugs found by the fault suite, now fixed (regression tests)', () => {
  // BUG 1 — sharedWord() (src/sync/wait.ts) made `new Int32Array(buffer)` over the WHOLE
  // mapping, which throws "RangeError: byte length of Int32Array should be a multiple of 4" when
  // the region's size is not a multiple of 4. A state region ended with its layout signature (any
  // length), so owner() failed for about 3 states in 4 (the doorbell's sharedWord). Fixed twice:
  // sharedWord's array covers only the whole words (`Math.floor(buffer.byteLength / 4)`), and
  // headerLayout rounds a state region's size up to REGION_ALIGNMENT. One test for each.
  it('sharedWord() works over a region whose size is not a multiple of 4 (BUG 1)', () => {
    for (const size of [4097, 4098, 4099]) {
      const region = createRegion(newRegionName(), size);
      try {
        expect(region.buffer.byteLength).toBe(size);
        // The last whole word of the mapping, its waiter count just before it.
        const word = sharedWord(region.buffer, region.address, 4092, 4088);
        expect(word.i32.length).toBe(1024);
        expect(storeAndWake(word, size)).toBe(false);
        expect(new DataView(region.buffer).getInt32(4092, true)).toBe(size);
      } finally {
        region.unlink();
        region.close();
      }
    }
  });

  it('owner() works whatever the length of the layout signature (BUG 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotshm-bug-'));
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, 'export async function main() {}\n');
    try {
      // One more character of field name each time: the signature ends at every offset modulo 4.
      for (const [i, extra] of ['', '_', '__', '___'].entries()) {
        const State = defineState({
          name: 'bug-1',
          reloadable: entry,
          args: struct({ n: u16 }),
          fields: () => ({ [`value${extra}`]: u8 }),
        });
        const state = await State.owner({ n: 1 }, { hot: false, log: false });
        try {
          expect(state.region.buffer.byteLength % REGION_ALIGNMENT).toBe(0);
          const cell = (state as unknown as Record<string, Cell<number>>)[`value${extra}`];
          cell?.set(40 + i);
          expect(cell?.get()).toBe(40 + i);
        } finally {
          await state.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // BUG 2 — the host's reload() promised "a rebuild and reload", but the build loop skipped a
  // rebuild with the same bytes while the current renderer was alive, so an owner could not
  // replace a renderer stuck in an endless loop without a source change. Fixed: reload()
  // schedules its build with the reason 'restart', which bypasses the same-output skip.
  it('supervisor.reload() replaces a renderer stuck in an endless loop (BUG 2)', async () => {
    const { dir, entry } = makeEntry(1);
    const session = await StressSession.start(entry);
    try {
      const stuck = await session.healthy(30_000);
      session.state.faults.send(Fault.Loop);
      for (let f = -1; f !== session.frameCount(); ) {
        f = session.frameCount();
        await sleep(300);
      }
      session.state.host.reload();
      const replaced = await until(
        () => session.rendererPid !== stuck && session.rendererPid !== undefined,
        8_000,
        20,
      );
      expect(replaced).toBe(true);
    } finally {
      await session.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // BUG 3 — the hot host's temporary folder (the runner and the bundles) was removed only by
  // close(), so an owner killed by SIGKILL left it behind for good. Fixed: it is named
  // `hotshm-<pid>-XXXXXX`, and each host's start removes the folders whose owner pid is dead
  // (the host's temporary-folder module, removeStaleTempDirs).
  it('a killed owner’s supervisor folder is removed by the next start (BUG 3)', async () => {
    const { dir, entry } = makeEntry(1);
    try {
      const child = startOwnerChild('target', entry);
      const ready = await child.next('ready');
      expect(ready).toBeDefined();
      const runner = readProc(Number(ready!.renderer))?.command ?? '';
      const folder = /(\/tmp\/hotshm-[A-Za-z0-9-]+)\/lib\/runner\.mjs/.exec(runner)?.[1];
      expect(folder).toBeDefined();
      child.proc.kill('SIGKILL');
      await child.exited;
      const next = startOwnerChild('clean', entry);
      await next.exited;
      expect(existsSync(folder!)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // BUG 4 — the renderer process (RendererProcess): when spawn failed (EMFILE at the
  // file-descriptor limit) its constructor threw before attaching its 'error' listener, and the
  // ChildProcess's unhandled 'error' event killed the OWNER ("Unhandled 'error' event … spawn
  // EMFILE"); a spawn failing inside activate() was then never retried. Fixed: the listener is
  // attached right after spawn(), and a failed spawn is retried with the crash back-off, so the
  // renderer comes back once descriptors are free again.
  it('an owner survives reaching the file-descriptor limit while a renderer restarts (BUG 4)', async () => {
    const { dir, entry } = makeEntry(1);
    try {
      const child = startOwnerChild('fd-limit', entry, ['prlimit', '--nofile=512:512']);
      const exit = await child.exited;
      expect(exit.stderr).not.toMatch(/Unhandled 'error' event/);
      expect(child.messages.find((m) => m.t === 'recovered')).toMatchObject({ ok: true });
      expect(exit.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
