/**
 * Spawns the child scripts of the channel and frames tests (`node --import tsx test/<script>`)
 * and collects their one-line JSON result.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Child {
  readonly process: ChildProcess;
  /** Resolves with the child's JSON result line (or rejects if it exits without one). */
  readonly result: Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnChild(
  script: string,
  args: readonly (string | number)[],
  env: NodeJS.ProcessEnv = {},
): Child {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', file, ...args.map(String)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const result = exited.then(({ code, signal }) => {
    const line = out.trim().split('\n').pop() ?? '';
    if (code !== 0 || line === '') {
      throw new Error(`${script} ${args.join(' ')} exited with ${code ?? signal}: ${err || out}`);
    }
    return JSON.parse(line) as Record<string, unknown>;
  });
  // Avoid an unhandled rejection when a test only looks at `exited` (a child it kills).
  result.catch(() => undefined);
  return { process: child, result, exited };
}
