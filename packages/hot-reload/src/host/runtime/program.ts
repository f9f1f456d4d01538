/**
 * Runs a program file the owner built and returns its entry's namespace: an ES module bundle
 * (`.mjs`, imported) today.
 */
import { pathToFileURL } from 'node:url';

export async function runProgram(file: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}
