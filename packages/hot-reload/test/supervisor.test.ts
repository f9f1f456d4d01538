import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { frontPixel, type Owner, openOwner } from './fixtures/owners.js';
import {
  createWorkspace,
  isAlive,
  processesOwnedBy,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;

/** Live processes whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .flatMap((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'latin1');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return fields[0] !== 'Z' && Number(fields[1]) === pid ? [Number(n)] : [];
      } catch {
        return [];
      }
    });
}
const GREEN = 0xff00ff00;
const BLUE = 0xff0000ff;

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

describe('hot mode', () => {
  it('shows the new frame after an edit, from a new renderer process', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const first = owner.host.rendererPid;
    expect(isAlive(first)).toBe(true);
    const reload = new Promise((r) => owner!.host.once('reload', r));
    ws.writeRenderer(rendererSource(GREEN));
    await reload;
    await until('the edited frame', () => frontPixel(owner!) === GREEN);
    const second = owner.host.rendererPid;
    expect(second).not.toBe(first);
    await until('the old renderer to exit', () => !isAlive(first));
  });

  it('keeps the old renderer through a syntax error and replaces it after the fix', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const pid = owner.host.rendererPid;
    const failed = new Promise<{ messages: readonly string[]; locations: readonly string[] }>((r) =>
      owner!.host.once('build-error', r),
    );
    ws.writeRenderer(`${rendererSource(GREEN)}\nexport const broken = ;\n`);
    const err = await failed;
    expect(err.locations[0]).toMatch(/renderer\.ts:\d+:\d+/);
    expect(err.messages.join('\n')).toContain('Unexpected');
    expect(owner.host.rendererPid).toBe(pid);
    expect(isAlive(pid)).toBe(true);
    expect(frontPixel(owner)).toBe(RED);
    // The old renderer still works: it takes messages.
    owner.input.send(7);
    await until('the old renderer to take a message', () => owner!.memory.last.get() === 7);
    ws.writeRenderer(rendererSource(BLUE));
    await until('the fixed frame', () => frontPixel(owner!) === BLUE);
    // Its first frame can land before the owner has read its "ready": wait for that too.
    await until('the owner to count the new renderer', () => owner!.host.rendererPid !== pid);
  });

  it('reports a renderer that throws, keeps the last frame, and runs again after the next change', async () => {
    ws = createWorkspace(
      rendererSource(RED, { onMessage: "if (m === 13) throw new Error('boom on 13');" }),
    );
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const crashes: Array<{ code: number | null; stderr: string; willRestart: boolean }> = [];
    owner.host.on('crash', (c) => crashes.push(c));
    owner.input.send(13);
    await until('the crash report', () => crashes.length > 0);
    expect(crashes[0]!.code).not.toBe(0);
    expect(crashes[0]!.stderr).toContain('boom on 13');
    expect(frontPixel(owner)).toBe(RED);
    ws.writeRenderer(rendererSource(GREEN));
    await until('a renderer after the change', () => frontPixel(owner!) === GREEN);
    // Its first frame can land before the owner has read its "ready": wait for that too.
    await until('the owner to count it as its renderer', () => isAlive(owner!.host.rendererPid));
  });

  it('does not restart a renderer that crashes on start in a loop', async () => {
    ws = createWorkspace(rendererSource(RED, { onStart: "throw new Error('cannot start');" }));
    const crashes: Array<{ willRestart: boolean; message: string }> = [];
    const { State } = (await import(ws.statePath)) as typeof import('./fixtures/state-shape.js');
    owner = await State.owner(
      { width: 8, height: 4 },
      { hot: true, entry: ws.rendererPath, log: false, host: { quickCrashMs: 60_000 } },
    );
    owner.host.on('crash', (c) => crashes.push(c));
    // Three quick crashes in a row, then it waits for a change.
    await until('the supervisor to give up', () => crashes.some((c) => !c.willRestart), 30_000);
    expect(crashes.at(-1)!.message).toContain('cannot start');
    // Restarted after the first two, not after the third (maxQuickCrashes is 3); and nothing
    // more happens until a change: the host is idle with no restart pending.
    expect(crashes.map((c) => c.willRestart)).toEqual([true, true, false]);
    await owner.host.idle();
    expect(crashes).toHaveLength(3);
    ws.writeRenderer(rendererSource(GREEN));
    await until('a working renderer after the fix', () => frontPixel(owner!) === GREEN);
  });

  it('keeps state in a field across 20 reloads', async () => {
    ws = createWorkspace(rendererSource(0xff000001));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === 0xff000001);
    const renderers = new Set<number>([owner.host.rendererPid!]);
    owner.host.on('reload', (e) => renderers.add(e.pid));
    for (let i = 2; i <= 21; i++) {
      ws.writeRenderer(rendererSource(0xff000000 + i));
      await until(`reload ${i}`, () => frontPixel(owner!) === 0xff000000 + i);
    }
    expect(owner.memory.starts.get()).toBe(21);
    // A frame can land before the owner has read its renderer's "ready": wait for the events.
    await until('20 reload events', () => renderers.size === 21);
    const live = owner.host.rendererPid!;
    expect(renderers.has(live)).toBe(true);
    // No renderer of the 20 replaced ones is left behind: every renderer that ran is gone but the
    // live one, and what this owner still runs is that renderer and its warm standbys.
    await until('the replaced renderers to exit', () =>
      [...renderers].every((pid) => pid === live || !isAlive(pid)),
    );
    const owned = processesOwnedBy(process.pid);
    expect(owned).toContain(live);
    expect(owned.length).toBeLessThanOrEqual(3);
  });

  it('migrates the region when the state definition changes instead of running on a mismatched layout', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws);
    await until('the first frame', () => frontPixel(owner!) === RED);
    const migrated = new Promise<{ summary: string; to: string }>((r) =>
      owner!.host.once('migrate', r),
    );
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(
      ws.statePath,
      readFileSync(ws.statePath, 'utf8').replace('last: u32', 'last: u32, extra: u32'),
    );
    const e = await migrated;
    expect(e.summary).toMatch(/added memory\.extra/);
    expect(e.to).toBe(owner.region.name);
    expect(frontPixel(owner)).toBe(RED);
  });
});

describe('no-hot mode', () => {
  it('renders the same frame through a worker thread, with no child process', async () => {
    ws = createWorkspace(rendererSource(RED));
    owner = await openOwner(ws, { hot: false });
    await until('the first frame', () => frontPixel(owner!) === RED);
    expect(owner.host.rendererPid).toBe(process.pid);
    expect(owner.host.mode).toBe('worker');
    // Not even esbuild: it is stopped once the worker's program is built.
    expect(childrenOf(process.pid)).toEqual([]);
    owner.input.send(42);
    await until('the worker to take a message', () => owner!.memory.last.get() === 42);
  });
});

describe('close()', () => {
  // Run in a process of its own, where nothing but the owner holds timers or handles.
  for (const mode of ['hot', 'worker'] as const) {
    it(`leaves nothing that keeps the owner's process alive (${mode})`, async () => {
      ws = createWorkspace(rendererSource(RED));
      const script = join(__dirname, 'fixtures', 'close-child.ts');
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', script, ws.statePath, ws.rendererPath, mode],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise((r) => child.on('exit', r));
      expect(code).toBe(0);
      const active = JSON.parse(out.trim().split('\n').at(-1) ?? '[]') as string[];
      // What may remain: stdio pipes and the Immediate of this very tick; no timer, no process.
      expect(active.filter((r) => !['PipeWrap', 'TTYWrap', 'Immediate'].includes(r))).toEqual([]);
    });
  }
});

describe('owner death', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child?.exitCode === null) child.kill('SIGKILL');
  });

  it('takes its renderers with it when killed with SIGKILL, and the next start removes its region', async () => {
    ws = createWorkspace(rendererSource(RED));
    const script = join(__dirname, 'fixtures', 'owner-child.ts');
    child = spawn(process.execPath, ['--import', 'tsx', script, ws.statePath, ws.rendererPath], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const info = await until(
      'the owner to report its pids',
      () => {
        const line = out.split('\n').find((l) => l.startsWith('{'));
        return line
          ? (JSON.parse(line) as { region: string; renderer: number; standby: number })
          : undefined;
      },
      60_000,
    );
    expect(isAlive(info.renderer)).toBe(true);
    await until('the standby', () => isAlive(info.standby));
    const shmName = info.region.slice(1);
    expect(existsSync(`/dev/shm/${shmName}`)).toBe(true);
    child.kill('SIGKILL');
    await until(
      'renderer and standby to exit',
      () => !isAlive(info.renderer) && !isAlive(info.standby),
      5_000,
    );
    // SIGKILL leaves the region; the next owner's start removes it (and only dead owners'). An owner
    // of another test file starting meanwhile may have removed it first (its stale scan sees the
    // same dead pid), so whether it is still there at this point is not ours to assert.
    owner = await openOwner(ws);
    expect(readdirSync('/dev/shm')).not.toContain(shmName);
    expect(readdirSync('/dev/shm')).toContain(owner.region.name.slice(1));
  });
});
