/**
 * Chooses the back end once, at start: HOTSHM_BACKEND if set, else SDL2, else the terminal when
 * stdout is one, else headless. Each back end is imported only when tried, so a machine without
 * koffi's SDL never loads it. When the first choice fails, `note` says why in one line, with the
 * command that installs SDL2 when that is what is missing.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../errors.js';
import { BackendFailure, BackendUnavailableError } from './errors.js';
import type { Backend, BackendName, OpenBackendOptions, OpenedBackend } from './types.js';

const NAMES: readonly BackendName[] = ['sdl', 'terminal', 'headless'];

/**
 * Reads HOTSHM_BACKEND: undefined when unset or empty; a clear error for anything else unknown.
 */
export function backendFromEnv(
  value: string | undefined = process.env.HOTSHM_BACKEND,
): BackendName | undefined {
  if (value === undefined || value === '') return undefined;
  if ((NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new InvalidArgumentError(
    `HOTSHM_BACKEND: expected one of ${NAMES.join(', ')}, got ${JSON.stringify(value)}`,
  );
}

/**
 * The command that installs SDL2 here, as one phrase.
 * @example sdlInstallHint('linux') // 'sudo apt-get install libsdl2-2.0-0' on Debian or Ubuntu
 */
export function sdlInstallHint(platform: string = process.platform): string {
  switch (platform) {
    case 'darwin':
      return 'brew install sdl2';
    case 'win32':
      return 'put SDL2.dll (https://github.com/libsdl-org/SDL/releases) next to node.exe or on PATH';
    case 'linux': {
      const distro = linuxDistro();
      if (distro === 'debian') return 'sudo apt-get install libsdl2-2.0-0';
      if (distro === 'fedora') return 'sudo dnf install SDL2';
      return 'sudo apt-get install libsdl2-2.0-0 (Debian/Ubuntu) or sudo dnf install SDL2 (Fedora)';
    }
    default:
      return 'install SDL2 from your package manager';
  }
}

function linuxDistro(): 'debian' | 'fedora' | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/os-release', 'utf8');
  } catch {
    return undefined;
  }
  const ids = /^ID(?:_LIKE)?=.*$/gm;
  const line = (text.match(ids) ?? []).join(' ').toLowerCase();
  if (/debian|ubuntu/.test(line)) return 'debian';
  if (/fedora|rhel|centos/.test(line)) return 'fedora';
  return undefined;
}

/**
 * Opens the display back end for the owner.
 * @example
 * const { backend, note } = await openBackend({ width: 300, height: 300, title: 'Demo' });
 * if (note) console.error(note);
 */
export async function openBackend(options: OpenBackendOptions): Promise<OpenedBackend> {
  const { width, height } = options;
  if (!Number.isInteger(width) || width <= 0 || !Number.isInteger(height) || height <= 0) {
    throw new InvalidArgumentError(
      `openBackend: expected a positive integer width and height, got ${width}×${height}`,
    );
  }
  const forced = backendFromEnv();
  const first = forced ?? options.prefer ?? 'sdl';
  if (forced !== undefined) {
    // Asked for by name: failing to open it is an error, not a silent fallback.
    try {
      return { backend: await open(forced, options) };
    } catch (error) {
      if (error instanceof BackendUnavailableError) {
        throw new BackendUnavailableError(
          error.backend,
          error.reason,
          `HOTSHM_BACKEND=${forced}: ${reasonText(error)}`,
          { cause: error },
        );
      }
      throw error;
    }
  }
  const order: BackendName[] = [first, ...NAMES.filter((n) => n !== first)];
  const failures: BackendUnavailableError[] = [];
  for (const name of order) {
    // The terminal is a fallback only for a terminal: never when output goes to a file or pipe.
    if (name === 'terminal' && name !== first && !process.stdout.isTTY) continue;
    try {
      const backend = await open(name, options);
      if (failures.length === 0) return { backend };
      return { backend, note: await noteFor(failures, name) };
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      failures.push(error);
    }
  }
  // Unreachable: headless always opens.
  throw (
    failures[failures.length - 1] ??
    new BackendUnavailableError('headless', BackendFailure.Failed, 'no display back end opened')
  );
}

async function open(name: BackendName, options: OpenBackendOptions): Promise<Backend> {
  switch (name) {
    case 'sdl': {
      const { openSdl } = await import('./sdl.js');
      return openSdl(options);
    }
    case 'terminal': {
      const { openTerminal } = await import('./terminal.js');
      return openTerminal(options);
    }
    case 'headless': {
      const { HeadlessBackend } = await import('./headless.js');
      return new HeadlessBackend(options);
    }
  }
}

/** What failed, as a phrase; with the install command only when installing SDL2 would help. */
function reasonText(error: BackendUnavailableError): string {
  if (error.reason === BackendFailure.NoLibrary) {
    return `${error.message}; install it with: ${sdlInstallHint()}`;
  }
  return error.message;
}

async function noteFor(failures: BackendUnavailableError[], chosen: BackendName): Promise<string> {
  const first = failures[0]!;
  let why = reasonText(first);
  if (first.backend === 'sdl' && first.reason === BackendFailure.NoDisplay) {
    // With no display SDL was not even loaded: say so too if the library is missing as well.
    const { loadSdl } = await import('./sdl.js');
    try {
      loadSdl();
    } catch (error) {
      if (error instanceof BackendUnavailableError) {
        why = `${why}, and ${reasonText(error)}`;
      }
    }
  }
  const line = `${first.backend} unavailable: ${why}; using the ${chosen} back end`;
  return line.replace(/\s*\n\s*/g, ' ');
}
