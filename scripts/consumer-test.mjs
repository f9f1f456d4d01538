#!/usr/bin/env node
/**
 * The consumer test: the library as a new user gets it, checked against the README.
 *
 * It installs the packed tarball into a fresh npm project outside the workspace (a temporary
 * folder, npm's cache inside it), writes the files of the README's "Without a window" section
 * and its API example, typechecks them with TypeScript 5.9 and TypeScript 7, and runs the owner
 * as that section says: hot (with one edit of the renderer, which must show in shared memory)
 * and with `--no-hot`, under tsx and, when the `node` on PATH strips types, under Node alone.
 *
 * The README is the source: the files, the install lines and the run commands are read from it,
 * so the section stays true or this fails. Run by the package check (check-package.mjs) on its
 * tarball, or alone: `node scripts/consumer-test.mjs` (packs first).
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { packLibrary, repoRoot } from './pack.mjs';

/** The library's /proc reader (TypeScript, loaded through tsx as the workspace's tests load it). */
const proc = await tsImport('../packages/hot-reload/src/native/proc.ts', import.meta.url);

/** TypeScript versions typechecked: the last 5.x, and the newest 7.x on npm (the native compiler). */
const TYPESCRIPTS = [
  { alias: 'typescript-5', spec: '5.9.3', expect: /^Version 5\.9\.3$/ },
  { alias: 'typescript-7', spec: '7', expect: /^Version 7\./ },
];
/** What the hot leg writes over the README's COLOUR. */
const EDITED_COLOUR = 'ffcc6633';
/** Generous bounds that only catch a hang (the machine may be busy): nothing asserts speed. */
const START_TIMEOUT_MS = 90_000;
const RELOAD_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 20_000;
const INSTALL_TIMEOUT_MS = 300_000;

const log = (line) => console.log(`consumer: ${line}`);

export async function consumerTest(tarball) {
  const started = performance.now();
  const tmp = mkdtempSync(join(tmpdir(), 'hotshm-consumer-'));
  const app = join(tmp, 'my-app');
  mkdirSync(app);
  const env = cleanEnv(tmp);
  try {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readmeSection(readme, 'Without a window');
    const blocks = fencedBlocks(section);
    const file = (name) => {
      const block = blocks.find((b) => b.label === name);
      if (!block) throw new Error(`README "Without a window" has no \`${name}\`: block`);
      return block.code;
    };

    // 1. The README's install lines, with the tarball for the library and pinned tools.
    let t = performance.now();
    const install = blocks.find((b) => b.lang === 'sh' && b.code.includes('npm init'));
    if (!install) throw new Error('README "Without a window" has no sh block with `npm init`');
    for (const line of commandLines(install.code)) {
      const words = line.split(/\s+/);
      if (words[0] === 'mkdir' || words[0] === 'cd') continue; // the test's own folder instead
      run(translateInstall(words, tarball), { cwd: app, env, timeout: INSTALL_TIMEOUT_MS });
    }
    log(`installed in ${seconds(t)}`);

    const installed = join(app, 'node_modules', '@hotshm', 'hot-reload');
    const packedReadme = readFileSync(join(installed, 'README.md'), 'utf8');
    if (packedReadme !== readme) {
      throw new Error(
        'README.md and packages/hot-reload/README.md (what npm shows) differ: keep them one text',
      );
    }
    checkDeclarations(join(installed, 'dist'));
    checkErrorsSubpath(app, env);

    // 2. The files, as the README shows them.
    const renderer = file('renderer.ts');
    for (const name of ['tsconfig.json', 'state.ts', 'renderer.ts', 'owner.ts']) {
      writeFileSync(join(app, name), file(name));
    }
    const api = fencedBlocks(readmeSection(readme, 'The API')).find((b) => b.lang === 'ts');
    if (!api) throw new Error('README "The API" has no ts block');
    writeFileSync(join(app, 'readme-api.ts'), api.code);
    // TypeScript 7's `tsc --init` defaults, which name no @types package: the files that use no
    // Node.js API must typecheck so, and the library's declarations with them (skipLibCheck off;
    // TypeScript's own lib files are not ours to check).
    writeFileSync(
      join(app, 'tsconfig.no-node.json'),
      `${JSON.stringify(
        {
          compilerOptions: {
            module: 'nodenext',
            target: 'esnext',
            types: [],
            strict: true,
            noUncheckedIndexedAccess: true,
            exactOptionalPropertyTypes: true,
            verbatimModuleSyntax: true,
            isolatedModules: true,
            moduleDetection: 'force',
            allowImportingTsExtensions: true,
            noEmit: true,
            skipLibCheck: false,
            skipDefaultLibCheck: true,
          },
          files: ['state.ts', 'renderer.ts', 'readme-api.ts'],
        },
        null,
        2,
      )}\n`,
    );

    // 3. Typecheck: the README's project as it is, then without Node's types.
    for (const ts of TYPESCRIPTS) {
      t = performance.now();
      const tsc = join('node_modules', ts.alias, 'bin', 'tsc');
      const version = run(['node', tsc, '--version'], { cwd: app, env }).trim();
      if (!ts.expect.test(version)) {
        throw new Error(`typescript@${ts.spec} reports ${version}, expected ${ts.expect}`);
      }
      run(['node', tsc, '-p', 'tsconfig.json'], { cwd: app, env });
      run(['node', tsc, '-p', 'tsconfig.no-node.json'], { cwd: app, env });
      log(`TypeScript ${version.replace('Version ', '')}: typechecked in ${seconds(t)}`);
    }

    // 4. Run the owner as the README says, each way it lists.
    const runBlock = blocks.find((b) => b.lang === 'sh' && b.code.includes('owner.ts'));
    if (!runBlock) throw new Error('README "Without a window" has no sh block that runs owner.ts');
    const legs = commandLines(runBlock.code)
      .filter((l) => l.includes('owner.ts'))
      .map((l) => {
        const argv = l.split(/\s+/);
        return {
          argv,
          hot: !argv.includes('--no-hot'),
          loader: argv.includes('tsx') ? 'tsx' : 'node',
        };
      });
    for (const loader of ['tsx', 'node']) {
      for (const hot of [true, false]) {
        if (!legs.some((l) => l.loader === loader && l.hot === hot)) {
          throw new Error(
            `README "Without a window" lost the ${loader} ${hot ? 'hot' : '--no-hot'} command`,
          );
        }
      }
    }
    const strips = run(['node', '-p', 'process.features.typescript ?? false'], { cwd: app, env });
    const nodeVersion = run(['node', '--version'], { cwd: app, env }).trim();
    const colour = /const COLOUR = 0x([0-9a-f]{8});/.exec(renderer)?.[1];
    if (!colour || colour === EDITED_COLOUR) {
      throw new Error(
        `README renderer.ts: expected \`const COLOUR = 0x<8 hex digits>;\`, got none`,
      );
    }
    const edited = renderer.replace(`0x${colour}`, `0x${EDITED_COLOUR}`);
    for (const leg of legs) {
      if (leg.loader === 'node' && !['strip', 'transform'].includes(strips.trim())) {
        log(
          `skipped \`${leg.argv.join(' ')}\`: node ${nodeVersion} on PATH does not strip types (22.18+ and 23.6+ do)`,
        );
        continue;
      }
      t = performance.now();
      const note = await runOwner({ ...leg, app, env, renderer, edited, colour });
      log(`\`${leg.argv.join(' ')}\` (node ${nodeVersion}): ${note}, in ${seconds(t)}`);
    }
    log(`passed in ${seconds(started)}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The README's text under `## heading`, up to the next `## `. */
function readmeSection(readme, heading) {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Fenced code blocks, each with its language and the file name of a "`name`:" line before it. */
function fencedBlocks(text) {
  const blocks = [];
  const fence = /(?:^|\n)(?:`([^`\n]+)`:\n\n)?```(\w*)\n([\s\S]*?)\n```/g;
  for (const m of text.matchAll(fence)) {
    blocks.push({ label: m[1], lang: m[2], code: `${m[3]}\n` });
  }
  return blocks;
}

/** Lines of a shell block, without comments and blank lines. */
function commandLines(code) {
  return code
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'))
    .flatMap((l) => l.split(/\s*&&\s*/));
}

/**
 * An install line of the README as the test runs it: the library from the tarball, TypeScript as
 * each version typechecked, @types/node of the running Node's major, tsx as the workspace pins it.
 */
function translateInstall(words, tarball) {
  if (words[0] !== 'npm' || !['i', 'install'].includes(words[1])) return words;
  const rootPkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const out = words.slice(0, 2);
  for (const w of words.slice(2)) {
    if (w.startsWith('-')) out.push(w);
    else if (w === '@hotshm/hot-reload') out.push(tarball);
    else if (w === 'typescript')
      out.push(...TYPESCRIPTS.map((t) => `${t.alias}@npm:typescript@${t.spec}`));
    else if (w === '@types/node') out.push(`@types/node@${process.versions.node.split('.')[0]}`);
    else if (w === 'tsx') out.push(`tsx@${rootPkg.devDependencies.tsx}`);
    else throw new Error(`README installs ${w}, which the consumer test does not know how to pin`);
  }
  return out;
}

/**
 * The published declarations name no Node.js type: TypeScript 7 includes no @types package unless
 * `types` names it, so a `node:` import or a `NodeJS.` name would fail a consumer without them.
 */
function checkDeclarations(dist) {
  const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
  const found = [];
  for (const f of readdirSync(dist).filter((f) => f.endsWith('.d.ts'))) {
    const code = readFileSync(join(dist, f), 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:])\/\/(?!\/).*$/gm, '$1');
    for (const m of code.matchAll(/(?:from|import\(|require\()\s*['"]([^'"]+)['"]/g)) {
      if (builtins.has(m[1])) found.push(`${f}: imports ${m[1]}`);
    }
    for (const m of code.matchAll(/\bNodeJS\.\w+|\bBuffer\b|\/\/\/\s*<reference\s+types="node"/g)) {
      found.push(`${f}: ${m[0]}`);
    }
  }
  if (found.length > 0) {
    throw new Error(`the published declarations name Node.js types:\n  ${found.join('\n  ')}`);
  }
  log('declarations name no Node.js type');
}

/**
 * The installed package's errors: the root exports `HotshmError` and `ErrorCode` and no other error
 * class, `@hotshm/hot-reload/errors` every class, each a `HotshmError` with its own code, and the
 * root's `HotshmError` is the subpath's (one copy of the classes, so `instanceof` holds across both).
 */
function checkErrorsSubpath(app, env) {
  const check = `
    const root = await import('@hotshm/hot-reload');
    const errors = await import('@hotshm/hot-reload/errors');
    const fail = (what) => { console.error(what); process.exit(1); };
    const rootErrors = Object.keys(root).filter((k) => /Error(Code)?$/.test(k)).sort();
    if (rootErrors.join() !== 'ErrorCode,HotshmError') fail('the root exports ' + rootErrors);
    if (errors.HotshmError !== root.HotshmError) fail('two HotshmError classes');
    if (errors.ErrorCode !== root.ErrorCode) fail('two ErrorCode objects');
    const classes = Object.keys(errors).filter((k) => k.endsWith('Error') && k !== 'HotshmError');
    const codes = new Set(Object.values(errors.ErrorCode));
    for (const name of classes) {
      if (!(errors[name].prototype instanceof root.HotshmError)) fail(name + ' is not a HotshmError');
    }
    if (classes.length < 20 || codes.size < classes.length) fail('classes ' + classes + ', codes ' + [...codes]);
    console.log(classes.length);
  `;
  writeFileSync(join(app, 'check-errors.mjs'), check);
  const n = run(['node', 'check-errors.mjs'], { cwd: app, env }).trim();
  log(`errors: the root exports HotshmError and ErrorCode, /errors ${n} classes more`);
}

/**
 * Starts the owner as the README says, in its own process group, and waits for the renderer's
 * colour in the owner's output (read from the front buffer in shared memory). Hot: writes the
 * edited renderer and waits for the new colour. Then Ctrl+C as a terminal sends it (SIGINT to
 * the group): the owner must exit 0 and leave no process, region or temporary folder behind.
 */
async function runOwner({ argv, hot, app, env, renderer, edited, colour }) {
  writeFileSync(join(app, 'renderer.ts'), renderer);
  const child = spawn(argv[0], argv.slice(1), {
    cwd: app,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  /** Every line the owner printed, in order: `out: …` or `err: …`. */
  const output = [];
  const stdout = [];
  const waiters = new Set();
  for (const [name, stream] of [
    ['out', child.stdout],
    ['err', child.stderr],
  ]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        output.push(`${name}: ${line}`);
        if (name !== 'out') continue;
        stdout.push(line);
        for (const w of waiters) w();
      }
    });
  }
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const fail = (message) =>
    new Error(`\`${argv.join(' ')}\`: ${message}\n--- its output:\n${output.join('\n')}`);
  /** Resolves when the owner prints a line matching `pattern`; rejects on exit or after `ms`. */
  const waitFor = (pattern, ms, what) =>
    new Promise((resolve, reject) => {
      const done = (error) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (stdout.some((l) => pattern.test(l))) done();
      };
      const timer = setTimeout(() => done(fail(`no ${what} within ${ms / 1000} s`)), ms);
      waiters.add(check);
      void exited.then(({ code, signal }) => {
        if (waiters.has(check)) done(fail(`exited (${code ?? signal}) before ${what}`));
      });
      check();
    });
  try {
    await waitFor(colourLine(colour), START_TIMEOUT_MS, `colour ${colour}`);
    let note = `saw ${colour}`;
    if (hot) {
      writeFileSync(join(app, 'renderer.ts'), edited);
      await waitFor(
        colourLine(EDITED_COLOUR),
        RELOAD_TIMEOUT_MS,
        `colour ${EDITED_COLOUR} after the edit of renderer.ts`,
      );
      const reload = output.find((l) => l.startsWith('err: [hotshm] reloaded in '));
      note += `, then ${EDITED_COLOUR} after the edit${reload ? ` (${reload.slice(14).split(':')[0]})` : ''}`;
    }
    const family = descendants(child.pid);
    // The mode is the one asked for: hot mode runs renderers as Node processes of the owner,
    // a worker owner starts none (its only children are esbuild's service).
    const exe = proc.executableOf(child.pid);
    const renderers = family.filter((pid) => exe !== undefined && proc.executableOf(pid) === exe);
    if (exe !== undefined && hot !== renderers.length > 0) {
      throw fail(
        `expected ${hot ? 'renderer processes (hot mode)' : 'no renderer process (a worker thread)'}, found ${renderers.length}`,
      );
    }
    // Ctrl+C in a terminal: SIGINT to the whole foreground process group.
    process.kill(-child.pid, 'SIGINT');
    const result = await Promise.race([
      exited,
      new Promise((r) => setTimeout(r, EXIT_TIMEOUT_MS).unref()),
    ]);
    if (result === undefined) throw fail(`still running ${EXIT_TIMEOUT_MS / 1000} s after Ctrl+C`);
    if (result.code !== 0) {
      throw fail(`exited with ${result.code ?? result.signal} after Ctrl+C, expected 0`);
    }
    const left = await leftovers(child.pid, family);
    if (left.length > 0) throw fail(`left behind after it exited: ${left.join(', ')}`);
    return `${note}; Ctrl+C → exit 0, nothing left`;
  } catch (e) {
    // Leave nothing running: Ctrl+C first, so the owner removes its region and folder; then
    // SIGKILL for the owner and what it started (renderers also follow their owner).
    if (child.exitCode === null && child.signalCode === null) {
      const family = descendants(child.pid);
      try {
        process.kill(-child.pid, 'SIGINT');
      } catch {
        // gone already
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) {
        for (const pid of [...family, child.pid]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
    }
    throw e;
  }
}

/** A line of the README's owner showing `hex` in the front buffer. */
const colourLine = (hex) => new RegExp(`^colour ${hex} after \\d+ frames$`);

/** Pids of the processes below `pid` (Linux: /proc), so none can outlive its owner unseen. */
function descendants(pid) {
  return proc.descendantsOf(pid).map((p) => p.pid);
}

/** What an owner of pid `owner` left: live processes of its family, regions, temporary folders. */
async function leftovers(owner, family) {
  // Off Linux there is no /proc and no family to wait for (descendants() is empty).
  const alive = (pid) => proc.readProcess(pid) !== undefined;
  // Renderers get SIGTERM and a grace period from close(); give them that long to go.
  for (let i = 0; i < 50 && family.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
  const left = family.filter(alive).map((pid) => `process ${pid}`);
  const prefix = `hotshm-${owner}-`;
  if (existsSync('/dev/shm')) {
    left.push(
      ...readdirSync('/dev/shm')
        .filter((f) => f.startsWith(prefix))
        .map((f) => `/dev/shm/${f}`),
    );
  }
  left.push(
    ...readdirSync(tmpdir())
      .filter((f) => f.startsWith(prefix))
      .map((f) => join(tmpdir(), f)),
  );
  return left;
}

/**
 * The environment of a shell outside the workspace: no npm/pnpm script variables, no workspace
 * `node_modules/.bin` on PATH, npm's cache inside the temporary folder.
 */
function cleanEnv(tmp) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|INIT_CWD$)/i.test(k)) continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => p && !p.startsWith(repoRoot) && !p.includes(`${sep}node_modules${sep}.bin`))
    .join(delimiter);
  env.npm_config_cache = join(tmp, 'npm-cache');
  env.npm_config_audit = 'false';
  env.npm_config_fund = 'false';
  env.npm_config_update_notifier = 'false';
  env.npm_config_loglevel = 'error';
  return env;
}

/** Runs a command to completion; on failure, throws with everything it printed. */
function run(argv, { cwd, env, timeout = 120_000 }) {
  log(`$ ${argv.join(' ')}`);
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env, encoding: 'utf8', timeout });
  if (r.status !== 0) {
    throw new Error(
      `\`${argv.join(' ')}\` in ${cwd} failed (${r.error?.message ?? r.status ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-pack-'));
  try {
    await consumerTest(packLibrary(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
