/**
 * Issue 11, case 6: processes a renderer starts itself (here `sleep 987.<tag>`) must not outlive
 * it. Each renderer leads its own process group and the whole group is signalled: on a reload,
 * when the renderer crashes, when the owner closes, exits, or gets SIGTERM/SIGINT. What a SIGKILL
 * of the owner leaves (nothing in it runs then) is stopped by the next owner's start.
 */
import { randomInt } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  frontPixel,
  type Owner,
  openOwner,
  parentOf,
  processesRunning,
  record,
  startOwnerProcess,
} from './fixtures/owners.js';
import {
  createWorkspace,
  isAlive,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;
const GREEN = 0xff00ff00;

/** A `sleep` argument no other test or process uses: how its process is found in /proc. */
const uniqueSleep = (): string[] => ['sleep', `987.${randomInt(1e9)}`];

/** The fixture renderer, which first starts `argv` as a child of its own. */
const spawning = (colour: number, argv: readonly string[]): string =>
  rendererSource(colour, {
    onStart: `(await import('node:child_process')).spawn(${JSON.stringify(argv[0])}, ${JSON.stringify(argv.slice(1))}, { stdio: 'ignore' });`,
  });

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
const started: string[][] = [];
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
  // Whatever a failed test left running goes now.
  for (const argv of started.splice(0))
    for (const pid of processesRunning(argv)) process.kill(pid, 'SIGKILL');
});

const sleeper = (): string[] => {
  const argv = uniqueSleep();
  started.push(argv);
  return argv;
};

describe("a renderer's own children (issue 11, case 6)", () => {
  it('are stopped with their renderer on a reload, on a crash, and when the owner closes', async () => {
    const first = sleeper();
    ws = createWorkspace(spawning(RED, first));
    owner = await openOwner(ws);
    const seen = record(owner);
    await until('the first frame', () => frontPixel(owner!) === RED);
    await until('the first renderer’s sleep', () => processesRunning(first).length === 1);

    // A reload: the replaced renderer's sleep goes with it.
    const second = sleeper();
    ws.writeRenderer(spawning(GREEN, second));
    await until('the reload', () => frontPixel(owner!) === GREEN);
    await until('the second renderer’s sleep', () => processesRunning(second).length === 1);
    await until('the replaced renderer’s sleep to be gone', () =>
      processesRunning(first).length === 0 ? true : undefined,
    );

    // A crash (killed from outside): the restarted renderer starts its own; the dead one's goes.
    // The renderer that started the second sleep (its parent), once the host has made it the
    // live one (its first frame can be on screen a moment before).
    const crashed = parentOf(processesRunning(second)[0]!);
    await until(
      'the second renderer to be the live one',
      () => owner!.host.rendererPid === crashed,
    );
    process.kill(crashed, 'SIGKILL');
    await until('the crash report', () => seen.crashes.some((c) => c.pid === crashed));
    await until('the restarted renderer', () => {
      const pid = owner!.host.rendererPid;
      return pid !== undefined && pid !== crashed;
    });
    // The restart runs the same code, so the same sleep argument: exactly one must be left.
    await until('only the restarted renderer’s sleep', () =>
      processesRunning(second).length === 1 ? true : undefined,
    );

    // The owner closes: the live renderer's sleep goes too.
    const sleeping = processesRunning(second);
    await owner.close();
    owner = undefined;
    await until('the last sleep to be gone', () => sleeping.every((p) => !isAlive(p)));
  });

  it('outlive a SIGKILL of the owner only until the next owner starts, which stops them', async () => {
    const argv = sleeper();
    ws = createWorkspace(spawning(RED, argv));
    const child = startOwnerProcess(ws, 'hot');
    try {
      await child.ready;
      await until('the renderer’s sleep', () => processesRunning(argv).length === 1);
      const sleeping = processesRunning(argv);
      child.proc.kill('SIGKILL');
      await child.exited;
      // Nothing in the owner ran: the sleep may still run now (any owner starting on this
      // machine meanwhile stops it). The next owner's start must.
      owner = await openOwner(ws);
      await until('the sleep to be gone', () => sleeping.every((p) => !isAlive(p)));
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  for (const ending of ['exit', 'SIGTERM', 'SIGINT'] as const) {
    it(`are stopped when the owner process ends (${ending === 'exit' ? 'process.exit() without close()' : ending})`, async () => {
      const argv = sleeper();
      ws = createWorkspace(spawning(RED, argv));
      const child = startOwnerProcess(ws, 'hot');
      try {
        const info = await child.ready;
        await until('the renderer’s sleep', () => processesRunning(argv).length === 1);
        const sleeping = processesRunning(argv);
        if (ending === 'exit') child.command('exit');
        else child.proc.kill(ending);
        const exit = await child.exited;
        expect(exit.code ?? exit.signal, exit.stderr).toBe(ending === 'exit' ? 0 : ending);
        await until('the renderer to be gone', () => !isAlive(info.renderer ?? undefined));
        await until('the sleep to be gone', () => sleeping.every((p) => !isAlive(p)));
      } finally {
        child.proc.kill('SIGKILL');
      }
    });
  }
});
