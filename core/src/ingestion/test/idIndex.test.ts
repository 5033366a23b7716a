/**
 * The in-memory id index against a brute-force reference: random adds and removes (with hashes
 * drawn from a small range so that collisions, long probe runs and wrap-around are common), then
 * every (hash, seq) pair the reference holds must be found and no other.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { IdIndex, idHash } from '../idIndex.ts';

describe('IdIndex', () => {
  it('holds exactly the pairs a brute-force multiset holds, through adds, removes, growth and shrinking', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 5 })), { maxLength: 400 }),
      fc.integer({ min: 0, max: 2 }),
      (ops, mode) => {
        const index = new IdIndex(16);
        const ref: Array<[number, number]> = [];
        // hashes near the top of the table wrap around; mode 2 spreads them over the full 32 bits
        const hashOf = (h: number) => (mode === 0 ? h : mode === 1 ? (h % 3) + 14 : idHash('o', `e${h}`));
        for (const [k, [add, h0, seq]] of ops.entries()) {
          const h = hashOf(h0);
          if (add) {
            index.add(h, seq);
            ref.push([h, seq]);
          } else {
            const at = ref.findIndex(([a, b]) => a === h && b === seq);
            expect(index.remove(h, seq)).toBe(at >= 0);
            if (at >= 0) ref.splice(at, 1);
          }
          if (k % 7 === 0) index.shrinkIfSparse(16);
        }
        expect(index.size).toBe(ref.length);
        for (let h0 = 1; h0 <= 40; h0++) {
          const h = hashOf(h0);
          const found: number[] = [];
          index.find(h, (seq) => (found.push(seq), false));
          const want = ref.filter(([a]) => a === h).map(([, b]) => b);
          expect(found.sort()).toEqual(want.sort());
        }
      },
    ), { numRuns: 300 });
  });

  it('hashes org and id together, never to 0', () => {
    expect(idHash('o1', 'e0')).not.toBe(idHash('o0', 'e0'));
    for (let i = 0; i < 10_000; i++) expect(idHash('org', `id-${i}`)).toBeGreaterThan(0);
  });
});
