/**
 * Runs a program file the owner built and returns its entry's namespace: a program description
 * (`.json`, see ../build/types.ts), evaluated by the module runner without Node's module loader,
 * each module under its own source URL; or an ES module bundle (`.mjs`), imported.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { evaluateProgram } from '../build/evaluate.js';
import type { Program } from '../build/types.js';

export async function runProgram(file: string): Promise<Record<string, unknown>> {
  if (file.endsWith('.json')) {
    const program = JSON.parse(readFileSync(file, 'utf8')) as Program;
    return (await evaluateProgram(program)) as Record<string, unknown>;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}
