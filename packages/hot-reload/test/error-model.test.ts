/**
 * One error model in both modes: the same failure is the same HotshmError class whether the
 * renderer is a supervised process (hot) or a worker thread. A syntax error at start keeps a hot
 * owner waiting for the fix (it resolves, reports a BuildError, and runs the fixed code) and fails
 * a worker owner with that same BuildError; a renderer that throws before it has its state is a
 * RendererStartError in both; a retired renderer's receives end with ChannelClosedError.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BuildError, ChannelClosedError, RendererStartError } from '../src/exports/errors.js';
import { channel, defineState, HotshmError, u32 } from '../src/index.js';
import { createBindContext } from '../src/state/context.js';
import {
  createWorkspace,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;
let ws: TempWorkspace | undefined;
afterEach(() => {
  ws?.remove();
  ws = undefined;
});

async function stateOf(w: TempWorkspace) {
  return ((await import(w.statePath)) as typeof import('./fixtures/state-shape.js')).State;
}

function frontPixel(fb: {
  acquireFront(): { pixels: Uint32Array } | null;
  releaseFront(): void;
}): number | undefined {
  const px = fb.acquireFront()?.pixels[0];
  fb.releaseFront();
  return px === undefined ? undefined : px >>> 0;
}

describe('a syntax error at start', () => {
  it('keeps a hot owner waiting for the fix, reported as a BuildError with its place', async () => {
    ws = createWorkspace(`${rendererSource(RED)}\nexport const broken = ;\n`);
    const State = await stateOf(ws);
    const errors: BuildError[] = [];
    const owner = await State.owner(
      { width: 8, height: 4 },
      { hot: true, entry: ws.rendererPath, log: (line) => void line },
    );
    try {
      owner.host.on('build-error', (e) => errors.push(e.error));
      // The first report may have gone out before this listener: a second save reports again.
      ws.writeRenderer(`${rendererSource(RED)}\nexport const broken = ;;\n`);
      await until('the build error', () => errors.length > 0);
      expect(errors[0]).toBeInstanceOf(BuildError);
      expect(errors[0]).toBeInstanceOf(HotshmError);
      expect(errors[0]!.code).toBe('HOTSHM_BUILD');
      expect(errors[0]!.locations[0]).toMatch(/renderer\.ts:\d+:\d+$/);
      expect(owner.host.rendererPid).toBeUndefined();
      ws.writeRenderer(rendererSource(RED));
      await until('the fixed renderer', () => frontPixel(owner.framebuffer) === RED);
    } finally {
      await owner.close();
    }
  });

  it('fails a worker owner with the same BuildError, and leaves no region behind', async () => {
    ws = createWorkspace(`${rendererSource(RED)}\nexport const broken = ;\n`);
    const State = await stateOf(ws);
    const error = await State.owner(
      { width: 8, height: 4 },
      { hot: false, entry: ws.rendererPath, log: false },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).locations[0]).toMatch(/renderer\.ts:\d+:\d+$/);
    expect((error as BuildError).message).toContain('does not build');
  });
});

describe('a renderer that throws before it has its state', () => {
  it('fails a worker owner with RendererStartError', async () => {
    ws = createWorkspace(
      rendererSource(RED).replace(
        'const s = State.reloadable();',
        "throw new Error('no state for you');",
      ),
    );
    const State = await stateOf(ws);
    const error = await State.owner(
      { width: 8, height: 4 },
      { hot: false, entry: ws.rendererPath, log: false },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RendererStartError);
    expect((error as RendererStartError).stage).toBe('main');
    expect((error as Error).message).toContain('no state for you');
  });

  it('is a crash of phase start with a RendererStartError in hot mode', async () => {
    ws = createWorkspace(rendererSource(RED));
    const State = await stateOf(ws);
    const owner = await State.owner(
      { width: 8, height: 4 },
      { hot: true, entry: ws.rendererPath, log: false },
    );
    try {
      const crashes: unknown[] = [];
      owner.host.on('crash', (e) => crashes.push(e.error));
      ws.writeRenderer(
        rendererSource(RED).replace(
          'const s = State.reloadable();',
          "throw new Error('no state for you');",
        ),
      );
      await until('the start failure', () => crashes.length > 0);
      expect(crashes[0]).toBeInstanceOf(RendererStartError);
      expect((crashes[0] as RendererStartError).stage).toBe('main');
      // The renderer it was to replace still shows its frame.
      expect(frontPixel(owner.framebuffer)).toBe(RED);
    } finally {
      await owner.close();
    }
  });
});

describe('a retired renderer', () => {
  it('sees its channels close: for await ends, recv rejects with ChannelClosedError', async () => {
    const State = defineState({
      name: 'retire-test',
      reloadable: '/unused.ts',
      args: u32,
      fields: () => ({ input: channel(u32, { capacity: 8 }) }),
    });
    // No host: the state layer alone, its owner side and a renderer-side context of epoch 3.
    const { defineStateCore } = await import('../src/state/define.js');
    const core = defineStateCore({
      name: 'retire-test',
      reloadable: '/unused.ts',
      args: u32,
      fields: () => ({ input: channel(u32, { capacity: 8 }) }),
    });
    const owned = core.create(1);
    try {
      const lay = State.layout(1);
      const ctx = createBindContext(owned.region, 'reloadable', 3);
      const field = lay.fields[0]!;
      const input = field.schema.bind(ctx, field.offset, field.name) as typeof owned.fields.input;
      owned.fields.input.send(1);
      const seen: number[] = [];
      const loop = (async () => {
        for await (const m of input) seen.push(m);
        return 'ended';
      })();
      await until('the first message', () => seen.length === 1);
      const pending = input.recv();
      // The owner retires epochs up to 3: the loop ends, the parked recv rejects.
      owned.retire(3);
      expect(await loop).toBe('ended');
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChannelClosedError);
      expect((error as ChannelClosedError).code).toBe('HOTSHM_CHANNEL_CLOSED');
      // A retired renderer takes nothing more: what is sent now stays for the next renderer.
      owned.fields.input.send(2);
      expect(() => input.tryRecv()).toThrow(ChannelClosedError);
      expect(() => input.drain()).toThrow(ChannelClosedError);
      const successor = field.schema.bind(
        createBindContext(owned.region, 'reloadable', 4),
        field.offset,
        field.name,
      ) as typeof input;
      expect(await successor.recv({ timeoutMs: 5000 })).toBe(2);
    } finally {
      owned.close();
    }
  });
});
