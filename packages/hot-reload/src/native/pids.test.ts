/** The stale-by-pid rule on real pids (this process, an ended one) and real files. */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadPid } from '../../test/memory-helpers.js';
import { isProcessAlive, removeStaleByPid, staleByPid } from './pids.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('stale by pid', () => {
  it('isProcessAlive: this process yes, an ended one no, nonsense no', async () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(await deadPid())).toBe(false);
    expect(isProcessAlive(0)).toBe(false); // kill(0, 0) would signal our own group
    expect(isProcessAlive(-1)).toBe(false);
    expect(isProcessAlive(1.5)).toBe(false);
  });

  it('stale: names a pid and every pid it names has ended; naming none is never stale', async () => {
    const dead = await deadPid();
    const live = process.pid;
    const items = [
      { id: 'dead', pids: [dead] },
      { id: 'live', pids: [live] },
      { id: 'dead and live', pids: [dead, live] },
      { id: 'dead and unknown', pids: [dead, undefined] },
      { id: 'none', pids: [] },
      { id: 'unknown', pids: [undefined] },
    ];
    expect(staleByPid(items, (i) => i.pids).map((i) => i.id)).toEqual(['dead', 'dead and unknown']);
    expect(staleByPid([dead, live, undefined], (p) => p)).toEqual([dead]);
    // The liveness check is the caller's to replace (pure tests of the callers).
    expect(
      staleByPid(
        [1, 2, 3],
        (p) => p,
        (p) => p === 2,
      ),
    ).toEqual([1, 3]);
  });

  it("removes a folder's files and folders named after ended processes, and only those", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotshm-pids-test-'));
    dirs.push(dir);
    const dead = await deadPid();
    const names = {
      deadFolder: `thing-${dead}-abc`,
      deadFile: `thing-${dead}.log`,
      liveFile: `thing-${process.pid}.log`,
      other: `other-${dead}.log`,
      zero: 'thing-0.log',
    };
    mkdirSync(join(dir, names.deadFolder));
    writeFileSync(join(dir, names.deadFolder, 'inside'), 'x');
    for (const n of [names.deadFile, names.liveFile, names.other, names.zero]) {
      writeFileSync(join(dir, n), 'x');
    }
    const removed = removeStaleByPid(dir, /^thing-(\d+)(?:-abc|\.log)$/g);
    expect(removed.sort()).toEqual([names.deadFile, names.deadFolder].sort());
    expect(existsSync(join(dir, names.deadFolder))).toBe(false);
    expect(existsSync(join(dir, names.deadFile))).toBe(false);
    for (const n of [names.liveFile, names.other, names.zero]) {
      expect(existsSync(join(dir, n))).toBe(true);
    }
    expect(removeStaleByPid(join(dir, 'missing'), /^(\d+)$/)).toEqual([]);
  });
});
