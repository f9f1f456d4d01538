/**
 * Issue 11, case 7: a renderer's stack trace must point at the user's file, not at a path made up
 * from the temporary bundle folder (`/tmp/example-impl/src/index.ts:1:7`). Bundles carry source
 * maps relative to where they are written. A real renderer throws; the crash report's stack names
 * the real source file and the line of the `throw`, in both modes.
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { frontPixel, type Owner, openOwner, record } from './fixtures/owners.js';
import {
  createWorkspace,
  LOCAL_WORK_DIR,
  rendererSource,
  type TempWorkspace,
  until,
} from './fixtures/workspace.js';

const RED = 0xffff0000;
const THROW = "if (m === 7) throw new Error('stack-trace test: thrown on 7');";

/** The 1-based line of `needle` in `source`. */
const lineOf = (source: string, needle: string): number =>
  source.split('\n').findIndex((l) => l.includes(needle)) + 1;

let ws: TempWorkspace | undefined;
let owner: Owner | undefined;
afterEach(async () => {
  await owner?.close();
  owner = undefined;
  ws?.remove();
  ws = undefined;
});

describe('stack traces of a renderer (issue 11, case 7)', () => {
  for (const hot of [true, false]) {
    it(`${hot ? 'hot' : 'no-hot'}: the crash report names the source file and the line that threw`, async () => {
      const source = rendererSource(RED, { onMessage: THROW });
      // Outside /tmp, like a user's project: a source map path resolved against the bundle's
      // temporary folder (in /tmp) then names a file that does not exist.
      ws = createWorkspace(source, LOCAL_WORK_DIR);
      owner = await openOwner(ws, { hot });
      const seen = record(owner);
      await until('the first frame', () => frontPixel(owner!) === RED);
      owner.input.send(7);
      const crash = await until('the crash report', () => seen.crashes[0]);
      expect(crash.stderr).toContain('stack-trace test: thrown on 7');
      // "at main (…/hotshm-ws-XXXX/renderer.ts:12:23)": the file as the user saved it.
      const frame = new RegExp(
        `${ws.rendererPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${lineOf(source, THROW)}:\\d+`,
      );
      expect(crash.stderr).toMatch(frame);
      // Every path the stack names for the user's code exists.
      const named = [...crash.stderr.matchAll(/\(?(\/[^\s():]+\.ts):\d+:\d+/g)].map((m) => m[1]!);
      expect(named.length).toBeGreaterThan(0);
      for (const path of named) expect(existsSync(path), path).toBe(true);
    });
  }
});
