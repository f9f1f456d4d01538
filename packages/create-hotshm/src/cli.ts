#!/usr/bin/env node
/**
 * `npm create hotshm@latest [folder] [-- --template canvas]`, or `create-hotshm …`: writes the
 * project and prints what to type next. No prompts: what is not given takes its default.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  CreateError,
  createProject,
  DEFAULT_DIR,
  DEFAULT_TEMPLATE,
  nextSteps,
  TEMPLATES,
} from './create.js';

const USAGE = `Usage: npm create hotshm@latest [folder] [-- --template <name>]
       create-hotshm [folder] [--template <name>] [--name <package name>]

Writes a hotshm app into <folder> (default ${DEFAULT_DIR}), which must be new or empty.

Options:
  -t, --template <name>  ${Object.entries(TEMPLATES)
    .map(([name, what]) => `${name}${name === DEFAULT_TEMPLATE ? ' (default)' : ''}: ${what}`)
    .join('\n                         ')}
      --name <name>      the package name (default: made from the folder's name)
  -h, --help             this text
  -v, --version          the version of create-hotshm
`;

function main(argv: string[]): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    process.stderr.write(`create-hotshm: ${(e as Error).message}\n\n${USAGE}`);
    return 1;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (positionals.length > 1) {
    process.stderr.write(
      `create-hotshm: expected one folder, got ${positionals.length}: ${positionals.join(' ')}\n\n${USAGE}`,
    );
    return 1;
  }
  try {
    const project = createProject({
      dir: positionals[0] ?? DEFAULT_DIR,
      ...(values.template === undefined ? {} : { template: values.template }),
      ...(values.name === undefined ? {} : { name: values.name }),
    });
    process.stdout.write(nextSteps(project));
    return 0;
  } catch (e) {
    if (!(e instanceof CreateError)) throw e;
    process.stderr.write(`create-hotshm: ${e.message}\n`);
    return 1;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      template: { type: 'string', short: 't' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  });
}

process.exitCode = main(process.argv.slice(2));
