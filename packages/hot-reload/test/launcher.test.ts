/**
 * `hotshm dev` and `hotshm start` end to end, on real processes: the CLI as a user runs it, a
 * throwaway workspace whose owner, state and renderer the tests edit, real owners, renderers and
 * esbuild. What a user sees is asserted (the lines on stderr, the owner's own reports on stdout),
 * and what must be gone afterwards is looked for in /proc and /dev/shm.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type LauncherProcess, startLauncher, writeOwner } from './fixtures/launcher.js';
import {
  createWorkspace,
  isAlive,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';
import { regionsOf } from './stress/procs.js';

const GREEN = 0xff00ff00;
let ws: TempWorkspace | undefined;
let launcher: LauncherProcess | undefined;

afterEach(async () => {
  if (launcher && launcher.child.exitCode === null && launcher.child.signalCode === null) {
    const left = launcher.tree();
    launcher.child.kill('SIGKILL');
    await launcher.exited;
    for (const pid of left) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }
  launcher = undefined;
  ws?.remove();
  ws = undefined;
});

const ready = (l: Record<string, unknown>): boolean => l.ready === true;
const readyOf = (version: number) => (l: Record<string, unknown>) =>
  l.ready === true && l.version === version;

describe('hotshm dev', () => {
  it('runs the owner as its child, hot, with its arguments; an edit of the owner restarts it and hands the window over', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    const ownerPath = writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev', { args: ['--size', '8x4'] });
    const first = await launcher.line('the first owner', ready);
    expect(first).toMatchObject({
      ppid: launcher.pid,
      hot: true,
      restore: null,
      argv: ['--size', '8x4'],
      starts: 1,
    });
    expect(first.pid).not.toBe(launcher.pid);
    // Its renderers run on the library build the launcher made for it: the owner built none.
    const cmdline = readFileSync(`/proc/${first.renderer}/cmdline`, 'latin1').split('\0');
    expect(
      cmdline.some((arg) =>
        /[/\\]\.cache[/\\]hotshm-lib[/\\]lib-\d+-1[/\\]lib[/\\]runner\.mjs$/.test(arg),
      ),
    ).toBe(true);
    expect(launcher.stderr.some((l) => l.includes('restart'))).toBe(false);

    const from = launcher.stderr.length;
    writeOwner(ws, { version: 2 });
    const second = await launcher.line('the restarted owner', readyOf(2));
    expect(launcher.stderr.slice(from)).toContain(
      `[hotshm] owner.ts changed: restarting the owner (pid ${first.pid})`,
    );
    await launcher.said(
      'the restart line',
      new RegExp(
        `^\\[hotshm\\] owner restarted in \\d+ ms \\(pid ${first.pid} → ${second.pid}\\); state supervisor-test kept framebuffer, input, memory`,
      ),
      from,
    );
    // A new process, which opened its window where the old one was, on the old one's state: its
    // renderer is the second to count its start in it.
    expect(second.pid).not.toBe(first.pid);
    expect(second.starts).toBe(2);
    expect(second.restore).toEqual({ x: 10, y: 21, width: 320, height: 240 });
    expect(second.argv).toEqual(['--size', '8x4']);
    // The old owner's window closed, its state.close() returned once the region was adopted,
    // and it is gone with its region.
    await launcher.line('the old owner closing', (l) => l.closed === true && l.pid === first.pid);
    await until('the old owner to exit', () => !isAlive(first.pid as number));
    expect(regionsOf(first.pid as number)).toEqual([]);
    expect(regionsOf(second.pid as number)).toHaveLength(1);
    expect(readFileSync(ownerPath, 'utf8')).toContain('VERSION = 2');
  });

  it('migrates the state when the restarted owner lays it out anew (other arguments)', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    expect(first.starts).toBe(1);
    const from = launcher.stderr.length;
    // A wider framebuffer: the old region's layout is not the new owner's, so adopting it is a
    // migration (the frame's overlap carried), and every other value is kept.
    writeOwner(ws, { version: 2, width: 16 });
    const second = await launcher.line('the restarted owner', readyOf(2));
    expect(second.starts).toBe(2);
    const line = await launcher.said('the restart line', /^\[hotshm\] owner restarted in /, from);
    expect(line).toMatch(/; state supervisor-test .*framebuffer/);
    expect(line).toMatch(/kept .*memory/);
  });

  it('leaves a change of the state definition to a live migration under the same owner', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    const from = launcher.stderr.length;
    writeFileSync(
      ws.statePath,
      readFileSync(ws.statePath, 'utf8').replace(
        'memory: struct({ starts: u32, last: u32 }),',
        'memory: struct({ starts: u32, last: u32 }),\n    extra: u32,',
      ),
    );
    await launcher.said('the migration', /^\[hotshm\] .*migrat/, from);
    expect(launcher.stderr.slice(from).some((l) => l.includes('restarting the owner'))).toBe(false);
    expect(isAlive(first.pid as number)).toBe(true);
  });

  it('keeps the running owner on a build error of the owner and says where; the fix restarts it', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    const from = launcher.stderr.length;
    writeOwner(ws, { version: 2, extra: 'const broken = ;' });
    await launcher.said(
      'the build error',
      new RegExp(
        `^\\[hotshm\\] the owner does not build \\(owner\\.ts:5:16\\); the running owner \\(pid ${first.pid}\\) keeps going:$`,
      ),
      from,
    );
    // esbuild's own message: file, line and column, and a code frame.
    const detail = launcher.stderr.slice(from).join('\n');
    expect(detail).toContain('✘ [ERROR] Unexpected ";"');
    expect(detail).toContain('const broken = ;');
    expect(isAlive(first.pid as number)).toBe(true);
    expect(launcher.stderr.slice(from).some((l) => l.includes('restarting'))).toBe(false);

    writeOwner(ws, { version: 3 });
    const fixed = await launcher.line('the fixed owner', readyOf(3), 1);
    expect(fixed.pid).not.toBe(first.pid);
  });

  it('leaves edits of the state and of the renderer to the renderer: the owner stays', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    const reloads = () => launcher!.stderr.filter((l) => /^\[hotshm\] reloaded in /.test(l)).length;
    // The state definition: the owner's bundle holds it too, but the renderer reloads it.
    writeFileSync(
      ws.statePath,
      `${readFileSync(ws.statePath, 'utf8')}\n(globalThis as any).edited = 1;\n`,
    );
    await until('the renderer to reload the state', () => reloads() === 1, 30_000);
    ws.writeRenderer(rendererSource(0xff0000ff));
    await until('the renderer to reload itself', () => reloads() === 2, 30_000);
    expect(launcher.stderr.some((l) => l.includes('restarting the owner'))).toBe(false);
    expect(launcher.lines.filter(ready)).toHaveLength(1);
    expect(isAlive(first.pid as number)).toBe(true);
  });

  it('restarts an owner that chose a worker thread (hot: false) for an edit of its renderer', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1, hot: false });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    expect(first).toMatchObject({ hot: false, renderer: first.pid });
    const from = launcher.stderr.length;
    // Its renderer was built once, inside the owner: only a new owner runs the edit.
    ws.writeRenderer(rendererSource(0xff0000ff));
    await launcher.said(
      'the restart',
      /^\[hotshm\] renderer\.ts changed: restarting the owner/,
      from,
    );
    const second = await launcher.line('the new owner', ready, launcher.lines.indexOf(first) + 1);
    expect(second.pid).not.toBe(first.pid);
  });

  it('ends everything on Ctrl+C (SIGINT to its process group) and exits as the owner did', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev', { group: true });
    const first = await launcher.line('the first owner', ready);
    const tree = launcher.tree();
    expect(tree).toContain(first.pid);
    expect(tree).toContain(first.renderer);
    process.kill(-launcher.pid, 'SIGINT');
    expect(await launcher.exited).toEqual({ code: null, signal: 'SIGINT' });
    await until('every process it started to end', () => launcher!.tree().length === 0);
    expect(regionsOf(first.pid as number)).toEqual([]);
  });

  it('ends everything on a Ctrl+C typed in its terminal, which reaches the owner itself', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev', { terminal: true });
    const first = await launcher.line('the first owner', ready);
    // The terminal's line discipline makes ^C a SIGINT to its foreground process group.
    launcher.child.stdin!.write('\x03');
    // `script` exits with its command's status: the launcher died of the owner's SIGINT.
    expect(await launcher.exited).toEqual({ code: 130, signal: null });
    await until('every process it started to end', () => launcher!.tree().length === 0);
    expect(regionsOf(first.pid as number)).toEqual([]);
  });

  it('passes a SIGTERM sent to it alone on to the owner', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    launcher.child.kill('SIGTERM');
    expect(await launcher.exited).toEqual({ code: null, signal: 'SIGTERM' });
    await until('every process it started to end', () => launcher!.tree().length === 0);
    expect(regionsOf(first.pid as number)).toEqual([]);
  });

  it('knows whether it runs in the foreground of a terminal', () => {
    const child = fileURLToPath(new URL('./fixtures/foreground-child.ts', import.meta.url));
    const command = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(child)}`;
    const env = { ...process.env, NODE_OPTIONS: '' };
    const inTerminal = execFileSync('script', ['-qfec', command, '/dev/null'], {
      env,
      encoding: 'utf8',
    });
    expect(inTerminal.trim()).toBe('{"foreground":true}');
    const piped = execFileSync(process.execPath, ['--import', 'tsx', child], {
      env,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    expect(piped.trim()).toBe('{"foreground":false}');
  });

  it('leaves no process behind when the launcher is SIGKILLed', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1 });
    launcher = startLauncher(ws, 'dev');
    const first = await launcher.line('the first owner', ready);
    expect(launcher.tree().length).toBeGreaterThanOrEqual(2);
    launcher.child.kill('SIGKILL');
    await launcher.exited;
    // The owner dies with its launcher (PR_SET_PDEATHSIG), cleanly: its renderers and region go too.
    await until('every process it started to end', () => launcher!.tree().length === 0, 30_000);
    expect(regionsOf(first.pid as number)).toEqual([]);
  });

  it("exits with the owner's exit code when the owner ends", async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1, exitWith: 3 });
    launcher = startLauncher(ws, 'dev');
    expect(await launcher.exited).toEqual({ code: 3, signal: null });
    expect(launcher.lines.filter(ready)).toHaveLength(1);
    await until('every process it started to end', () => launcher!.tree().length === 0);
  });
});

describe('hotshm start', () => {
  it('runs the owner in its own process without hot reload, and exits with its code', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1, exitWith: 4 });
    launcher = startLauncher(ws, 'start', { args: ['x'] });
    const owner = await launcher.line('the owner', ready);
    // No second process, no renderer process (a worker thread), no watcher.
    expect(owner).toMatchObject({
      pid: launcher.pid,
      hot: false,
      argv: ['x'],
      renderer: launcher.pid,
    });
    expect(await launcher.exited).toEqual({ code: 4, signal: null });
  });

  it('says where a build error is and exits 1', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    writeOwner(ws, { version: 1, extra: 'const broken = ;' });
    launcher = startLauncher(ws, 'start');
    expect(await launcher.exited).toEqual({ code: 1, signal: null });
    expect(launcher.stderr[0]).toBe('[hotshm] the owner does not build (owner.ts:5:16):');
    expect(launcher.stderr.join('\n')).toContain('const broken = ;');
  });
});

describe('hotshm', () => {
  it('refuses a missing command or owner with the usage and exit code 2', async () => {
    ws = createWorkspace(rendererSource(GREEN));
    launcher = startLauncher(ws, 'dev');
    expect(await launcher.exited).toEqual({ code: 2, signal: null });
    expect(launcher.stderr[0]).toBe(
      `hotshm: hotshm dev: expected the owner's module at ${ws.dir}/owner.ts, found no file`,
    );
    expect(launcher.stderr[1]).toMatch(/^usage: hotshm dev <owner\.ts>/);
  });
});
