/**
 * Finds the reloadable's entry file from what the state declared: a URL, an absolute path, or a
 * package name that the owner depends on. A package name is resolved the way the owner's own
 * imports are: from the owner's main script, then from the working directory's package. Relative
 * paths never get here (the state layer refuses them).
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EntryNotFoundError } from '../errors.js';

/** The entry's absolute file path; throws `EntryNotFoundError` when there is none. */
export function resolveEntry(entry: string | URL): string {
  const shown = entry instanceof URL ? entry.href : entry;
  let file: string | undefined;
  if (entry instanceof URL || entry.startsWith('file:')) {
    try {
      file = fileURLToPath(entry);
    } catch (e) {
      throw new EntryNotFoundError(shown, `expected a file: URL, got ${shown}`, { cause: e });
    }
  } else if (isAbsolute(entry)) {
    file = entry;
  } else {
    const bases = [process.argv[1], resolvePath('package.json')].filter(
      (b): b is string => typeof b === 'string' && b.length > 0,
    );
    const errors: string[] = [];
    for (const base of bases) {
      try {
        return createRequire(pathToFileURL(base)).resolve(entry);
      } catch (e) {
        errors.push(`from ${base}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    throw new EntryNotFoundError(
      shown,
      `expected a package the owner depends on, an absolute path or a URL (${errors.join('; ')})`,
    );
  }
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new EntryNotFoundError(shown, `expected a file at ${file}, found none`);
  }
  return file;
}
