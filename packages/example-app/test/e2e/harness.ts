/**
 * Helpers for the end-to-end tests: the real app as a child process, started as `pnpm dev` and
 * `pnpm start` start it (`hotshm dev src/main.ts`, `hotshm start src/main.ts`), temporary copies of
 * example-impl, example-app and hot-reloaded-state that tests may edit while the app runs, and the
 * /proc and /dev/shm scans that prove nothing is left behind. Every wait polls a condition.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  childrenOf as childProcesses,
  executableOf,
  processesWithEnv,
} from '../../../hot-reload/src/native/proc.js';
import { run, waitFor } from '../../../hot-reload/test/x11.js';

export const appDir = fileURLToPath(new URL('../..', import.meta.url));
export const packagesDir = join(appDir, '..');
/** The `hotshm` command that `pnpm dev` and `pnpm start` run. */
export const cliScript = join(packagesDir, 'hot-reload', 'bin', 'hotshm.mjs');
/** The owner's module, as the package's scripts name it. */
export const mainModule = 'src/main.ts';
/** The command line of `pnpm dev` (or, with 'start', of `pnpm start`), for a shell. */
export const appCommand = (command: 'dev' | 'start' = 'dev'): string =>
  `${JSON.stringify(process.execPath)} ${JSON.stringify(cliScript)} ${command} ${mainModule}`;

/** rgb(1.0, 0.7, 0.0) truncated, as example-impl computes it. */
export const ORANGE = [255, 178, 0] as const;
/** The app's error border, ERROR_BORDER = 0xffe01b24. */
export const BORDER_RED = [0xe0, 0x1b, 0x24] as const;

/** A copy of example-impl's sources in a temp folder, resolving the workspace's packages. */
export interface TempImpl {
  readonly dir: string;
  readonly entry: string;
  /** The source as copied. */
  readonly original: string;
  /**
   * Writes `base` with each `[from, to]` replaced, in one write (one save, one reload); throws if
   * a `from` is absent, so a change to example-impl fails here clearly. Returns what it wrote.
   */
  edit(base: string, ...replacements: readonly (readonly [string, string])[]): string;
  write(source: string): void;
  remove(): void;
}

/**
 * A copy of hot-reloaded-state (the state definition) in a temp folder, for tests to edit while
 * the app runs; createTempImpl and createTempApp link their `hot-reloaded-state` to it when given
 * its folder, so the owner and the renderer see the edited definition and the checked-in one is
 * never touched.
 */
export interface TempState {
  readonly dir: string;
  /** src/index.ts of the copy: the definition. */
  readonly file: string;
  /** The source as copied. */
  readonly original: string;
  /** As TempImpl.edit: one write with every `[from, to]` replaced; throws if a `from` is absent. */
  edit(base: string, ...replacements: readonly (readonly [string, string])[]): string;
  write(source: string): void;
  remove(): void;
}

export function createTempState(): TempState {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-e2e-state-'));
  mkdirSync(join(dir, 'node_modules', '@hotshm'), { recursive: true });
  symlinkSync(
    join(packagesDir, 'hot-reload'),
    join(dir, 'node_modules', '@hotshm', 'hot-reload'),
    'dir',
  );
  // Its own package.json (name, exports): imports of 'hot-reloaded-state' resolve to src/index.ts.
  copyFileSync(join(packagesDir, 'hot-reloaded-state', 'package.json'), join(dir, 'package.json'));
  cpSync(join(packagesDir, 'hot-reloaded-state', 'src'), join(dir, 'src'), { recursive: true });
  const file = join(dir, 'src', 'index.ts');
  const original = readFileSync(file, 'utf8');
  const write = (source: string): void => writeFileSync(file, source);
  return {
    dir,
    file,
    original,
    edit: (base, ...replacements) => {
      const next = replaced(base, replacements);
      write(next);
      return next;
    },
    write,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function replaced(base: string, replacements: readonly (readonly [string, string])[]): string {
  let next = base;
  for (const [from, to] of replacements) {
    if (!next.includes(from)) throw new Error(`edit: ${JSON.stringify(from)} is not in the source`);
    next = next.replace(from, to);
  }
  return next;
}

/** `options.state`: the folder of a createTempState copy to use instead of the workspace's. */
export function createTempImpl(options: { state?: string } = {}): TempImpl {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-e2e-'));
  mkdirSync(join(dir, 'src'));
  mkdirSync(join(dir, 'node_modules', '@hotshm'), { recursive: true });
  // Symlinks that resolve outside node_modules: the supervisor's bundler bundles them like the
  // workspace's own packages, so the copy sees exactly the state definition the owner uses.
  symlinkSync(
    options.state ?? join(packagesDir, 'hot-reloaded-state'),
    join(dir, 'node_modules', 'hot-reloaded-state'),
    'dir',
  );
  symlinkSync(
    join(packagesDir, 'hot-reload'),
    join(dir, 'node_modules', '@hotshm', 'hot-reload'),
    'dir',
  );
  writeFileSync(join(dir, 'package.json'), '{ "name": "example-impl-copy", "type": "module" }\n');
  const entry = join(dir, 'src', 'index.ts');
  // The whole src folder: index.ts imports its helpers (draw.ts).
  for (const name of readdirSync(join(packagesDir, 'example-impl', 'src'))) {
    copyFileSync(join(packagesDir, 'example-impl', 'src', name), join(dir, 'src', name));
  }
  const original = readFileSync(entry, 'utf8');
  const write = (source: string): void => writeFileSync(entry, source);
  return {
    dir,
    entry,
    original,
    edit(base, ...replacements) {
      const next = replaced(base, replacements);
      write(next);
      return next;
    },
    write,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A copy of example-app's sources in a temp folder (the owner's code, for tests to edit). */
export interface TempApp {
  readonly dir: string;
  /** src/main.ts of the copy. */
  readonly appFile: string;
  readonly original: string;
  /** Writes main.ts with `from` replaced by `to` (throws if `from` is absent). Returns the text. */
  edit(base: string, from: string, to: string): string;
  remove(): void;
}

/** `options.state`: the folder of a createTempState copy to use instead of the workspace's. */
export function createTempApp(options: { state?: string } = {}): TempApp {
  const dir = mkdtempSync(join(tmpdir(), 'hotshm-e2e-app-'));
  cpSync(join(appDir, 'src'), join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'node_modules', '@hotshm'), { recursive: true });
  const link = (name: string) =>
    symlinkSync(
      name === 'hot-reloaded-state' && options.state !== undefined
        ? options.state
        : realpathSync(join(appDir, 'node_modules', name)),
      join(dir, 'node_modules', name),
    );
  for (const name of ['@hotshm/hot-reload', 'hot-reloaded-state', 'example-impl', 'koffi']) {
    link(name);
  }
  writeFileSync(join(dir, 'package.json'), '{ "name": "example-app-copy", "type": "module" }\n');
  const appFile = join(dir, 'src', 'main.ts');
  const original = readFileSync(appFile, 'utf8');
  return {
    dir,
    appFile,
    original,
    edit(base, from, to) {
      if (!base.includes(from)) throw new Error(`edit: ${JSON.stringify(from)} is not in main.ts`);
      const next = base.replace(from, to);
      writeFileSync(appFile, next);
      return next;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** The app as a child process, with its output gathered line by line. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** The launcher (`hotshm`): the process whose exit status is the app's. */
  readonly launcherPid: number;
  /**
   * The owner in charge: the launcher's owner process under `dev` (a new one after an edit of the
   * owner's code), the launcher itself under `start`.
   */
  readonly pid: number;
  readonly stdout: string[];
  readonly stderr: string[];
  /** Exit code (or 128 + signal number) once it exited. */
  readonly exited: Promise<number>;
  /** The first stdout line (from index `from`) matching `re`; waits for it. */
  line(what: string, re: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts the app; resolves once its owner process exists. */
export async function startApp(options: {
  env: NodeJS.ProcessEnv;
  command?: 'dev' | 'start';
  args?: readonly string[];
  /** The app's folder (default example-app's own; createTempApp's for a copy). */
  dir?: string;
}): Promise<AppProcess> {
  const command = options.command ?? 'dev';
  const child = spawn(process.execPath, [cliScript, command, mainModule, ...(options.args ?? [])], {
    cwd: options.dir ?? appDir,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => stdout.push(l));
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number>((resolve) => {
    child.once('exit', (code, signal) =>
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 0)),
    );
  });
  if (child.pid === undefined) throw new Error('could not start the app');
  const launcherPid = child.pid;
  const owner = (): number | undefined =>
    command === 'start' ? launcherPid : ownerUnder(launcherPid);
  let last = await waitFor('the owner process', owner, 30_000).catch((e) => {
    throw new Error(`${String(e)}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`);
  });
  return {
    child,
    launcherPid,
    get pid() {
      last = owner() ?? last;
      return last;
    },
    stdout,
    stderr,
    exited,
    line: (what, re, from = 0, timeoutMs = 30_000) =>
      waitFor(what, () => stdout.slice(from).find((l) => re.test(l)), timeoutMs).catch((e) => {
        throw new Error(
          `${String(e)}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr.join('\n')}`,
        );
      }),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** An environment for the app on `display`: no Wayland, no backend override unless given. */
export function appEnv(display: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display, ...extra };
  delete env.WAYLAND_DISPLAY;
  if (!('HOTSHM_BACKEND' in extra)) delete env.HOTSHM_BACKEND;
  if (!('HOTSHM_EXAMPLE_ENTRY' in extra)) delete env.HOTSHM_EXAMPLE_ENTRY;
  return env;
}

/**
 * The owner process `hotshm dev` runs under `launcher` (the newest, while a restart hands over),
 * or undefined before it has started one.
 */
export function ownerUnder(launcher: number): number | undefined {
  let newest: { pid: number; start: number } | undefined;
  for (const c of childrenOf(launcher)) {
    try {
      if (!readFileSync(`/proc/${c.pid}/cmdline`, 'latin1').includes('launcher-boot')) continue;
      const stat = readFileSync(`/proc/${c.pid}/stat`, 'latin1');
      const start = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
      if (!newest || start >= newest.start) newest = { pid: c.pid, start };
    } catch {
      // gone meanwhile
    }
  }
  return newest?.pid;
}

/** The pids of live processes whose environment says HOTSHM_OWNER_PID=<owner>. */
export function processesOwnedBy(owner: number): number[] {
  return processesWithEnv('HOTSHM_OWNER_PID', String(owner)).map((p) => p.pid);
}

/**
 * Live child processes of `pid`: their command names (from /proc/<pid>/stat) and the executable
 * they run (/proc/<pid>/exe, undefined if it cannot be read).
 */
export function childrenOf(pid: number): { pid: number; comm: string; exe: string | undefined }[] {
  return childProcesses(pid).map((p) => ({ pid: p.pid, comm: p.comm, exe: executableOf(p.pid) }));
}

const NODE_EXE = realpathSync(process.execPath);

/**
 * True if the process runs the same Node binary as the tests (the app and its renderers are
 * started with process.execPath). Not by its command name: Node 24 names its main thread
 * "MainThread" and Node 26 "node-MainThread", and the main thread's name is the process's comm.
 */
export function runsNode(child: { exe: string | undefined }): boolean {
  return child.exe === NODE_EXE;
}

/** Shared-memory regions the owner `pid` created (POSIX shm lives in /dev/shm on Linux). */
export function regionsOf(pid: number): string[] {
  return readdirSync('/dev/shm').filter((n) => n.startsWith(`hotshm-${pid}-`));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** X tools on one display. */
export function x11(display: string) {
  const env = { ...process.env, DISPLAY: display };
  const xdotool = async (...args: string[]) => (await run('xdotool', args, env)).toString().trim();
  return {
    xdotool,
    /** The window of process `pid` titled exactly `title`; waits for it. */
    findWindow: (pid: number, title: string, timeoutMs = 30_000) =>
      waitFor(
        `the window of pid ${pid} titled ${JSON.stringify(title)}`,
        async () => {
          const ids = await xdotool(
            'search',
            '--pid',
            String(pid),
            '--name',
            `^${escapeRe(title)}$`,
          );
          const first = ids.split('\n').filter(Boolean)[0];
          return first ? Number(first) : undefined;
        },
        timeoutMs,
      ),
    title: (window: number) => xdotool('getwindowname', String(window)),
    /** Waits until the title satisfies `ok`; returns it. */
    waitTitle: (window: number, what: string, ok: (t: string) => boolean, timeoutMs = 30_000) =>
      waitFor(
        `title ${what}`,
        async () => {
          const t = await xdotool('getwindowname', String(window));
          return ok(t) ? t : undefined;
        },
        timeoutMs,
      ),
    /** xwininfo's fields we check: size and map state. */
    info: async (window: number) => {
      const text = (await run('xwininfo', ['-id', String(window)], env)).toString();
      return {
        width: Number(/Width: (\d+)/.exec(text)?.[1]),
        height: Number(/Height: (\d+)/.exec(text)?.[1]),
        mapState: /Map State: (\w+)/.exec(text)?.[1] ?? '',
      };
    },
    /** Left click at window coordinates (moving there first, as a user would). */
    click: (window: number, x: number, y: number) =>
      xdotool('mousemove', '--window', String(window), String(x), String(y), 'click', '1'),
    /** Without a window manager X gives the keyboard to the window under the pointer. */
    key: (window: number, key: string) =>
      xdotool('mousemove', '--window', String(window), '150', '150', 'key', key),
    /** All top-level windows titled like the app's, on this display. */
    /**
     * The ids of the windows whose title matches `re`. xdotool exits non-zero when none matches,
     * and also when a window is destroyed while it walks the tree (an X error, BadWindow): that
     * is no answer, and the search is made again.
     */
    windowsNamed: async (re: string): Promise<string[]> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return (await xdotool('search', '--name', re)).split('\n').filter(Boolean);
        } catch (e) {
          if (!/X Error|BadWindow/.test(String(e)) || attempt >= 10) return [];
        }
      }
    },
  };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Kills every owner of `owners` and every process each one started, whatever is still alive. */
export function killOwners(owners: readonly number[]): void {
  for (const owner of owners) {
    for (const pid of [owner, ...processesOwnedBy(owner)]) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    }
  }
}
