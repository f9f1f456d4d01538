/**
 * An owner killed with SIGKILL runs no JavaScript: its renderer dies with it (PR_SET_PDEATHSIG),
 * but a process the renderer started itself survives. The next owner's start stops it (it names
 * the dead owner and its region in its environment), and leaves every other process alone.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWorkspace,
  isAlive,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

let ws: TempWorkspace | undefined;
let child: ChildProcess | undefined;
const extra: number[] = [];
afterEach(() => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  for (const pid of extra.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  ws?.remove();
  ws = undefined;
});

describe.runIf(process.platform === 'linux')('processes a renderer started', () => {
  it("are stopped at the next owner's start after their owner was SIGKILLed", async () => {
    // The renderer starts a long sleep and reports its pid through shared memory.
    ws = createWorkspace(
      rendererSource(0xff00ff00, {
        onStart: [
          "const { spawn } = await import('node:child_process');",
          "const sleeper = spawn('sleep', ['987'], { stdio: 'ignore' });",
          's.memory.last.set(sleeper.pid);',
        ].join('\n'),
      }),
    );
    const script = join(import.meta.dirname, 'fixtures', 'owner-child.ts');
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
        return line ? (JSON.parse(line) as { region: string; renderer: number }) : undefined;
      },
      60_000,
    );
    // Its region, mapped here, says which process the renderer started.
    const { State } = (await import(ws.statePath)) as typeof import('./fixtures/state-shape.js');
    const { openRegion } = await import('../src/exports/memory.js');
    const region = openRegion(info.region);
    const field = State.layout({ width: 8, height: 4 }).fields.find((f) => f.name === 'memory')!;
    const view = new DataView(region.buffer);
    const sleeper = await until(
      'the sleeper pid',
      () => view.getUint32(field.offset + 4, true) || undefined,
    );
    region.close();
    extra.push(sleeper);
    // An unrelated process of this user, which must survive the clean-up.
    const bystander = spawn('sleep', ['988'], { stdio: 'ignore' });
    extra.push(bystander.pid!);

    child.kill('SIGKILL');
    await until('the renderer to die with its owner', () => !isAlive(info.renderer), 10_000);
    expect(isAlive(sleeper)).toBe(true);

    // The next owner starts: the orphan goes, the bystander stays.
    const owner = await State.owner(
      { width: 8, height: 4 },
      { hot: true, entry: ws.rendererPath, log: false },
    );
    const warnings: string[] = [];
    owner.host.on('warning', (w) => warnings.push(w.message));
    try {
      await until('the orphan to be stopped', () => !isAlive(sleeper), 10_000);
      expect(isAlive(bystander.pid!)).toBe(true);
    } finally {
      await owner.close();
    }
  });
});
