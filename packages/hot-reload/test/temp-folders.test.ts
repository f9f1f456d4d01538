/**
 * Issue 11, case 8: the host's temporary folder (`/tmp/hotshm-<owner pid>-XXXXXX`: the library
 * build, the runner, bundles) never outlives its owner in a way JavaScript can see — SIGINT,
 * SIGTERM, an uncaught exception, process.exit() — in either mode; and what a SIGKILL leaves is
 * removed by the next owner's start, hot or not, while folders of live owners are left alone.
 * Real owner processes, the real /tmp.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Owner, openOwner, startOwnerProcess, tempDirsOf } from './fixtures/owners.js';
import {
  createWorkspace,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
const made: string[] = [];
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const regionsOf = (pid: number): string[] =>
  spawnSync('ls', ['/dev/shm'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((n) => n.startsWith(`hotshm-${pid}-`));

describe('temporary folders (issue 11, case 8)', () => {
  const endings = [
    ['hot', 'SIGINT'],
    ['hot', 'SIGTERM'],
    ['hot', 'throw'],
    ['nohot', 'SIGTERM'],
    ['nohot', 'throw'],
    ['nohot', 'exit'],
  ] as const;
  for (const [mode, ending] of endings) {
    const how =
      ending === 'throw'
        ? 'an uncaught exception'
        : ending === 'exit'
          ? 'process.exit() without close()'
          : ending;
    it(`${mode === 'hot' ? 'hot' : 'no-hot'} owner ended by ${how}: its folder and region are gone`, async () => {
      ws = createWorkspace(rendererSource(RED));
      const child = startOwnerProcess(ws, mode);
      try {
        await child.ready;
        // The folder exists while the owner runs (so its absence below means something).
        expect(tempDirsOf(child.pid)).toHaveLength(1);
        if (ending === 'throw' || ending === 'exit') child.command(ending);
        else child.proc.kill(ending);
        const exit = await child.exited;
        if (ending === 'throw') expect(exit.code, exit.stderr).toBe(1);
        else if (ending === 'exit') expect(exit.code, exit.stderr).toBe(0);
        else expect(exit.signal, exit.stderr).toBe(ending);
        expect(tempDirsOf(child.pid)).toEqual([]);
        expect(regionsOf(child.pid)).toEqual([]);
      } finally {
        child.proc.kill('SIGKILL');
      }
    });
  }

  for (const hot of [true, false]) {
    it(`a ${hot ? 'hot' : 'no-hot'} owner's start removes the folders of dead owners, and only those`, async () => {
      // A pid that was alive a moment ago and is not any more, and one that is alive.
      const gone = spawnSync('true').pid!;
      const alive = spawn('sleep', ['60'], { stdio: 'ignore' });
      try {
        const stale = join(tmpdir(), `hotshm-${gone}-Zz9stl`);
        const live = join(tmpdir(), `hotshm-${alive.pid}-Zz9liv`);
        for (const dir of [stale, live]) {
          made.push(dir);
          mkdirSync(join(dir, 'lib'), { recursive: true });
          writeFileSync(join(dir, 'lib', 'runner.mjs'), '// left by an owner\n');
        }
        ws = createWorkspace(rendererSource(RED));
        owner = await openOwner(ws, { hot });
        expect(existsSync(stale)).toBe(false);
        expect(existsSync(live)).toBe(true);
        // And its own folder is there until it closes.
        expect(tempDirsOf(process.pid)).toHaveLength(1);
        await owner.close();
        owner = undefined;
        await until('its own folder to be removed', () => tempDirsOf(process.pid).length === 0);
      } finally {
        alive.kill('SIGKILL');
      }
    });
  }
});
