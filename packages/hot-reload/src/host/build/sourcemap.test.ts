import { describe, expect, it } from 'vitest';
import { composeMaps, decodeMappings, encodeMappings } from './sourcemap.js';

describe('source map codec', () => {
  it('decodes to absolute segments and encodes back to the same text', () => {
    // [col, source, line, col(, name)]: relative in the text, absolute once decoded.
    const mappings = 'AAAA,IAAIA;;AACA,KAAK;ACAA';
    const lines = decodeMappings(mappings);
    expect(lines).toEqual([
      [
        [0, 0, 0, 0],
        [4, 0, 0, 4, 0],
      ],
      [],
      [
        [0, 0, 1, 4],
        [5, 0, 1, 9],
      ],
      [[0, 1, 1, 9]],
    ]);
    expect(encodeMappings(lines)).toBe(mappings);
    expect(() => decodeMappings('A!')).toThrow(SyntaxError);
  });

  it('composes: a position of the outer code lands where the inner map sends its source', () => {
    // outer: generated line 0 col 2 → intermediate line 1 col 0; inner: intermediate line 1
    // col 0 → original line 5 col 3 (name "x").
    const outer = {
      version: 3,
      sources: ['mid.js'],
      names: [],
      mappings: encodeMappings([[[2, 0, 1, 0]]]),
    };
    const inner = {
      version: 3,
      sources: ['orig.ts'],
      names: ['x'],
      mappings: encodeMappings([[], [[0, 0, 5, 3, 0]]]),
    };
    const out = composeMaps(outer, inner, ['file:///orig.ts']);
    expect(out.sources).toEqual(['file:///orig.ts']);
    expect(out.names).toEqual(['x']);
    expect(decodeMappings(out.mappings)).toEqual([[[2, 0, 5, 3, 0]]]);
  });
});
