/**
 * esbuild's service and its owner (issue 20 item 2): the service must end with the owner however
 * the owner ends, and a no-hot owner, done building, keeps no esbuild child at all.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createProgramBuilder } from './program.js';
import { esbuildUsers, leaseEsbuild } from './service.js';
import { type Project, project, until } from './test-helper.js';

let p: Project | undefined;
afterEach(() => {
  p?.remove();
  p = undefined;
});

/** esbuild service processes this process started. */
function services(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (
          fields[0] !== 'Z' &&
          Number(fields[1]) === process.pid &&
          readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('--service=')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Runs the reaper harness: how the killed owner's esbuild service ended. */
function killOwner(mode: 'program' | 'bundler', entry: string, outDir: string): Promise<number> {
  const reaper = fileURLToPath(
    new URL('../../../test/fixtures/esbuild-reaper.ts', import.meta.url),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', reaper, mode, entry, outDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '')
        reject(new Error(`the reaper failed (${code}): ${err || out}`));
      else resolve((JSON.parse(line) as { status: number }).status);
    });
  });
}

describe("esbuild's service", () => {
  it('stops once its last user is done (a no-hot owner keeps no esbuild child)', async () => {
    p = project({ 'index.ts': 'export const main = () => 1;\n' });
    const builder = createProgramBuilder(p.path('index.ts'));
    await builder.build();
    const running = services();
    expect(running).toHaveLength(1);
    // Another user in the same turn keeps it: the library build followed by the program builder.
    const other = leaseEsbuild();
    await builder.dispose();
    await new Promise((r) => setImmediate(r));
    expect(services()).toEqual(running);
    other.release();
    expect(esbuildUsers()).toBe(0);
    await until('the service to stop', () => services().length === 0);
  });

  it("is hotshm's own: stopping it leaves an app's esbuild (and its contexts) working", async () => {
    const app = await import('esbuild');
    p = project({
      'index.ts': 'export const main = () => 1;\n',
      'app.ts': 'export const a = 1;\n',
    });
    const context = await app.context({
      entryPoints: [p.path('app.ts')],
      bundle: true,
      write: false,
    });
    await context.rebuild();
    const before = services();
    const builder = createProgramBuilder(p.path('index.ts'));
    await builder.build();
    expect(services()).toHaveLength(before.length + 1);
    await builder.dispose();
    await until('hotshm’s service to stop', () => services().length === before.length);
    expect(services()).toEqual(before);
    // The app's service and its context went on.
    expect((await context.rebuild()).outputFiles).toHaveLength(1);
    await context.dispose();
    await app.stop();
  });

  it('ends at the end of its stdin when the owner is SIGKILLed (no context holds it)', async () => {
    p = project({ 'index.ts': 'export const main = () => 1;\n' });
    // Wait status 0: the service read the end of its stdin and exited at once.
    expect(await killOwner('program', p.path('index.ts'), p.dir)).toBe(0);
  });

  it('the cause: with an incremental context alive, only its next ping ends it', async () => {
    p = project({ 'index.ts': 'export const main = () => 1;\n' });
    // The legacy bundler keeps contexts: the service outlives its stdin until a ping fails
    // (SIGPIPE, 13, or exit 1), up to a second after the owner died.
    expect(await killOwner('bundler', p.path('index.ts'), p.dir)).not.toBe(0);
  });
});
