/**
 * Property tests: the owner's layout descriptor is read from shared memory and, when layouts
 * differ, rebuilt to say what differs. Whatever text is there, diffLayouts returns a list of
 * strings: it never throws and never evaluates anything.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { struct, u8, u32 } from '../schema/index.js';
import { describeLayout, diffLayouts } from './descriptor.js';
import { layoutState } from './layout.js';

const ours = layoutState('fuzz', { a: u32, b: struct({ c: u8 }) }, 192);

const check = (theirs: string): void => {
  const diffs = diffLayouts(theirs, ours);
  expect(Array.isArray(diffs)).toBe(true);
  for (const d of diffs) expect(typeof d).toBe('string');
};

describe('diffSignatures fed hostile signatures', () => {
  it('random text', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), check), { numRuns: 1000 });
  });

  it('random JSON values', () => {
    fc.assert(fc.property(fc.json(), check), { numRuns: 1000 });
  });

  it('code in the descriptor is reported as text, never run', () => {
    const g = globalThis as { pwned?: unknown };
    const valid = describeLayout(ours);
    check(
      JSON.stringify({
        ...valid,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a hostile payload, on purpose
        state: '${globalThis.pwned=1}',
        fields: [{ name: 'a', offset: 192, type: { kind: '(()=>{globalThis.pwned=1})()' } }],
      }),
    );
    check('(()=>{globalThis.pwned=1})()');
    expect(g.pwned).toBeUndefined();
  });

  it('a valid descriptor of another layout is explained field by field', () => {
    const theirs = layoutState('fuzz', { a: u8, c: u32 }, 192);
    expect(diffLayouts(JSON.stringify(describeLayout(theirs)), ours)).toEqual([
      'field "a" is u8 in the owner, u32 here',
      'field "b" (struct{c@0:u8}:1/1) is new here and missing in the owner',
      'field "c" (u32) is in the owner but was removed here',
    ]);
    expect(diffLayouts(JSON.stringify(describeLayout(ours)), ours)).toEqual([]);
  });

  it('descriptors with random parts replaced', () => {
    const valid = describeLayout(ours) as unknown as Record<string, unknown>;
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(valid)), fc.jsonValue(), (key, value) =>
        check(JSON.stringify({ ...valid, [key]: value })),
      ),
      { numRuns: 500 },
    );
  });

  it('structured JSON with any field entries (regression: malformed entries are reported, never thrown)', () => {
    fc.assert(
      fc.property(
        fc.record({ state: fc.jsonValue(), fields: fc.array(fc.jsonValue(), { maxLength: 5 }) }),
        (s) => check(JSON.stringify(s)),
      ),
      { numRuns: 1000 },
    );
  });
});
