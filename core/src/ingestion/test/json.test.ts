/**
 * The body parser's depth scan against a brute-force reference: random texts of brackets,
 * strings with escaped quotes and backslashes (brackets inside strings do not count), cut at
 * random points so unterminated strings occur too.
 */
import { describe, it, expect } from 'vitest';
import { textDepth, tooDeep } from '../json.ts';

/** Reference: character by character, tracking whether we are in a string and whether the next char is escaped. */
function depthRef(s: string, limit: number): number {
  let depth = 0, max = 0, inString = false, escaped = false;
  for (const ch of s) {
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\\\'[0]) escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return max;
    } else if (ch === '}' || ch === ']') depth--;
  }
  return max;
}

describe('textDepth', () => {
  it('agrees with a character-by-character reference on random texts', () => {
    let seed = 5;
    const rand = (k: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % k;
    const alphabet = ['{', '}', '[', ']', '"', '"', '\\\\', '\\\\', 'a', ':', ',', ' ', 'é'];
    for (let t = 0; t < 20_000; t++) {
      const s = Array.from({ length: rand(60) }, () => alphabet[rand(alphabet.length)]).join('');
      const limit = 1 + rand(8);
      expect(textDepth(s, limit), s).toBe(depthRef(s, limit));
    }
    // real JSON: the depth of what JSON.stringify wrote
    const nested = (d: number): unknown => (d === 0 ? 'x"]}\\\\' : rand(2) ? [nested(d - 1), '[['] : { k: nested(d - 1), '{"': '\\\\"' });
    for (let d = 0; d < 30; d++) expect(textDepth(JSON.stringify(nested(d)), 100)).toBe(d);
  });

  it('tooDeep answers as the reference does, with few or many brackets', () => {
    let seed = 11;
    const rand = (k: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % k;
    // brackets rare (the shortcut decides) or common (the scan decides), inside strings or not
    const sparse = ['{', '}', '[', ']', '"', '\\\\', 'a', 'b', ':', ',', ' ', 'x', 'y', 'z', 'é'];
    const dense = ['{', '{', '[', '[', '}', ']', '"', '\\\\', 'a'];
    for (let t = 0; t < 20_000; t++) {
      const alphabet = t % 2 ? sparse : dense;
      const s = Array.from({ length: rand(80) }, () => alphabet[rand(alphabet.length)]).join('');
      const limit = 1 + rand(10);
      expect(tooDeep(s, limit), s).toBe(depthRef(s, limit) > limit);
    }
    // at the edge: exactly `limit` levels passes, one more does not, with brackets in strings beside them
    for (const limit of [1, 5, 40]) {
      const deep = (d: number) => '['.repeat(d) + '"{[{["'.repeat(3) + ']'.repeat(d);
      expect(tooDeep(deep(limit), limit)).toBe(false);
      expect(tooDeep(deep(limit + 1), limit)).toBe(true);
    }
  });
});
