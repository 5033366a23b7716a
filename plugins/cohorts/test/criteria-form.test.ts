/**
 * The cohort editor's rules (frontend/src/pages/criteria.ts): the numbers the form asks for
 * have the bounds the API has, every kind the form offers (from its defaults, switched from
 * another kind) is accepted by the real create route, and each rule reads as a sentence
 * naming its numbers.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import adoption from '../../adoption/backend/index.ts';
import plugin from '../backend/index.ts';
import { criterionSchema } from '../backend/cohorts.ts';
import { blankCriterion, describe as sentence, EVENT_CHOICES, KINDS, withKind, type Criterion } from '../frontend/src/pages/criteria.ts';

describe('the cohort editor’s rules', () => {
  let b: TestBackend;
  beforeAll(async () => {
    // with a score provider on, so a score band is accepted too
    b = await startTestBackend({ plugins: [adoption, plugin] });
  }, 60_000);
  afterAll(() => b?.close());

  it('offers every kind the API knows, with the API’s bounds on every number', () => {
    expect(KINDS.map((k) => k.kind).sort()).toEqual([...criterionSchema.properties.kind.enum].sort());
    for (const k of KINDS) {
      for (const n of k.numbers) {
        const api = criterionSchema.properties[n.field as keyof typeof criterionSchema.properties] as { minimum: number; maximum: number };
        expect([n.min, n.max], `${k.kind}.${n.field}`).toEqual([api.minimum, api.maximum]);
      }
    }
    expect(EVENT_CHOICES[0]).toBe('any');
  });

  it('every kind, switched to from another, saves as it is and keeps the event type it had', async () => {
    for (const [i, k] of KINDS.entries()) {
      const from: Criterion = { ...blankCriterion(), event_type: 'command' };
      const c = withKind(from, k.kind);
      if (c.event_type !== undefined) expect(c.event_type).toBe('command');
      // the fields the form shows for the kind are the fields the criterion has
      for (const n of k.numbers) expect(typeof c[n.field], `${k.kind}.${n.field}`).toBe('number');
      const res = await b.client.post('/api/v1/cohorts', { name: `Form ${i}`, kind: 'dynamic', criteria: [c] });
      expect(res.status, `${k.kind}: ${res.text}`).toBe(200);
      expect(res.body.criteria).toEqual([c]);
    }
  });

  it('reads each rule as a sentence with its numbers', () => {
    for (const k of KINDS) {
      const c = withKind(blankCriterion(), k.kind);
      const s = sentence(c);
      for (const n of k.numbers) expect(s, `${k.kind}: ${s}`).toContain(String(c[n.field]));
      if (c.event_type) expect(s).toContain(c.event_type.replace(/_/g, ' '));
    }
    expect(sentence({ kind: 'performed', event_type: 'any', min_count: 1, days: 1 })).toBe('events of any type: at least 1 in the last 1 day');
    expect(sentence({ kind: 'role', roles: ['Admin', 'Manager'] })).toBe('role Admin or Manager');
  });
});
