/** Real files for the build tests: a project folder written from a map of paths to contents. */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface Project {
  readonly dir: string;
  path(name: string): string;
  write(name: string, text: string): string;
  remove(): void;
}

export function project(files: Readonly<Record<string, string>>): Project {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'hotshm-build-')));
  const p: Project = {
    dir,
    path: (name) => join(dir, name),
    write(name, text) {
      const file = join(dir, name);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [name, text] of Object.entries(files)) p.write(name, text);
  return p;
}

/** Polls `check` every 5 ms until it returns something other than undefined/false. */
export async function until<T>(
  what: string,
  check: () => T | undefined | false,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
