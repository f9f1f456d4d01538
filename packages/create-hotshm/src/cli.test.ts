/**
 * The CLI as `npm create hotshm` runs it: a real process in a real folder, its output and exit code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
/** tsx as this workspace has it: the child runs in a folder that has no node_modules. */
const TSX = import.meta.resolve('tsx');

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'create-hotshm-cli-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd: tmp,
    encoding: 'utf8',
    env: { ...process.env, npm_config_user_agent: 'npm/10.8.2 node/v20.20.2 linux x64' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('create-hotshm', () => {
  it('writes the default template into the folder named, then prints the next steps', () => {
    const r = cli('my-app');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      `Created my-app in ${join(tmp, 'my-app')} from the minimal template`,
    );
    expect(r.stdout).toContain('  cd my-app\n  npm install\n  npm run dev ');
    expect(JSON.parse(readFileSync(join(tmp, 'my-app', 'package.json'), 'utf8')).name).toBe(
      'my-app',
    );
  });

  it('takes --template (or -t) and --name; with no folder it makes hotshm-app', () => {
    expect(cli('--template', 'canvas', 'a').code).toBe(0);
    expect(existsSync(join(tmp, 'a', 'src', 'scene.ts'))).toBe(true);
    expect(cli('b', '-t', 'canvas', '--name', 'bee').code).toBe(0);
    expect(JSON.parse(readFileSync(join(tmp, 'b', 'package.json'), 'utf8')).name).toBe('bee');
    const r = cli();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  cd hotshm-app\n');
    expect(existsSync(join(tmp, 'hotshm-app', 'src', 'renderer.ts'))).toBe(true);
  });

  it('refuses a non-empty folder with exit 1 and writes nothing into it', () => {
    mkdirSync(join(tmp, 'busy'));
    writeFileSync(join(tmp, 'busy', 'keep.txt'), 'x');
    const r = cli('busy');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `create-hotshm: expected a new or empty folder at ${join(tmp, 'busy')}, got one that holds 1 entry (keep.txt): choose another folder, or empty this one\n`,
    );
    expect(existsSync(join(tmp, 'busy', 'package.json'))).toBe(false);
  });

  it('says what is wrong with the arguments, with the usage', () => {
    const unknown = cli('x', '--template', 'vue');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      'create-hotshm: expected a template among minimal, canvas, got "vue"\n',
    );
    const option = cli('--colour', 'red');
    expect(option.code).toBe(1);
    expect(option.stderr).toMatch(/^create-hotshm: Unknown option '--colour'/);
    expect(option.stderr).toContain('Usage: npm create hotshm@latest');
    const two = cli('a', 'b');
    expect(two.code).toBe(1);
    expect(two.stderr).toMatch(/^create-hotshm: expected one folder, got 2: a b\n/);
    expect(existsSync(join(tmp, 'x'))).toBe(false);
    expect(existsSync(join(tmp, 'a'))).toBe(false);
  });

  it('prints its usage and its version', () => {
    const help = cli('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain(
      'Usage: npm create hotshm@latest [folder] [-- --template <name>]',
    );
    expect(help.stdout).toContain('minimal (default): ');
    expect(help.stdout).toContain('canvas: ');
    const version = cli('-v');
    const own = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(version.stdout).toBe(`${own.version}\n`);
  });
});
