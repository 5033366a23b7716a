import { expect } from 'vitest';

/** Each expected field of a summary: numbers to 6 decimals (rates are divisions), the rest equal. */
export function expectSummary(actual: Record<string, unknown>, expected: Record<string, unknown>, label: string) {
  for (const [k, v] of Object.entries(expected)) {
    if (typeof v === 'number') expect(actual[k], `${label} ${k}`).toBeCloseTo(v, 6);
    else expect(actual[k], `${label} ${k}`).toEqual(v);
  }
}
