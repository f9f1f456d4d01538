/**
 * The runner where renderers run it: a plain Node process with `--enable-source-maps` (hot mode's
 * standby) and a worker thread (no-hot mode), from a built copy of evaluate.ts and a program read
 * back from its JSON file, as the hosts do. Frames in program modules name the original sources;
 * frames in files Node loaded with source maps keep Node's own mapping.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgramBuilder } from './program.js';
import { type Project, project } from './test-helper.js';

let p: Project;
let runner: string;
let programFile: string;

const ENTRY = [
  "import { call } from 'mapped';",
  "import { where } from './sub/where.js';",
  'type Unused = number;',
  'export function main(): unknown {',
  '  let stack = "";',
  '  try {',
  '    call(() => {',
  "      throw new Error('from the program');",
  '    });',
  '  } catch (e) {',
  '    stack = (e as Error).stack ?? "";',
  '  }',
  '  return { stack, where, url: import.meta.url };',
  '}',
].join('\n');

beforeAll(async () => {
  p = project({
    'index.ts': ENTRY,
    'sub/where.ts':
      'export const where = { url: import.meta.url, dirname: import.meta.dirname };\n',
    'node_modules/mapped/package.json': '{"name":"mapped","type":"module","exports":"./index.js"}',
    'mapped-src/index.ts': ['export function call(f: () => void): void {', '  f();', '}'].join(
      '\n',
    ),
  });
  // A package with an inline source map to its TypeScript: Node maps its frames itself.
  await esbuild.build({
    entryPoints: [p.path('mapped-src/index.ts')],
    outfile: p.path('node_modules/mapped/index.js'),
    format: 'esm',
    sourcemap: 'inline',
    logLevel: 'silent',
  });
  runner = p.path('runner/evaluate.mjs');
  await esbuild.build({
    entryPoints: [new URL('./evaluate.ts', import.meta.url).pathname],
    outfile: runner,
    bundle: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  });
  const builder = createProgramBuilder(p.path('index.ts'));
  programFile = p.path('runner/program.json');
  writeFileSync(programFile, JSON.stringify(await builder.build()));
  await builder.dispose();
});
afterAll(() => p.remove());

/** What both hosts do: read the program's file, run it, call main(). */
const script = (runnerUrl: string, file: string): string => `
  import { readFileSync } from 'node:fs';
  const { evaluateProgram } = await import(${JSON.stringify(runnerUrl)});
  const program = JSON.parse(readFileSync(${JSON.stringify(file)}, 'utf8'));
  const entry = await evaluateProgram(program);
  const out = JSON.stringify(entry.main());
`;

interface Out {
  stack: string;
  where: { url: string; dirname: string };
  url: string;
}

function expectMapped(out: Out): void {
  const frames = out.stack.split('\n').map((l) => l.trim());
  expect(frames[0]).toBe('Error: from the program');
  // The throw, in the arrow function of main (index.ts line 8, column 13).
  expect(frames[1]).toBe(`at ${p.path('index.ts')}:8:13`);
  // The package's frame: Node's own source map support, untouched.
  expect(frames[2]).toBe(`at call (${p.path('mapped-src/index.ts')}:2:3)`);
  // main was called on the entry's namespace (`entry.main()`).
  expect(frames[3]).toBe(`at Module.main (${p.path('index.ts')}:7:5)`);
  expect(out.url).toBe(pathToFileURL(p.path('index.ts')).href);
  expect(out.where).toEqual({
    url: pathToFileURL(p.path('sub/where.ts')).href,
    dirname: p.path('sub'),
  });
}

describe('the runner where renderers run it', () => {
  it('a process with --enable-source-maps', async () => {
    const file = p.write(
      'runner/main.mjs',
      `${script(pathToFileURL(runner).href, programFile)}\nprocess.stdout.write(out);\n`,
    );
    const child = spawn(process.execPath, ['--enable-source-maps', file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expectMapped(JSON.parse(out) as Out);
  });

  it('a worker thread', async () => {
    const worker = new Worker(
      `${script(pathToFileURL(runner).href, programFile)}\nconst { parentPort } = await import('node:worker_threads');\nparentPort.postMessage(out);\n`,
      { eval: true, execArgv: ['--enable-source-maps'] },
    );
    const out = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expectMapped(JSON.parse(out) as Out);
  });
});
