/**
 * The example as the benches run it: `hotshm dev` (the launcher, the SDL back end in a real window
 * under Xvfb) on a temporary copy of example-impl, its framebuffer observed from this process
 * (test/e2e/observe.ts), and saves of the copy's entry. Shared by reload.bench.ts and
 * idle.bench.ts; the checked-in sources are never written.
 */
import { realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { percentile } from '../../../scripts/bench-record.js';
import {
  type AppProcess,
  appEnv,
  createTempImpl,
  packagesDir,
  startApp,
  type TempImpl,
} from '../test/e2e/harness.js';
import { type FrameObserver, observeFrames } from '../test/e2e/observe.js';

export const ORANGE_LINE = 'export const ORANGE: number = rgb(1.0, 0.7, 0.0);';
export const REGION_LINE = /region (\/hotshm-\S+), backend/;
const RELOAD_LINE = /^\[hotshm\] reloaded in/;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A colour per edit; rgb() in example-impl truncates r * 255, so exact fractions are written. */
export const colourOf = (i: number): number => (0xff000000 + ((i * 2654435761) & 0xffffff)) >>> 0;
export const rgbSource = (c: number): string =>
  `rgb(${(c >> 16) & 255} / 255, ${(c >> 8) & 255} / 255, ${c & 255} / 255)`;

export type Style = 'inplace' | 'atomic';

export function save(path: string, source: string, style: Style): void {
  if (style === 'inplace') {
    writeFileSync(path, source);
  } else {
    const tmp = join(dirname(path), `.${Date.now()}-${Math.random().toString(16).slice(2)}.tmp`);
    writeFileSync(tmp, source);
    renameSync(tmp, path);
  }
}

/** `three`, a root dev dependency: the real folder (inside node_modules, so the build keeps it external). */
export const threeDir = realpathSync(join(packagesDir, '..', 'node_modules', 'three'));

/**
 * What the entry becomes when it imports `three` whole: the namespace import, and a use of it
 * (an export of the entry, checked by main()) so that it is not dropped as an unused import.
 * three resolves into node_modules, so the build keeps it external: the renderer imports all of
 * it (about 35 ms in a fresh Node here), unless its standby preloaded it.
 */
export function withThree(entry: string): string {
  const main = 'export async function main(): Promise<void> {\n';
  if (!entry.includes(main)) throw new Error(`example-impl lost ${JSON.stringify(main)}`);
  return `import * as THREE from 'three';\n${entry}\nexport const THREE_REVISION: string = THREE.REVISION;\n`.replace(
    main,
    `${main}  if (THREE_REVISION === '') throw new Error('three has no REVISION');\n`,
  );
}

export interface LaunchOptions {
  readonly env?: Record<string, string>;
  /** The entry's text as launched (and the base of every edit); default the copy as it is. */
  readonly entry?: (original: string) => string;
  /** Packages the copy imports: name → folder, linked into its node_modules. */
  readonly packages?: Readonly<Record<string, string>>;
}

export interface Running {
  readonly app: AppProcess;
  readonly observer: FrameObserver;
  readonly impl: TempImpl;
  /** The entry's text as launched. */
  readonly base: string;
  /** The entry with ORANGE = colourOf(i). */
  source(i: number): string;
  /** Saves source(i); resolves with write → pixel ms. */
  edit(i: number, style: Style): Promise<number>;
  reloadLines(): string[];
}

/** Starts the example on a copy of example-impl; resolves once its first frame is in memory. */
export async function launch(display: string, options: LaunchOptions = {}): Promise<Running> {
  const impl = createTempImpl();
  for (const [name, target] of Object.entries(options.packages ?? {})) {
    symlinkSync(target, join(impl.dir, 'node_modules', name), 'dir');
  }
  if (!impl.original.includes(ORANGE_LINE)) throw new Error(`example-impl lost ${ORANGE_LINE}`);
  const base = options.entry?.(impl.original) ?? impl.original;
  if (base !== impl.original) impl.write(base);
  const app = await startApp({
    env: appEnv(display, {
      HOTSHM_BACKEND: 'sdl',
      HOTSHM_EXAMPLE_ENTRY: impl.entry,
      ...options.env,
    }),
  });
  const line = await app.line('the region line', REGION_LINE, 0, 60_000);
  const observer = observeFrames(REGION_LINE.exec(line)![1]!);
  await observer.waitFor((p) => p !== undefined, 30_000);
  const source = (i: number): string =>
    base.replace(ORANGE_LINE, `export const ORANGE: number = ${rgbSource(colourOf(i))};`);
  return {
    app,
    observer,
    impl,
    base,
    source,
    async edit(i, style) {
      const want = colourOf(i);
      const text = source(i);
      const t0 = performance.now();
      save(impl.entry, text, style);
      const t1 = await observer.waitFor((p) => p === want, 30_000);
      return t1 - t0;
    },
    reloadLines: () => app.stdout.filter((l) => RELOAD_LINE.test(l)),
  };
}

export async function close(r: Running): Promise<void> {
  r.observer.close();
  await r.app.stop();
  r.impl.remove();
}

/** Medians of the phases in the owner's reload lines (`change→built 3.1 ms (esbuild 2.9 ms)…`). */
export function phases(lines: readonly string[]): Record<string, number> {
  const fields: Record<string, RegExp> = {
    total: /reloaded in (\d+\.\d) ms/,
    change_to_built: /change→built (\d+\.\d) ms/,
    esbuild: /esbuild (\d+\.\d) ms/,
    ready: /ready (\d+\.\d) ms/,
    deliver: /deliver (-?\d+\.\d) ms/,
    import: /import (\d+\.\d) ms/,
    state: /state (\d+\.\d) ms/,
    frame: /frame (\d+\.\d) ms/,
  };
  const out: Record<string, number> = {};
  for (const [name, re] of Object.entries(fields)) {
    const values = lines.map((l) => Number(re.exec(l)?.[1])).filter((v) => Number.isFinite(v));
    if (values.length > 0) out[name] = percentile(values, 50);
  }
  return out;
}
