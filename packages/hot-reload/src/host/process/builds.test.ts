import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildError } from '../../errors.js';
import { FakeClock } from '../fakes.test-helper.js';
import { BuildLoop, type BuildOutput, type Built } from './builds.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
}

function out(hash: string, exports = ['main']): BuildOutput {
  return { contents: hash, ext: '.mjs', hash, inputs: [], exports, externals: [], ms: 1 };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-builds-'));
  dirs.push(dir);
  const entry = join(dir, 'entry.ts');
  writeFileSync(entry, 'v0');
  const clock = new FakeClock();
  const queue: Array<
    BuildOutput | BuildError | Error | ((files: readonly string[]) => BuildOutput)
  > = [];
  const calls: (readonly string[])[] = [];
  const loop = new BuildLoop({
    entry,
    errorQuietMs: 40,
    clock,
    builder: {
      async build(changed) {
        calls.push(changed);
        const next = queue.shift() ?? out('default');
        if (next instanceof Error) throw next;
        return typeof next === 'function' ? next(changed) : next;
      },
      invalidate() {},
      async dispose() {},
    },
  });
  const built: Built[] = [];
  const failed: BuildError[] = [];
  loop.on('built', (b) => built.push(b));
  loop.on('failed', (e) => failed.push(e));
  return { loop, clock, queue, calls, built, failed, entry };
}

describe('BuildLoop', () => {
  it('gathers the events of one save into one build, with the saved files', async () => {
    const s = setup();
    s.queue.push(out('v1'));
    writeFileSync(s.entry, 'v1');
    s.loop.changed(s.entry);
    s.loop.changed(s.entry);
    await settle();
    expect(s.calls).toEqual([[s.entry]]);
    expect(s.built.map((b) => b.out.hash)).toEqual(['v1']);
    expect(s.built[0]!.reason).toBe('change');
  });

  it('an event for a file that is as the last build read it is a duplicate and builds nothing', async () => {
    const s = setup();
    writeFileSync(s.entry, 'v1');
    s.loop.changed(s.entry);
    await settle();
    s.loop.changed(s.entry);
    await settle();
    expect(s.calls).toHaveLength(1);
  });

  it('a file changed while it was read is built again, and only the second build is handed on', async () => {
    const s = setup();
    s.queue.push(() => {
      // The editor's second write lands while the builder reads the first.
      writeFileSync(s.entry, 'v2, longer');
      return out('torn');
    });
    s.queue.push(out('v2'));
    writeFileSync(s.entry, 'v1');
    s.loop.changed(s.entry);
    await settle();
    expect(s.built.map((b) => b.out.hash)).toEqual(['v2']);
    expect(s.built[0]!.discarded).toBe(1);
  });

  it('a builder that throws something other than a BuildError is a failed build, reported with its message, and the next save builds', async () => {
    const s = setup();
    s.queue.push(new Error('Cannot find native binding'));
    writeFileSync(s.entry, 'v1');
    s.loop.changed(s.entry);
    await settle();
    s.clock.advance(40);
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0]).toBeInstanceOf(BuildError);
    expect(s.failed[0]!.messages).toEqual(['the builder failed: Cannot find native binding']);
    s.queue.push(out('v2'));
    writeFileSync(s.entry, 'v2');
    s.loop.changed(s.entry);
    await settle();
    expect(s.built.map((b) => b.out.hash)).toEqual(['v2']);
  });

  it('a failed build is reported only once the files have been quiet for errorQuietMs', async () => {
    const s = setup();
    s.queue.push(
      new BuildError(s.entry, [{ text: 'Unexpected end of file', location: undefined }]),
    );
    writeFileSync(s.entry, '');
    s.loop.changed(s.entry);
    await settle();
    s.clock.advance(39);
    expect(s.failed).toEqual([]);
    s.clock.advance(1);
    expect(s.failed).toHaveLength(1);
  });

  it('a newer save drops a pending error report', async () => {
    const s = setup();
    s.queue.push(
      new BuildError(s.entry, [{ text: 'Unexpected end of file', location: undefined }]),
    );
    writeFileSync(s.entry, '');
    s.loop.changed(s.entry);
    await settle();
    s.clock.advance(20);
    s.queue.push(out('fixed'));
    writeFileSync(s.entry, 'fixed');
    s.loop.changed(s.entry);
    await settle();
    s.clock.advance(100);
    expect(s.failed).toEqual([]);
    expect(s.built.map((b) => b.out.hash)).toEqual(['fixed']);
  });

  it('an entry without main() is a build error that says what it exports', async () => {
    const s = setup();
    s.queue.push(out('nomain', ['draw']));
    writeFileSync(s.entry, 'export const draw = 1');
    s.loop.changed(s.entry);
    await settle();
    s.clock.advance(40);
    expect(s.built).toEqual([]);
    expect(s.failed[0]?.messages[0]).toMatch(/exports no main\(\).*got exports \[draw\]/);
  });

  it('looks at a changed file once more 80 ms later: a save with no event of its own is built', async () => {
    const s = setup();
    s.queue.push(out('v1'));
    s.queue.push(out('v2'));
    writeFileSync(s.entry, 'v1');
    s.loop.changed(s.entry);
    await settle();
    // A second save whose event the watcher dropped (chokidar's 50 ms throttle).
    writeFileSync(s.entry, 'v2, longer');
    s.clock.advance(80);
    await settle();
    expect(s.built.map((b) => b.out.hash)).toEqual(['v1', 'v2']);
  });
});
