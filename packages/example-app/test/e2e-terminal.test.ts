/**
 * The example end to end in a terminal: the real owner (`node scripts/run.mjs`, as `pnpm dev`
 * runs it, hot, with HOTSHM_BACKEND=terminal) in a pane of a private tmux server (`-L`). What the
 * pane shows is read back with `capture-pane`; an SGR mouse click is typed into the pane as the
 * bytes a terminal would send.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../hot-reload/test/x11.js';
import {
  appCommand,
  appDir,
  childrenOf,
  isAlive,
  ownerUnder,
  processesOwnedBy,
  regionsOf,
  runsNode,
} from './e2e/harness.js';

const ORANGE_FG = '38;2;255;178;0';
const ORANGE_BG = '48;2;255;178;0';
const COLUMNS = 100;
const ROWS = 40;

describe('the example app in a terminal (tmux)', () => {
  const socket = `hotshm-e2e-${process.pid}`;
  const session = 'demo';
  let dir: string;
  let exitFile: string;
  let pid = 0;

  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const capture = (colours: boolean) =>
    tmux('capture-pane', ...(colours ? ['-e'] : []), '-p', '-t', session);
  const hex = (s: string) => [...s].map((c) => c.charCodeAt(0).toString(16));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hotshm-e2e-tty-'));
    exitFile = join(dir, 'exit');
    // After the app, the shell records its exit code and stays, so the pane can still be read.
    const command = [
      `cd ${JSON.stringify(appDir)}`,
      `HOTSHM_BACKEND=terminal ${appCommand('dev')}`,
      `echo "exit $?" > ${JSON.stringify(`${exitFile}.tmp`)}`,
      `mv ${JSON.stringify(`${exitFile}.tmp`)} ${JSON.stringify(exitFile)}`,
      'sleep 60',
    ].join('; ');
    tmux('new-session', '-d', '-s', session, '-x', String(COLUMNS), '-y', String(ROWS), command);
    const shell = Number(tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim());
    // `hotshm dev` runs the owner as its child.
    pid = await waitFor(
      'the owner process',
      () => {
        const launcher = childrenOf(shell).find(runsNode)?.pid;
        return launcher === undefined ? undefined : ownerUnder(launcher);
      },
      30_000,
    );
  });

  afterAll(() => {
    spawnSync('tmux', ['-L', socket, 'kill-server']);
    // The app and its renderers die with their terminal (SIGHUP) or their owner; make sure.
    for (const p of [pid, ...(pid ? processesOwnedBy(pid) : [])]) {
      if (p && isAlive(p)) process.kill(p, 'SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('draws the orange frame in truecolor half blocks with the title on the status line', async () => {
    const screen = await waitFor(
      'orange half blocks',
      () => {
        const s = capture(true);
        return s.includes(ORANGE_FG) && s.includes(ORANGE_BG) && s.includes('▀') ? s : undefined;
      },
      30_000,
    );
    expect(screen).toContain('▀');
    await waitFor('the status line', () =>
      capture(false).split('\n')[ROWS - 1]?.trim() === 'Hot Reload Demo' ? true : undefined,
    );
    expect(tmux('display-message', '-p', '-t', session, '#{pane_title}').trim()).toBe(
      'Hot Reload Demo',
    );
    // The app runs hot here too: its renderer is a process it owns.
    expect(processesOwnedBy(pid).length).toBeGreaterThanOrEqual(1);
  });

  it('reacts to an SGR mouse click: a new colour without blue, and "Render 1" as the title', async () => {
    // Left press and release at column 50, row 20: inside the picture (columns 12–89, rows 1–39).
    tmux('send-keys', '-t', session, '-H', ...hex('\x1b[<0;50;20M'));
    tmux('send-keys', '-t', session, '-H', ...hex('\x1b[<0;50;20m'));
    await waitFor(
      '"Render 1" on the status line',
      () => (capture(false).split('\n')[ROWS - 1]?.trim() === 'Render 1' ? true : undefined),
      30_000,
    );
    expect(tmux('display-message', '-p', '-t', session, '#{pane_title}').trim()).toBe('Render 1');
    const screen = await waitFor('the picture without orange', () => {
      const s = capture(true);
      return s.includes(ORANGE_FG) ? undefined : s;
    });
    // The whole picture is one new colour whose blue is 0.
    const colours = new Set(
      [...screen.matchAll(/38;2;(\d+);(\d+);(\d+)/g)].map((m) => m.slice(1).join(',')),
    );
    expect(colours.size).toBe(1);
    expect([...colours][0]).toMatch(/^\d+,\d+,0$/);
  });

  it('quits on Escape, leaving no process and no region', async () => {
    const owned = processesOwnedBy(pid);
    tmux('send-keys', '-t', session, 'Escape');
    const exit = await waitFor(
      'the exit code',
      () => {
        try {
          return readFileSync(exitFile, 'utf8').trim();
        } catch {
          return undefined;
        }
      },
      30_000,
    );
    expect(exit).toBe('exit 0');
    await waitFor('the renderers to exit', () =>
      processesOwnedBy(pid).length === 0 ? true : undefined,
    );
    for (const p of owned) expect(isAlive(p), `pid ${p}`).toBe(false);
    expect(regionsOf(pid)).toEqual([]);
  });
});
