import { describe, expect, it } from 'vitest';
import { valueUnit } from '../backend/routes/routing.ts';

describe('the unit of a firing value', () => {
  it('is a share only for a rate compared with a threshold', () => {
    const measures = ['count', 'sum', 'avg', 'rate', 'p95', undefined];
    const kinds = ['threshold', 'change', 'change_percent', 'anomaly', undefined];
    for (const measure of measures) {
      for (const kind of kinds) {
        const want = measure === 'rate' && (kind === undefined || kind === 'threshold') ? 'ratio' : null;
        expect(valueUnit({ query: measure ? { measure } : {}, condition: kind ? { kind } : {} }), `${measure} ${kind}`).toBe(want);
      }
    }
    // rules on other sources (data quality, support flags) have no query
    expect(valueUnit({ query: null, condition: { kind: 'threshold' } })).toBeNull();
  });
});
