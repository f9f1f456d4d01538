/**
 * What the terminal back end's window does with the process's output (capture.ts): while it
 * shows, stdout and stderr (console included) go to a log file; a clean close gives them back and
 * removes the file; logs of owners that are gone are removed, those of live ones kept.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { removeStaleLogs, terminalLogPath } from '../src/window/capture.js';

const child = fileURLToPath(new URL('./window-capture-child.ts', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'hotshm-capture-'));
  dirs.push(d);
  return d;
};

describe('captureOutput', () => {
  it('sends stdout and stderr to the file until restored, then gives them back', () => {
    const log = join(scratch(), 'owner.log');
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, log, 'keep'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe(
      'to stdout\nto stderr\nthrough console.log\nthrough console.error\n',
    );
    expect(r.stdout).toBe('after restore\n');
    expect(r.stderr).toBe('after restore (stderr)\n');
  });

  it('removes the file on a clean end', () => {
    const log = join(scratch(), 'owner.log');
    const r = spawnSync(process.execPath, ['--import', 'tsx', child, log, 'remove'], {
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    expect(existsSync(log)).toBe(false);
  });

  it('names the log after the pid, in the temporary folder', () => {
    expect(terminalLogPath(123)).toBe(join(tmpdir(), 'hotshm-123.log'));
  });
});

describe('removeStaleLogs', () => {
  it('removes the logs of owners that are gone and keeps those of live ones and other files', async () => {
    const dir = scratch();
    const gone = spawnSync('true').pid!;
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const files = [
        `hotshm-${gone}.log`,
        `hotshm-${sleeper.pid}.log`,
        'hotshm-x.log',
        'other.log',
      ];
      for (const f of files) writeFileSync(join(dir, f), 'log\n');
      removeStaleLogs(dir);
      expect(files.filter((f) => existsSync(join(dir, f)))).toEqual(files.slice(1));
    } finally {
      sleeper.kill('SIGKILL');
    }
  });
});
