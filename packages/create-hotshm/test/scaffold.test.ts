/**
 * `npm create hotshm` end to end, as a new user meets it, for each template: the library and
 * create-hotshm packed as npm would receive them, a project scaffolded by the packed generator in
 * a temporary folder outside the workspace, `npm install` (the library from its tarball, the rest
 * from the registry), `npm run typecheck`, then `npm run dev` under a private Xvfb:
 *
 * - the window shows the renderer's picture (its pixels, read back from X);
 * - a save of the renderer's code shows new pixels in the same window;
 * - a click is counted in shared memory, and a renderer that takes over after another save finds
 *   the count (the title it sends says so); the canvas template's text is drawn;
 * - (a test of its own, on the same project) an edit of the owner's own code restarts the owner
 *   in a new window, on the same state: the click count survives it;
 * - Ctrl+C (SIGINT to the whole process group, as a terminal sends it) ends everything;
 * - `npm start` shows the same app without hot reload, and Ctrl+C ends it too.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  near,
  pixelAt,
  run as runX,
  screenshot,
  startXvfb,
  waitFor,
  type Xvfb,
} from '../../hot-reload/test/x11.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const packageDir = fileURLToPath(new URL('..', import.meta.url));
/** Bounds that only catch a hang on a busy machine: nothing here asserts speed. */
const INSTALL_MS = 300_000;
const WINDOW_MS = 120_000;
const RELOAD_MS = 60_000;

interface Check {
  /** The file a save changes, and the change. */
  readonly edit: { file: string; from: string; to: string };
  /** Where to look in the window, and the colour before and after the save (RGB). */
  readonly at: readonly [number, number];
  readonly before: readonly [number, number, number];
  readonly after: readonly [number, number, number];
}

const CHECKS: Record<'minimal' | 'canvas', Check> = {
  minimal: {
    edit: {
      file: 'src/renderer.ts',
      from: 'const COLOUR = 0xffffb300;',
      to: 'const COLOUR = 0xff3366cc;',
    },
    at: [320, 240],
    before: [0xff, 0xb3, 0x00],
    after: [0x33, 0x66, 0xcc],
  },
  canvas: {
    edit: {
      file: 'src/scene.ts',
      from: 'export const BACKGROUND = 0xff1d2033;',
      to: 'export const BACKGROUND = 0xff2e7d32;',
    },
    // A corner: the background, never under the square, the dots or the text.
    at: [12, 12],
    before: [0x1d, 0x20, 0x33],
    after: [0x2e, 0x7d, 0x32],
  },
};

let tmp: string;
let packs: { library: string; create: string };
let xvfb: Xvfb;
const env = (): NodeJS.ProcessEnv => cleanEnv(tmp);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'create-hotshm-e2e-'));
  const dest = join(tmp, 'packs');
  mkdirSync(dest);
  const { packLibrary } = (await import(join(repoRoot, 'scripts', 'pack.mjs'))) as {
    packLibrary(dir: string): string;
  };
  const library = packLibrary(dest);
  sh(['pnpm', 'exec', 'tsup', '--silent'], { cwd: packageDir });
  sh(['pnpm', 'pack', '--pack-destination', dest], { cwd: packageDir });
  const create = readdirSync(dest).find((f) => f.startsWith('create-hotshm-'));
  if (!create) throw new Error(`pnpm pack wrote no create-hotshm tarball into ${dest}`);
  packs = { library, create: join(dest, create) };
  xvfb = await startXvfb('1024x768x24');
}, INSTALL_MS);

afterAll(async () => {
  await xvfb?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe.each(['minimal', 'canvas'] as const)('npm create hotshm --template %s', (template) => {
  it(
    'installs, typechecks; `npm run dev` shows the window, a save, a click that survives a reload; `npm start` runs',
    async () => {
      const check = CHECKS[template];
      const name = `app-${template}`;
      const app = join(tmp, name);

      // 1. The packed generator, run as `npm create` runs it (npm exec of its bin).
      const created = sh(
        ['npm', 'exec', '--yes', `--package=${packs.create}`, '--', 'create-hotshm', name],
        { cwd: tmp, env: env(), args: ['--template', template] },
      );
      expect(created).toContain(`Created ${name} in ${app} from the ${template} template`);
      expect(created).toContain(`  cd ${name}\n  npm install\n  npm run dev `);

      // 2. Its dependencies: the library from its tarball, everything else from the registry.
      sh(['npm', 'install', packs.library], { cwd: app, env: env(), timeout: INSTALL_MS });
      // 3. As the next steps say.
      sh(['npm', 'run', 'typecheck'], { cwd: app, env: env() });

      // 4. `npm run dev` in a window.
      const dev = await openApp(app, 'dev', check.at);
      try {
        await dev.showing(`the renderer's first picture`, check.before, WINDOW_MS);
        expect(await title(xvfb.display, dev.window)).toBe('Clicks: 0');

        // A save of the renderer's code: new pixels in the same window.
        edit(app, check.edit);
        await dev.showing(`the new picture after the save of ${check.edit.file}`, check.after);
        expect(await windows(xvfb.display)).toEqual([dev.window]);

        // A click, counted in shared memory by the renderer, which says so in the title.
        await click(xvfb.display, dev.window, 200, 150);
        await dev.titled('Clicks: 1');
        // Another save: the renderer that takes over finds the count where it was.
        edit(app, { file: 'src/renderer.ts', from: '`Clicks: ${', to: '`Clicks so far: ${' });
        await dev.titled('Clicks so far: 1');
        if (template === 'canvas') {
          // Its text: the count, light on the square in the middle.
          const shot = await screenshot(xvfb.display, dev.window);
          let light = 0;
          for (let y = 180; y < 310; y++) {
            for (let x = 260; x < 380; x++) {
              if (near(pixelAt(shot, x, y), [0xf2, 0xf2, 0xf2], 8)) light++;
            }
          }
          expect(light).toBeGreaterThan(50);
        } else {
          // The click picked a colour without blue, which the new renderer shows again.
          const [, , blue] = await dev.colour();
          expect(blue).toBe(0);
        }
        // 5. Ctrl+C: SIGINT to the whole process group ends everything.
        await dev.interrupt();
      } finally {
        dev.kill();
      }

      // 6. `npm start`: the same app without hot reload (a new state: the count starts again).
      const start = await openApp(app, 'start', check.at);
      try {
        await start.showing('the picture without hot reload', check.after, WINDOW_MS);
        await start.titled('Clicks so far: 0');
        await start.interrupt();
      } finally {
        start.kill();
      }
    },
    INSTALL_MS + 4 * WINDOW_MS,
  );

  it(
    'an edit of the owner restarts it in a new window, on the same state',
    async () => {
      const name = `app-${template}`;
      const app = join(tmp, name);
      const check = CHECKS[template];
      const dev = await openApp(app, 'dev', check.at);
      try {
        await dev.showing(`the first picture`, check.after, WINDOW_MS);
        await click(xvfb.display, dev.window, 200, 150);
        await dev.titled('Clicks so far: 1');
        edit(app, { file: 'src/owner.ts', from: `title: '${name}'`, to: `title: '${name} 2'` });
        const reopened = await dev.reopened();
        // One window: the old owner's closed when the new one's opened.
        await waitFor('the old window to go', async () => {
          const ids = await windows(xvfb.display);
          return ids.length === 1 && ids[0] === reopened ? true : undefined;
        });
        // The renderer the new owner starts finds the count in the state it adopted.
        await dev.titled('Clicks so far: 1');
        await dev.interrupt();
      } finally {
        dev.kill();
      }
    },
    4 * WINDOW_MS,
  );
});

/** Saves `file` with one change, as an editor would. */
function edit(app: string, change: { file: string; from: string; to: string }): void {
  const path = join(app, change.file);
  const source = readFileSync(path, 'utf8');
  if (!source.includes(change.from)) {
    throw new Error(`${change.file}: expected it to contain ${change.from}`);
  }
  writeFileSync(path, source.replace(change.from, change.to));
}

/** Runs a command to its end; throws with what it printed if it fails. */
function sh(
  argv: readonly string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number; args?: readonly string[] },
): string {
  const all = [...argv, ...(opts.args ?? [])];
  const r = spawnSync(all[0]!, all.slice(1), {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeout ?? 120_000,
  });
  if (r.status !== 0) {
    throw new Error(
      `\`${all.join(' ')}\` in ${opts.cwd} failed (${r.error?.message ?? r.status ?? r.signal}):\n${r.stdout}${r.stderr}`,
    );
  }
  return r.stdout;
}

/**
 * `npm run <script>` in the app, in its own process group as a terminal would run it, once its
 * window is up: what it shows at `at`, its title, Ctrl+C.
 */
async function openApp(app: string, script: 'dev' | 'start', at: readonly [number, number]) {
  const child: ChildProcess = spawn('npm', ['run', script], {
    cwd: app,
    env: { ...env(), DISPLAY: xvfb.display },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  child.stdout?.setEncoding('utf8').on('data', (d: string) => lines.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => lines.push(d));
  const output = () => `\n--- npm run ${script} printed:\n${lines.join('')}`;
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    for (const pid of [...descendants(child.pid!), child.pid!]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  };
  let window = 0;
  try {
    window = await waitFor(
      `the window of npm run ${script}`,
      async () => (await windows(xvfb.display))[0],
      WINDOW_MS,
    );
  } catch (e) {
    kill();
    throw new Error(`${(e as Error).message}${output()}`);
  }
  const colour = async () => pixelAt(await screenshot(xvfb.display, window), at[0], at[1]);
  return {
    get window(): number {
      return window;
    },
    /** Waits for a window other than the one shown so far (the owner restarted), and takes it. */
    async reopened(): Promise<number> {
      const before = window;
      window = await waitFor(
        'the window of the restarted owner',
        async () => (await windows(xvfb.display)).find((id) => id !== before),
        WINDOW_MS,
      ).catch((e: Error) => {
        throw new Error(`${e.message}${output()}`);
      });
      return window;
    },
    kill,
    colour,
    async showing(what: string, rgb: readonly number[], ms = RELOAD_MS): Promise<void> {
      await waitFor(what, async () => (near(await colour(), rgb) ? true : undefined), ms).catch(
        async (e: Error) => {
          throw new Error(`${e.message}: expected ${rgb}, got ${await colour()}${output()}`);
        },
      );
    },
    async titled(expected: string): Promise<void> {
      await waitFor(
        `the title ${JSON.stringify(expected)}`,
        async () => ((await title(xvfb.display, window)) === expected ? true : undefined),
        RELOAD_MS,
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}, got ${await title(xvfb.display, window)}${output()}`);
      });
    },
    /** Ctrl+C: SIGINT to the whole process group; every process of it must end, and the window. */
    async interrupt(): Promise<void> {
      const family = [child.pid!, ...descendants(child.pid!)];
      process.kill(-child.pid!, 'SIGINT');
      await waitFor(
        `every process of npm run ${script} to end after Ctrl+C`,
        () => (family.every((pid) => !alive(pid)) ? true : undefined),
        30_000,
      ).catch((e: Error) => {
        throw new Error(`${e.message}${output()}`);
      });
      expect(await windows(xvfb.display)).toEqual([]);
    },
  };
}

/** The top-level windows on the private display that are mapped (the app's, and only it). */
async function windows(display: string): Promise<number[]> {
  const r = spawnSync('xdotool', ['search', '--onlyvisible', '--name', '.'], {
    env: { ...process.env, DISPLAY: display },
    encoding: 'utf8',
  });
  return r.stdout
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

async function title(display: string, window: number): Promise<string> {
  const out = await runX('xdotool', ['getwindowname', String(window)], {
    ...process.env,
    DISPLAY: display,
  });
  return out.toString().trim();
}

async function click(display: string, window: number, x: number, y: number): Promise<void> {
  await runX(
    'xdotool',
    ['mousemove', '--window', String(window), String(x), String(y), 'click', '1'],
    { ...process.env, DISPLAY: display },
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/** Pids of the processes below `pid` (Linux: /proc). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parents) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/**
 * A shell's environment outside the workspace: no npm/pnpm script variables, no workspace
 * `node_modules/.bin` on PATH, npm's cache inside the temporary folder, this test's Node.
 */
function cleanEnv(dir: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|INIT_CWD$|VITEST|NODE_OPTIONS$)/i.test(k)) continue;
    out[k] = v;
  }
  // The Node that runs this test first (a CI lane's pinned Node lives under the repository).
  out.PATH = [
    dirname(process.execPath),
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter((p) => p && !p.startsWith(repoRoot) && !p.includes(`${sep}node_modules${sep}.bin`)),
  ].join(delimiter);
  out.npm_config_cache = join(dir, 'npm-cache');
  out.npm_config_audit = 'false';
  out.npm_config_fund = 'false';
  out.npm_config_update_notifier = 'false';
  out.npm_config_loglevel = 'error';
  return out;
}
