/**
 * How openBackend chooses, run in child processes with a controlled environment (stdout a pipe,
 * so never a terminal): the HOTSHM_BACKEND override and its validation, and the one-line notes
 * for a missing display, a missing library and an SDL that fails.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backendFromEnv, sdlInstallHint } from '../src/window/index.js';
import { startXvfb, type Xvfb } from './x11.js';

const child = fileURLToPath(new URL('./window-select-child.ts', import.meta.url));

interface Outcome {
  name?: string;
  note?: string | null;
  error?: { name: string; code?: string; reason: string | null; message: string };
}

const KEYS = [
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'SDL_VIDEODRIVER',
  'HOTSHM_BACKEND',
  'HOTSHM_SDL_LIBRARY',
];

/**
 * Runs every scenario in one child, in order; each starts from a clean slate (all of KEYS unset).
 * The scenarios with a bogus library must come before any that loads the real one: SDL is
 * loaded once per process.
 */
function selectAll(scenarios: Record<string, string>[]): Outcome[] {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of KEYS) delete env[key];
  const full = scenarios.map((s) => ({
    ...Object.fromEntries(KEYS.map((k) => [k, null])),
    ...s,
  }));
  const result = spawnSync(process.execPath, ['--import', 'tsx', child, JSON.stringify(full)], {
    env,
    encoding: 'utf8',
  });
  try {
    return JSON.parse(result.stdout.trim().split('\n').pop() ?? '') as Outcome[];
  } catch {
    throw new Error(
      `select-child printed ${JSON.stringify(result.stdout)}; stderr ${result.stderr}`,
    );
  }
}

describe('openBackend selection', () => {
  // Debian here (CI too): the install command is apt-get's.
  const install = 'sudo apt-get install libsdl2-2.0-0';
  let xvfb: Xvfb;
  let outcome: Record<string, Outcome>;
  beforeAll(async () => {
    xvfb = await startXvfb();
    const named: [string, Record<string, string>][] = [
      [
        'missing library',
        { DISPLAY: xvfb.display, HOTSHM_SDL_LIBRARY: '/nonexistent/libSDL2-2.0.so.0' },
      ],
      ['no display, no library', { HOTSHM_SDL_LIBRARY: '/nonexistent/libSDL2.so' }],
      [
        'forced sdl, missing library',
        { HOTSHM_BACKEND: 'sdl', DISPLAY: xvfb.display, HOTSHM_SDL_LIBRARY: '/nope.so' },
      ],
      ['invalid HOTSHM_BACKEND', { HOTSHM_BACKEND: 'SDL' }],
      ['no display', {}],
      ['forced sdl, no display', { HOTSHM_BACKEND: 'sdl' }],
      ['forced terminal, not a tty', { HOTSHM_BACKEND: 'terminal' }],
      ['unreachable display', { DISPLAY: ':9' }],
      ['display', { DISPLAY: xvfb.display }],
    ];
    const outcomes = selectAll(named.map(([, env]) => env));
    outcome = Object.fromEntries(named.map(([name], i) => [name, outcomes[i] ?? {}]));
  });
  afterAll(async () => {
    await xvfb?.stop();
  });

  it('knows the install command for each platform', () => {
    expect(sdlInstallHint('linux')).toBe(install);
    expect(sdlInstallHint('darwin')).toBe('brew install sdl2');
    expect(sdlInstallHint('win32')).toMatch(/SDL2\.dll.*PATH/);
  });

  it('rejects an unknown HOTSHM_BACKEND naming the allowed values and what came', () => {
    expect(() => backendFromEnv('vulkan')).toThrowError(
      'HOTSHM_BACKEND: expected one of sdl, terminal, headless, got "vulkan"',
    );
    expect(backendFromEnv('')).toBeUndefined();
    expect(backendFromEnv('headless')).toBe('headless');
    expect(outcome['invalid HOTSHM_BACKEND']!.error).toMatchObject({
      name: 'InvalidArgumentError',
      code: 'HOTSHM_INVALID_ARGUMENT',
      message: 'HOTSHM_BACKEND: expected one of sdl, terminal, headless, got "SDL"',
    });
  });

  it('opens SDL, without a note, when there is a display and the library', () => {
    expect(outcome.display).toEqual({ name: 'sdl', note: null });
  });

  it('falls back to headless (stdout is no terminal) saying "no display", without an install command', () => {
    const { name, note } = outcome['no display']!;
    expect(name).toBe('headless');
    expect(note).toMatch(/^sdl unavailable: no display \(DISPLAY and WAYLAND_DISPLAY are unset\)/);
    expect(note).toMatch(/using the headless back end$/);
    expect(note).not.toContain('install');
    expect(note).not.toContain('\n');
  });

  it('says what to install when the library is missing', () => {
    const { name, note } = outcome['missing library']!;
    expect(name).toBe('headless');
    expect(note).toContain('SDL2 library not found: tried /nonexistent/libSDL2-2.0.so.0');
    expect(note).toContain(`install it with: ${install}`);
    expect(note).not.toContain('\n');
  });

  it('mentions both when there is no display and no library', () => {
    const { note } = outcome['no display, no library']!;
    expect(note).toContain('no display');
    expect(note).toContain(`install it with: ${install}`);
  });

  it('says the display cannot be reached when DISPLAY names no server, without an install command', () => {
    const { name, note } = outcome['unreachable display']!;
    expect(name).toBe('headless');
    // SDL 2.26 does not fail here: it silently picks its offscreen driver, which is caught.
    expect(note).toBe(
      'sdl unavailable: cannot reach display :9 (SDL fell back to its "offscreen" video driver); using the headless back end',
    );
  });

  it('fails loudly when the back end named by HOTSHM_BACKEND cannot open', () => {
    expect(outcome['forced sdl, no display']!.error).toMatchObject({
      name: 'BackendUnavailableError',
      code: 'HOTSHM_BACKEND_UNAVAILABLE',
      reason: 'no-display',
      message: 'HOTSHM_BACKEND=sdl: no display (DISPLAY and WAYLAND_DISPLAY are unset)',
    });
    expect(outcome['forced sdl, missing library']?.error?.message).toContain(
      `install it with: ${install}`,
    );
    expect(outcome['forced terminal, not a tty']!.error).toMatchObject({
      name: 'BackendUnavailableError',
      reason: 'not-a-terminal',
    });
  });
});
