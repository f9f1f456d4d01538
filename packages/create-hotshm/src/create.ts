/**
 * The generator: a template folder copied into a new project, with the project's name put in and
 * a package.json written for it. Files come from `templates/common` and then `templates/<name>`
 * (a file of the template replaces the common one of the same path). `_gitignore` becomes
 * `.gitignore`: npm leaves a `.gitignore` out of every published package.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The templates, each with the line that describes it. */
export const TEMPLATES = {
  minimal: "a window in one colour that changes on every click (the hotshm example's)",
  canvas: 'text, shapes and an animation drawn with Skia; the click count survives reloads',
} as const;
export type TemplateName = keyof typeof TEMPLATES;
export const DEFAULT_TEMPLATE: TemplateName = 'minimal';
/** The folder created when none is named. */
export const DEFAULT_DIR = 'hotshm-app';

/** The word in the templates that becomes the project's name. */
const NAME_TOKEN = 'hotshm-app';
/** Entries a folder may hold and still count as empty. */
const IGNORED_ENTRIES = new Set(['.git']);

/**
 * Versions a project is created with, pinned: what the end-to-end test installs and runs. (The
 * generator's tests check them against the workspace's own pins.)
 */
export const VERSIONS = {
  typescript: '5.9.3',
  '@types/node': '20.19.43',
  'canvaskit-wasm': '0.42.0',
  '@expo-google-fonts/roboto-mono': '0.4.2',
} as const;

export const CreateErrorCode = {
  NotEmpty: 'CREATE_HOTSHM_NOT_EMPTY',
  NotADirectory: 'CREATE_HOTSHM_NOT_A_DIRECTORY',
  UnknownTemplate: 'CREATE_HOTSHM_UNKNOWN_TEMPLATE',
  BadName: 'CREATE_HOTSHM_BAD_NAME',
} as const;
export type CreateErrorCode = (typeof CreateErrorCode)[keyof typeof CreateErrorCode];

/** What the generator refuses, with a message that says what it expected and what it found. */
export class CreateError extends Error {
  readonly code: CreateErrorCode;
  constructor(code: CreateErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'CreateError';
  }
}

export interface CreateOptions {
  /** The project's folder: created if missing, refused if it holds anything. */
  readonly dir: string;
  /** Default `minimal`. */
  readonly template?: string;
  /** The package name; default: made from the folder's name. */
  readonly name?: string;
}

export interface CreatedProject {
  /** Absolute path of the project. */
  readonly dir: string;
  readonly name: string;
  readonly template: TemplateName;
  /** The files written, relative to `dir`, sorted. */
  readonly files: readonly string[];
}

const templatesRoot = (): string =>
  // src/create.ts and dist/<chunk>.js both sit one folder below the package.
  fileURLToPath(new URL('../templates', import.meta.url));

function ownVersion(): string {
  const pkg = JSON.parse(
    readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8'),
  ) as { version: string };
  return pkg.version;
}

/** An npm package name made from a folder name: lower case, other characters as `-`. */
export function packageNameFor(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/^[._-]+/, '')
    .replace(/-+$/, '');
  return name.length > 0 ? name.slice(0, 214) : DEFAULT_DIR;
}

function checkName(name: string): void {
  if (name.length === 0 || name.length > 214 || !/^[a-z0-9~][a-z0-9._~-]*$/.test(name)) {
    throw new CreateError(
      CreateErrorCode.BadName,
      `expected a package name (lower-case letters, digits, '-', '.', '_' or '~', not starting with '.', '_' or '-', at most 214 characters), got ${JSON.stringify(name)}`,
    );
  }
}

function checkTemplate(template: string): asserts template is TemplateName {
  if (!Object.hasOwn(TEMPLATES, template)) {
    throw new CreateError(
      CreateErrorCode.UnknownTemplate,
      `expected a template among ${Object.keys(TEMPLATES).join(', ')}, got ${JSON.stringify(template)}`,
    );
  }
}

/** Refuses a path that is a file, or a folder that holds anything but `.git`. */
function checkTarget(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) {
    throw new CreateError(
      CreateErrorCode.NotADirectory,
      `expected a new or empty folder at ${dir}, got a file`,
    );
  }
  const entries = readdirSync(dir).filter((e) => !IGNORED_ENTRIES.has(e));
  if (entries.length > 0) {
    const shown = entries.sort().slice(0, 3).join(', ');
    throw new CreateError(
      CreateErrorCode.NotEmpty,
      `expected a new or empty folder at ${dir}, got one that holds ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'} (${shown}${entries.length > 3 ? ', …' : ''}): choose another folder, or empty this one`,
    );
  }
}

/** Every file under `dir`, relative to it. */
function walk(dir: string, under = ''): string[] {
  return readdirSync(join(dir, under), { withFileTypes: true }).flatMap((e) => {
    const rel = under ? `${under}/${e.name}` : e.name;
    return e.isDirectory() ? walk(dir, rel) : [rel];
  });
}

function packageJson(name: string, template: TemplateName): string {
  const dependencies: Record<string, string> = { '@hotshm/hot-reload': `^${ownVersion()}` };
  if (template === 'canvas') {
    dependencies['@expo-google-fonts/roboto-mono'] = VERSIONS['@expo-google-fonts/roboto-mono'];
    dependencies['canvaskit-wasm'] = VERSIONS['canvaskit-wasm'];
  }
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: {
      dev: 'hotshm dev src/owner.ts',
      start: 'hotshm start src/owner.ts',
      typecheck: 'tsc',
    },
    engines: { node: '^20.19.0 || ^22.12.0 || ^24.0.0 || ^26.0.0' },
    dependencies,
    devDependencies: {
      '@types/node': VERSIONS['@types/node'],
      typescript: VERSIONS.typescript,
    },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/**
 * Writes a new project into `dir` from a template.
 *
 * @example
 * const project = createProject({ dir: 'my-app', template: 'canvas' });
 * console.log(nextSteps(project));
 */
export function createProject(options: CreateOptions): CreatedProject {
  const dir = resolve(options.dir);
  const template = options.template ?? DEFAULT_TEMPLATE;
  checkTemplate(template);
  const name = options.name ?? packageNameFor(basename(dir));
  checkName(name);
  checkTarget(dir);

  const root = templatesRoot();
  const files = new Map<string, string>();
  for (const layer of ['common', template]) {
    for (const rel of walk(join(root, layer))) files.set(rel, join(root, layer, rel));
  }
  const written: string[] = [];
  mkdirSync(dir, { recursive: true });
  for (const [rel, from] of files) {
    const to = rel.replace(/(^|\/)_gitignore$/, '$1.gitignore');
    const text = readFileSync(from, 'utf8').replaceAll(NAME_TOKEN, name);
    mkdirSync(dirname(join(dir, to)), { recursive: true });
    writeFileSync(join(dir, to), text);
    written.push(to);
  }
  writeFileSync(join(dir, 'package.json'), packageJson(name, template));
  written.push('package.json');
  return { dir, name, template, files: written.sort() };
}

/** The package manager that ran the generator (`npm create`, `pnpm create`…), from its user agent. */
export function packageManager(userAgent: string | undefined): 'npm' | 'pnpm' | 'yarn' | 'bun' {
  const tool = userAgent?.split('/')[0];
  return tool === 'pnpm' || tool === 'yarn' || tool === 'bun' ? tool : 'npm';
}

/** What to type next, as the generator prints it. */
export function nextSteps(
  project: CreatedProject,
  options: { cwd?: string; packageManager?: ReturnType<typeof packageManager> } = {},
): string {
  const pm = options.packageManager ?? packageManager(process.env.npm_config_user_agent);
  const cd = relative(options.cwd ?? process.cwd(), project.dir) || '.';
  const install = pm === 'yarn' ? 'yarn' : `${pm} install`;
  const run = (script: string): string => {
    if (pm === 'npm') return script === 'start' ? 'npm start' : `npm run ${script}`;
    return pm === 'bun' ? `bun run ${script}` : `${pm} ${script}`;
  };
  const edit = project.template === 'canvas' ? 'src/scene.ts' : 'src/renderer.ts';
  const lines = [
    `Created ${project.name} in ${project.dir} from the ${project.template} template:`,
    `  ${TEMPLATES[project.template]}.`,
    '',
    'Next steps:',
    ...(cd === '.' ? [] : [`  cd ${/\s/.test(cd) ? JSON.stringify(cd) : cd}`]),
    `  ${install}`,
    `  ${run('dev').padEnd(16)}# a window: edit ${edit} and save, it reloads in place`,
    `  ${run('start').padEnd(16)}# the same without hot reload`,
    '',
    'The window needs SDL2 (Debian/Ubuntu: apt install libsdl2-2.0-0, macOS: brew install sdl2);',
    'without it the app draws in the terminal.',
  ];
  return `${lines.join('\n')}\n`;
}
