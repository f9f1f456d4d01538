/**
 * Source maps of the per-file transforms: a module goes TypeScript → JavaScript (oxc's type
 * strip) → module-runner form (oxc's import/export rewrite), each with its own map. `composeMaps`
 * makes one map from the final code straight to the original source, so a runner needs one lookup
 * per stack frame. Base64 VLQ as in the Source Map v3 format; segments are
 * [generated column, source, original line, original column, name?].
 */

export interface RawSourceMap {
  readonly version: number;
  readonly sources: readonly string[];
  readonly names: readonly string[];
  readonly mappings: string;
  readonly sourcesContent?: readonly (string | null)[];
  readonly file?: string;
  readonly sourceRoot?: string;
}

/** One decoded segment: generated column, then (when mapped) source, line, column, name. */
type Segment = number[];

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** Decodes `mappings` into lines of segments with absolute values. */
export function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = [];
  let line: Segment[] = [];
  // Source, original line, original column and name carry over from segment to segment and
  // from line to line; the generated column restarts at each line.
  const state = [0, 0, 0, 0, 0];
  let field = 0;
  let segment: number[] = [];
  let value = 0;
  let shift = 0;
  const endSegment = (): void => {
    if (segment.length > 0) line.push(segment);
    segment = [];
    field = 0;
  };
  for (let i = 0; i < mappings.length; i++) {
    const c = mappings.charCodeAt(i);
    if (c === 59 /* ; */) {
      endSegment();
      lines.push(line);
      line = [];
      state[0] = 0;
      continue;
    }
    if (c === 44 /* , */) {
      endSegment();
      continue;
    }
    const digit = c < 128 ? B64_INDEX[c]! : -1;
    if (digit < 0)
      throw new SyntaxError(
        `invalid character ${JSON.stringify(mappings[i])} in source map mappings`,
      );
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
      continue;
    }
    const delta = value & 1 ? -(value >>> 1) : value >>> 1;
    value = 0;
    shift = 0;
    if (field < 5) {
      state[field] = state[field]! + delta;
      segment.push(state[field]!);
    }
    field++;
  }
  endSegment();
  lines.push(line);
  return lines;
}

function encodeVlq(value: number): string {
  let v = value < 0 ? (-value << 1) | 1 : value << 1;
  let out = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    out += B64[digit];
  } while (v > 0);
  return out;
}

/** Encodes lines of absolute segments (as `decodeMappings` returns them). */
export function encodeMappings(lines: readonly (readonly Segment[])[]): string {
  const state = [0, 0, 0, 0, 0];
  let out = '';
  for (let l = 0; l < lines.length; l++) {
    if (l > 0) out += ';';
    state[0] = 0;
    const segments = lines[l]!;
    for (let s = 0; s < segments.length; s++) {
      if (s > 0) out += ',';
      const seg = segments[s]!;
      for (let f = 0; f < seg.length && f < 5; f++) {
        out += encodeVlq(seg[f]! - state[f]!);
        state[f] = seg[f]!;
      }
    }
  }
  return out;
}

/** The segment of `line` that covers `column`: the last one starting at or before it. */
function segmentAt(line: readonly Segment[] | undefined, column: number): Segment | undefined {
  if (!line || line.length === 0) return undefined;
  let lo = 0;
  let hi = line.length - 1;
  if (line[0]![0]! > column) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (line[mid]![0]! <= column) lo = mid;
    else hi = mid - 1;
  }
  return line[lo];
}

/**
 * The map from `outer`'s generated code to `inner`'s sources, where `outer` maps into the code
 * `inner` generated. Segments of `outer` that land where `inner` has no mapping are dropped.
 * `sources` replaces the sources of the result (the caller names the original file its way).
 */
export function composeMaps(
  outer: RawSourceMap,
  inner: RawSourceMap,
  sources: readonly string[] = inner.sources,
): RawSourceMap {
  const outerLines = decodeMappings(outer.mappings);
  const innerLines = decodeMappings(inner.mappings);
  const names: string[] = [];
  const nameIndex = new Map<string, number>();
  const name = (n: string | undefined): number | undefined => {
    if (n === undefined) return undefined;
    let i = nameIndex.get(n);
    if (i === undefined) {
      i = names.length;
      names.push(n);
      nameIndex.set(n, i);
    }
    return i;
  };
  const lines: Segment[][] = outerLines.map((segments) => {
    const out: Segment[] = [];
    for (const seg of segments) {
      if (seg.length < 4) continue;
      const hit = segmentAt(innerLines[seg[2]!], seg[3]!);
      if (!hit || hit.length < 4) continue;
      const n = name(
        seg.length >= 5 ? outer.names[seg[4]!] : hit.length >= 5 ? inner.names[hit[4]!] : undefined,
      );
      out.push(
        n === undefined
          ? [seg[0]!, hit[1]!, hit[2]!, hit[3]!]
          : [seg[0]!, hit[1]!, hit[2]!, hit[3]!, n],
      );
    }
    return out;
  });
  return { version: 3, sources, names, mappings: encodeMappings(lines) };
}
