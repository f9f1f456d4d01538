/**
 * Issue 11, case 9: a renderer the supervisor stopped itself must not be reported as if someone
 * else had killed it ("killed by SIGTERM"). A start that failed or timed out is reported with what
 * went wrong and that the supervisor stopped it; a start that ended on its own says how it ended;
 * a replaced renderer that had to be killed is no crash at all. Real renderer processes; the
 * report is the host's events and its log lines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RendererStartError } from '../src/exports/errors.js';
import { frontPixel, type Owner, openOwner, type Recorded, record } from './fixtures/owners.js';
import {
  createWorkspace,
  isAlive,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;
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

async function start(): Promise<{
  owner: Owner;
  ws: TempWorkspace;
  seen: Recorded;
  log: string[];
}> {
  ws = createWorkspace(rendererSource(RED));
  const log: string[] = [];
  owner = await openOwner(ws, { host: { startTimeoutMs: 1500 }, log: (l) => log.push(l) });
  const seen = record(owner);
  await until('the first frame', () => frontPixel(owner!) === RED);
  return { owner, ws, seen, log };
}

describe('reports of renderers the supervisor stopped (issue 11, case 9)', () => {
  it('a start that failed or timed out says so, and that the supervisor stopped it; one that exited says how', async () => {
    const { ws, seen, log } = await start();

    // main() throws before it has its state.
    ws.writeRenderer(
      rendererSource(GREEN).replace(
        'const s = State.reloadable();',
        "throw new Error('stop-reports: main threw');",
      ),
    );
    const failed = await until('the failed start', () => seen.crashes[0]);
    expect(failed.phase).toBe('start');
    expect((failed.error as RendererStartError).stage).toBe('main');
    expect(failed.message).toContain('stop-reports: main threw');
    expect(failed.message).toContain('the supervisor stopped it');

    // Its top level never returns.
    ws.writeRenderer(`for (;;) {}\n${rendererSource(GREEN)}`);
    const timedOut = await until('the timed-out start', () => seen.crashes[1]);
    expect((timedOut.error as RendererStartError).stage).toBe('timeout');
    expect(timedOut.message).toContain('the supervisor stopped it');

    // It ends on its own while starting: that is how it ended, nobody stopped it.
    ws.writeRenderer(`process.exit(3);\n${rendererSource(GREEN)}`);
    const exited = await until('the start that exited', () => seen.crashes[2]);
    expect(exited.error).toBeInstanceOf(RendererStartError);
    expect((exited.error as RendererStartError).stage).toBe('exit');
    expect(exited.code).toBe(3);
    expect(exited.message).toContain('exit code 3');
    expect(exited.message).not.toContain('the supervisor stopped it');

    // Nothing in the report reads like an outside kill.
    const report = [...log, ...seen.crashes.map((c) => c.message)].join('\n');
    expect(report).not.toMatch(/killed by SIG/);
    expect(log.filter((l) => l.includes('the supervisor stopped it'))).toHaveLength(2);
  });

  it('a replaced renderer that ignores SIGTERM is killed after the grace period, and that is no crash', async () => {
    const { owner, ws, seen, log } = await start();
    const reloads = seen.reloads.length;
    ws.writeRenderer(rendererSource(GREEN, { onStart: "process.on('SIGTERM', () => {});" }));
    await until('the stubborn renderer on screen', () => frontPixel(owner) === GREEN);
    // Its first frame can be on screen a moment before the host has made it the live renderer.
    const stubborn = await until('the stubborn renderer to be the live one', () => {
      const pid = seen.reloads[reloads]?.pid;
      return pid !== undefined && owner.host.rendererPid === pid ? pid : undefined;
    });
    ws.writeRenderer(rendererSource(BLUE));
    await until('its successor on screen', () => frontPixel(owner) === BLUE);
    await until('the stubborn renderer to be gone', () => !isAlive(stubborn));
    // One more reload, so any late report of the stubborn one would be in by now.
    ws.writeRenderer(rendererSource(RED));
    await until('the next reload', () => frontPixel(owner) === RED);
    expect(seen.crashes).toEqual([]);
    expect(log.join('\n')).not.toMatch(/killed by|crashed|failed/);
  });
});
