/**
 * Child of window-select.test.ts: for each scenario in argv[2] (a JSON array of environment
 * overrides, `null` meaning unset), sets process.env, calls openBackend, and records what came
 * back: {"name", "note"} or {"error": {"name", "code", "reason", "message"}}. Prints the array as
 * one JSON line. Run in a child so the test controls the environment and stdout is not a TTY;
 * one child for all scenarios keeps the test short (openBackend reads the environment per call).
 */
import { openBackend } from '../src/window/index.js';

const scenarios = JSON.parse(process.argv[2] ?? '[]') as Record<string, string | null>[];
const outcomes: unknown[] = [];
for (const scenario of scenarios) {
  for (const [key, value] of Object.entries(scenario)) {
    if (value === null) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    const { backend, note } = await openBackend({ width: 64, height: 48, title: 'select' });
    outcomes.push({ name: backend.name, note: note ?? null });
    backend.close();
  } catch (error) {
    const e = error as Error & { code?: string; reason?: string };
    outcomes.push({
      error: { name: e.name, code: e.code, reason: e.reason ?? null, message: e.message },
    });
  }
}
console.log(JSON.stringify(outcomes));
