/**
 * Each template as the project it becomes, typechecked with its own tsconfig.json (module
 * nodenext, as Node resolves) against this workspace's library: a template that drifts from the
 * library's API fails here, before the end-to-end test installs anything.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createProject, TEMPLATES, type TemplateName } from '../src/index.js';

// Inside the package, so the project resolves the packages this workspace links here.
const WORK = fileURLToPath(
  new URL('../node_modules/.cache/create-hotshm-templates', import.meta.url),
);
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

afterAll(() => rmSync(WORK, { recursive: true, force: true }));

describe.each(Object.keys(TEMPLATES) as TemplateName[])('the %s template', (template) => {
  it('typechecks as a project, with its own tsconfig.json', () => {
    const dir = join(WORK, `${template}-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(WORK, { recursive: true });
    createProject({ dir, template });
    const r = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], {
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
