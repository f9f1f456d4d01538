/**
 * Library bugs found by the stress and security work, each as a test that fails today. They are
 * marked `it.fails` so the suite stays green until the fix lands; once it does, the test starts
 * failing as a reminder: change `it.fails` to `it`. Each names the file, the cause and the fix.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineState, struct, u8, u16 } from '../../src/index.js';
import { startOwnerChild } from './child.js';
import { makeEntry, sleep, until } from './fixtures.js';
import { readProc } from './procs.js';
import { StressSession } from './session.js';
import { Fault } from './stress-state.js';

describe('library bugs found by the fault suite, now fixed (regression tests)', () => {
  // BUG 1 (fixed meanwhile in src/sync/wait.ts; kept as a regression test) — sharedWord(): `new Int32Array(buffer)` over the WHOLE mapping
  // throws "RangeError: byte length of Int32Array should be a multiple of 4" when the region's
  // size is not a multiple of 4. A state region ends with its layout signature (any length), so
  // owner() fails for roughly 3 states in 4 (createBindContext → sharedWord for the doorbell).
  // Fix: `new Int32Array(buffer, 0, Math.floor(buffer.byteLength / 4))` in sharedWord, and/or
  // round `totalSize` up to a multiple of 64 in headerLayout (src/memory/header.ts).
  it('owner() works whatever the length of the layout signature (BUG 1, fixed: regression test)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotshm-bug-'));
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, 'export async function main() {}\n');
    try {
      for (const extra of ['', '_', '__', '___']) {
        const State = defineState({
          name: 'bug-1',
          reloadable: entry,
          args: struct({ n: u16 }),
          fields: () => ({ [`value${extra}`]: u8 }),
        });
        const state = await State.owner({ n: 1 }, { hot: false, log: false });
        await state.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // BUG 2 — src/supervisor/supervisor.ts, runBuilds(): reload() "forces a rebuild and reload",
  // but a rebuild with the same bytes is skipped when the current renderer is alive
  // (`out.hash === this.lastGood.hash && this.current?.alive && change.reason !== 'restart'`),
  // so an owner cannot replace a renderer stuck in an endless loop without a source change.
  // Fix: give reload() its own reason (e.g. 'manual', or a `force` flag on the pending change)
  // that bypasses the same-hash skip, as 'restart' does.
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

  // BUG 3 — src/supervisor/supervisor.ts, constructor: the supervisor's temporary folder
  // (/tmp/hotshm-XXXXXX: runner.mjs and bundles) is removed only by close(). An owner killed by
  // SIGKILL or SIGTERM leaves it behind for good (the regions of dead owners are cleaned at the
  // next start; these folders never are). Fix: name it `hotshm-<pid>-XXXXXX` and, at start,
  // remove the folders whose pid is dead (as removeStaleRegions does), and/or remove it from the
  // same exit/signal hook that unlinks the region (src/memory/lifetime.ts).
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

  // BUG 4 — src/supervisor/child.ts, RendererProcess constructor: when spawn fails (EMFILE: the
  // file-descriptor limit is reached), `this.proc.pid` is undefined and the constructor throws
  // BEFORE `this.proc.on('error', …)` is attached; the ChildProcess then emits 'error' with no
  // listener and the OWNER PROCESS DIES ("Unhandled 'error' event … spawn /usr/bin/node EMFILE").
  // Fix: attach the 'error' listener right after spawn(), before the pid check. Then, in
  // supervisor.ts, a spawn that throws inside activate() ends in queueActivation's catch as a
  // warning and no restart is ever scheduled: catch it in activate()/handleCrash and retry with
  // the back-off, so the renderer comes back once descriptors are free again.
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

void readdirSync;
