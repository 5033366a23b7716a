import { describe, it, expect } from 'vitest';
import { DEMO_DEPARTMENTS, demoEvents, demoUsers } from '../src/demo/generate.ts';
import { checkEvent } from '../src/ingestion/validate.ts';

// The demo loader writes rows straight into the events table; they must be events the
// ingestion schemas accept, or plugins are built and shown against shapes real agents never send.
describe('demo data', () => {
  it('is made of events the ingestion schemas accept', () => {
    const users = demoUsers((i) => `u${i}`);
    const departments = DEMO_DEPARTMENTS.map((_, i) => `d${i}`);
    const problems = new Map<string, number>();
    let checked = 0;
    for (const batch of demoEvents(users, departments, new Date('2026-11-02T00:00:00Z'), new Date('2026-11-05T00:00:00Z'))) {
      for (const e of batch) {
        // cost_source is set by the pipeline when it computes a cost, never sent by a client
        const { cost_source: _stored, ...sent } = e;
        const r = checkEvent({ ...sent, timestamp: new Date(e.timestamp as number).toISOString() });
        checked++;
        if (!r.ok) for (const p of r.errors) problems.set(`${e.event_type}.${p.field}: ${p.problem}`, (problems.get(`${e.event_type}.${p.field}: ${p.problem}`) ?? 0) + 1);
      }
    }
    expect(checked).toBeGreaterThan(5000);
    expect(Object.fromEntries(problems)).toEqual({});
  });
});
