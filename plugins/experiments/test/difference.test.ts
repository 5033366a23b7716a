/**
 * The results page's differences and means: over random values of every magnitude (a cost per
 * call moves by fractions of a cent, a latency by thousands of ms), the text read back is the
 * value to three significant digits (whole numbers from 100 on), carries the value's sign, and
 * is never "-0" or "0" for a value that is not zero.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '@orrery/backend-test-utils/random';
import { meanValue, signedDifference } from '../frontend/src/difference.ts';

const parse = (s: string) => Number(s.replace(/,/g, '').replace(/^\+/, ''));

function randomValue(rand: () => number): number {
  const magnitude = 10 ** (Math.floor(rand() * 12) - 6); // 1e-6 … 1e5
  return (rand() < 0.5 ? -1 : 1) * magnitude * (1 + rand() * 9);
}

describe('experiment result numbers', () => {
  it('keep three significant digits and the sign, whatever the magnitude', () => {
    const rand = rng(7);
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(rand);
      for (const [text, signed] of [[signedDifference('en-US', v), true], [meanValue('en-US', v), false]] as const) {
        const back = parse(text);
        // the allowed rounding: half a unit of the third significant digit, or of the ones from 100 on
        const digit = Math.abs(v) < 100 ? 10 ** (Math.floor(Math.log10(Math.abs(v))) - 2) : 1;
        expect(Math.abs(back - v), `${v} → ${text}`).toBeLessThanOrEqual(digit / 2 + 1e-12 * Math.abs(v));
        expect(back, `${v} → ${text}`).not.toBe(0);
        if (signed) expect(text[0], `${v} → ${text}`).toBe(v > 0 ? '+' : '-');
        else expect(text.startsWith('-'), `${v} → ${text}`).toBe(v < 0);
      }
    }
  });

  it('write zero as 0, unsigned', () => {
    expect(signedDifference('en-US', 0)).toBe('0');
    expect(signedDifference('en-US', -0)).toBe('0');
    expect(meanValue('en-US', 0)).toBe('0');
  });

  it('follow the locale', () => {
    expect(signedDifference('de-DE', -0.000123)).toBe('-0,000123');
    expect(signedDifference('de-DE', 12345.6)).toBe('+12.346');
  });
});
