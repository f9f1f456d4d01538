/** The words the window uses for what the host reports (the loop's own tests cover the rest). */
import { describe, expect, it } from 'vitest';
import { RendererCrashError, RendererStartError } from '../errors.js';
import type { HostEvents } from '../host/events.js';
import { nextProblem } from './problem.js';

type Crash = HostEvents['crash'][0];
const crash = (extra: Partial<Crash>): Crash => ({
  pid: 1,
  epoch: 2,
  code: null,
  signal: null,
  phase: 'running',
  error: new RendererCrashError('m', null, null),
  message: 'm',
  stderr: '',
  willRestart: true,
  restartInMs: 100,
  ...extra,
});

describe('nextProblem', () => {
  it('tells a failed start by what failed, never by the signal that stopped it', () => {
    const start = (stage: 'import' | 'main' | 'timeout' | 'exit') =>
      nextProblem(
        undefined,
        'crash',
        crash({ phase: 'start', signal: 'SIGTERM', error: new RendererStartError(stage, 'x') }),
      );
    expect(start('timeout')).toBe('renderer failed to start (timed out)');
    expect(start('main')).toBe('renderer failed to start (threw in main())');
    expect(start('import')).toBe('renderer failed to start (threw at its top level)');
    expect(start('exit')).toBe('renderer failed to start (SIGTERM)');
  });

  it('tells a running renderer’s crash by its signal or exit code', () => {
    expect(nextProblem(undefined, 'crash', crash({ signal: 'SIGKILL' }))).toBe(
      'renderer crashed (SIGKILL)',
    );
    expect(nextProblem(undefined, 'crash', crash({ code: 3 }))).toBe('renderer crashed (exit 3)');
  });

  it('keeps a problem that is not a build error when a build succeeds', () => {
    const done = { buildMs: 1, unchanged: false };
    expect(nextProblem('renderer crashed (exit 1)', 'build-done', done)).toBe(
      'renderer crashed (exit 1)',
    );
    expect(nextProblem('build error at a.ts:1:1', 'build-done', done)).toBeUndefined();
  });
});
