/**
 * The funnel editor's form ↔ definition conversion (frontend/src/pages/draft.ts): a saved
 * definition shown in the form and saved again is unchanged, what the form does not show is
 * kept, and every draft the form can produce is accepted by the real create route and answers
 * what the ad-hoc query answers for the same definition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import plugin from '../backend/index.ts';
import { actionsOf, BLANK, breakdownFields, EVENT_TYPE_NAMES, exampleFilter, extrasOf, parseWhere, toDefinition, toDraft, type Definition, type Draft, type StepDraft } from '../frontend/src/pages/draft.ts';
import { referenceFunnel, type Ev, type RefFunnel } from './reference.ts';

/** a random draft as a person could fill the form in */
function randomDraft(r: () => number, n: number): Draft {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const step = (): StepDraft => {
    const event_type = pick(['command', 'session', 'agent_invocation'] as const);
    const actions = actionsOf(event_type);
    const where = event_type === 'command' ? pick(['', 'command_name=open', 'command_name=open|review', ' command_name = review ']) : event_type === 'agent_invocation' ? pick(['', 'status=success']) : '';
    // a time since the step before on some steps, short enough to matter against the data's gaps
    const within = r() < 0.3 ? { value: 1 + Math.floor(r() * 90), unit: pick(['minutes', 'hours'] as const) } : undefined;
    return { event_type, action: actions.length && r() < 0.5 ? pick(actions) : '', where, ...(within ? { within } : {}) };
  };
  const steps = Array.from({ length: 2 + Math.floor(r() * 4) }, step);
  const order = pick(['ordered', 'strict', 'unordered'] as const);
  return {
    name: `Draft ${n}`,
    steps,
    window: 1 + Math.floor(r() * 48),
    unit: pick(['minutes', 'hours', 'days'] as const),
    order,
    count_by: pick(['user', 'session'] as const),
    breakdown: r() < 0.5 ? pick(breakdownFields(steps[0]!.event_type)) : '',
    // exclusions apply to funnels in order (the API refuses them on unordered ones: the form
    // sets them aside); some point past the last step, as after a step was removed, for the form to fit
    exclusions: Array.from({ length: Math.floor(r() * 3) }, () => {
      const from = Math.floor(r() * (steps.length - 1));
      return { ...step(), from_step: from, to_step: from + 1 + Math.floor(r() * (steps.length + 1 - from)) };
    }),
  };
}

describe('the funnel editor’s draft', () => {
  it('parses filters as the form explains them: comma-separated field=value, a|b for either', () => {
    expect(parseWhere('status=success, agent_name = planner|coder ,junk, =x, empty=')).toEqual({ status: 'success', agent_name: ['planner', 'coder'] });
    expect(EVENT_TYPE_NAMES).toContain('agent_invocation');
    expect(actionsOf('session')).toContain('started');
    expect(actionsOf('no_such_type')).toEqual([]);
    // the example shown in every type's filter field is a filter the route takes
    for (const t of EVENT_TYPE_NAMES) expect(Object.keys(parseWhere(exampleFilter(t))), t).toHaveLength(1);
  });

  it('a definition shown in the form and saved again is the same; what the form does not show is kept', () => {
    const saved: Definition = {
      steps: [{ event_type: 'session', action: 'started' }, { event_type: 'agent_invocation', where: { status: 'failure', agent_name: ['a', 'b'] } }, { event_type: 'feedback', where: { action: 'accept' } }],
      window_seconds: 3 * 3600,
      step_windows_seconds: [null, 2 * 3600, 300],
      order: 'strict',
      count_by: 'session',
      breakdown: 'department_id',
      exclusions: [{ event_type: 'command', from_step: 0, to_step: 1 }],
    };
    const draft = toDraft('Recovering', saved);
    expect(draft).toMatchObject({ name: 'Recovering', window: 3, unit: 'hours', order: 'strict', count_by: 'session' });
    // `where.action` is shown as the step's action
    expect(draft.steps[2]).toEqual({ event_type: 'feedback', action: 'accept', where: '', within: { value: 5, unit: 'minutes' } });
    expect(draft.steps[1]!.within).toEqual({ value: 2, unit: 'hours' });
    expect(draft.steps[0]!.within).toBeUndefined();
    const again = toDefinition(draft, saved);
    expect(again).toEqual({ ...saved, steps: [saved.steps[0], saved.steps[1], { event_type: 'feedback', action: 'accept' }] });
    // a window that is no whole number of hours is shown in minutes
    expect(toDraft('x', { steps: saved.steps, window_seconds: 90 * 60 })).toMatchObject({ window: 90, unit: 'minutes' });
    // one of odd seconds (saved through the API) is shown in seconds, so saving it from the form keeps it
    const odd: Definition = { steps: saved.steps, window_seconds: 90, step_windows_seconds: [null, 45, 3605] };
    expect(toDraft('x', odd)).toMatchObject({ window: 90, unit: 'seconds', steps: [{}, { within: { value: 45, unit: 'seconds' } }, { within: { value: 3605, unit: 'seconds' } }] });
    expect(toDefinition(toDraft('x', odd), odd)).toMatchObject({ window_seconds: 90, step_windows_seconds: [null, 45, 3605] });
    expect(toDraft('x', { steps: saved.steps })).toMatchObject({ window: 14, unit: 'days' });
  });

  it('per-step windows move with their steps, leave out the first step and trailing blanks, and are set aside while the order is any', () => {
    const step = (event_type: string, within?: StepDraft['within']): StepDraft => ({ event_type, action: '', where: '', ...(within ? { within } : {}) });
    const draft: Draft = { ...BLANK, steps: [step('session'), step('command', { value: 10, unit: 'minutes' }), step('feedback')] };
    expect(toDefinition(draft).step_windows_seconds).toEqual([null, 600]);
    // moved first, a step's window means nothing (the API ignores entry 0): it is not sent
    expect(toDefinition({ ...draft, steps: [draft.steps[1]!, draft.steps[0]!, draft.steps[2]!] }).step_windows_seconds).toBeUndefined();
    expect(toDefinition({ ...draft, steps: [draft.steps[0]!, draft.steps[2]!, draft.steps[1]!] }).step_windows_seconds).toEqual([null, null, 600]);
    expect(toDefinition({ ...draft, order: 'unordered' }).step_windows_seconds).toBeUndefined();
    // a saved window the draft cleared is not kept from the saved definition
    const saved: Definition = { steps: [{ event_type: 'session' }, { event_type: 'command' }], step_windows_seconds: [null, 60] };
    const shown = toDraft('x', saved);
    expect(toDefinition(shown, saved).step_windows_seconds).toEqual([null, 60]);
    expect(toDefinition({ ...shown, steps: shown.steps.map(({ within: _, ...s }) => s) }, saved).step_windows_seconds).toBeUndefined();
  });

  it('reads a saved funnel\'s exclusions and breakdown for the list', () => {
    const name = (x: { event_type: string; action?: string }) => [x.event_type, x.action].filter(Boolean).join(' ');
    expect(extrasOf({ steps: [{ event_type: 'session' }, { event_type: 'command' }] }, name)).toEqual([]);
    expect(extrasOf({ steps: [{ event_type: 'session' }, { event_type: 'command' }, { event_type: 'feedback' }], exclusions: [{ event_type: 'session', action: 'ended', from_step: 0, to_step: 2 }], breakdown: 'department_id' }, name))
      .toEqual(['excluding session ended between steps 1 and 3', 'by department']);
    expect(extrasOf({ steps: [{ event_type: 'session' }, { event_type: 'command' }, { event_type: 'feedback' }], step_windows_seconds: [5, 3600, 120] }, name))
      .toEqual(['step 2 within 1 hour of step 1', 'step 3 within 2 minutes of step 2']);
    expect(extrasOf({ steps: [{ event_type: 'session' }, { event_type: 'command' }], step_windows_seconds: [null, 90] }, name)).toEqual(['step 2 within 90 seconds of step 1']);
  });

  it('keeps exclusions inside the funnel when steps are removed, and a breakdown only where the first step has the field', () => {
    const draft: Draft = { ...BLANK, steps: [{ event_type: 'agent_invocation', action: '', where: '' }, { event_type: 'command', action: '', where: '' }], breakdown: 'model_used', exclusions: [{ event_type: 'session', action: 'ended', where: '', from_step: 2, to_step: 4 }] };
    expect(toDefinition(draft)).toMatchObject({ breakdown: 'model_used', exclusions: [{ event_type: 'session', action: 'ended', from_step: 0, to_step: 1 }] });
    expect(breakdownFields('agent_invocation')).toEqual(expect.arrayContaining(['agent_name', 'model_used', 'status', 'department_id']));
    expect(breakdownFields('agent_invocation')).not.toContain('user_id');
    // the first step becomes a command: a model is no field of it
    expect(toDefinition({ ...draft, steps: [draft.steps[1]!, draft.steps[0]!] }).breakdown).toBeUndefined();
    // a saved breakdown the form does not offer stays while the first step's type does
    const saved: Definition = { steps: [{ event_type: 'command' }, { event_type: 'session' }], breakdown: 'user_id' };
    expect(toDefinition(toDraft('x', saved), saved).breakdown).toBe('user_id');
    expect(toDefinition({ ...toDraft('x', saved), steps: [{ event_type: 'session', action: '', where: '' }, { event_type: 'session', action: '', where: '' }] }, saved).breakdown).toBeUndefined();
  });

  describe('against the real routes', () => {
    let b: TestBackend;
    const T = Date.parse('2026-07-01T09:00:00.000Z');
    const events: Ev[] = [];
    const range = { from: new Date(T).toISOString(), to: new Date(T + 3 * 86_400_000).toISOString() };

    beforeAll(async () => {
      b = await startTestBackend({ plugins: [plugin], config: { plugins: { funnels: { rateLimitPerMinute: 100000 } } } });
      const r = rng(5);
      for (let i = 0; i < 400; i++) {
        const user = `u${Math.floor(r() * 15)}`;
        const ts = new Date(T + Math.floor(r() * 2 * 86_400_000)).toISOString();
        const base = { event_id: `d${i}`, timestamp: ts, user_id: user, session_id: `${user}-s${Math.floor(r() * 3)}`, department_id: 'eng' };
        const kind = r();
        if (kind < 0.4) events.push({ ...base, event_type: 'command', command_name: r() < 0.5 ? 'open' : 'review' });
        else if (kind < 0.6) events.push({ ...base, event_type: 'session', action: r() < 0.5 ? 'started' : 'ended', duration_ms: 1000 });
        else events.push({ ...base, event_type: 'agent_invocation', agent_name: 'a', agent_version: '1', invocation_id: `i${i}`, model_used: 'm', input_tokens: 1, output_tokens: 1, execution_time_ms: 10, status: r() < 0.7 ? 'success' : 'failure' } as Ev);
      }
      await b.org.insertEvents(events);
    });
    afterAll(() => b?.close());

    it('the example in each event type’s filter field is a filter the query takes', async () => {
      for (const t of EVENT_TYPE_NAMES) {
        const res = await b.client.post('/api/v1/funnels/query', { steps: [{ event_type: t, where: parseWhere(exampleFilter(t)) }, { event_type: t }], ...range });
        expect(res.status, `${t}: ${exampleFilter(t)}: ${res.text}`).toBe(200);
      }
    });

    it('names departments in a breakdown by department_id; an id the directory does not know stays bare', async () => {
      await b.org.addUser({ email: 'named@funnels.local', role: 'Developer', departments: ['Platform'] });
      const dept = b.org.departments.get('Platform')!;
      const mine: Ev[] = [0, 1, 2].map((i) => ({ event_id: `named${i}`, event_type: 'command', command_name: 'open', timestamp: new Date(T + 3_600_000 + i * 60_000).toISOString(), user_id: `named-u${i}`, session_id: `named-s${i}`, department_id: dept }));
      await b.org.insertEvents(mine);
      events.push(...mine); // the random drafts below count them too
      const res = await b.client.post('/api/v1/funnels/query', { steps: [{ event_type: 'command' }, { event_type: 'command' }], breakdown: 'department_id', ...range });
      expect(res.status, res.text).toBe(200);
      const rows = res.body.breakdown as Array<{ value: string; label?: string; steps: Array<{ count: number }> }>;
      expect(rows.find((r) => r.value === dept)).toMatchObject({ label: 'Platform', steps: [{ count: 3 }, { count: 0 }] });
      expect(rows.find((r) => r.value === 'eng')!.label).toBeUndefined();
    });

    it('the blank form saves as it is', async () => {
      const res = await b.client.post('/api/v1/funnels/saved', { name: 'Blank', definition: toDefinition({ ...BLANK, name: 'Blank' }) });
      expect(res.status, res.text).toBe(200);
    });

    it('every random draft is accepted, and its saved results equal the reference funnel', async () => {
      const r = rng(11);
      let started = 0, finished = 0, breakdowns = 0, exclusions = 0, windows = 0, windowsThatBite = 0;
      for (let n = 0; n < 16; n++) {
        const draft = randomDraft(r, n);
        const definition = toDefinition(draft);
        const saved = await b.client.post('/api/v1/funnels/saved', { name: draft.name, definition });
        expect(saved.status, `${JSON.stringify(definition)}: ${saved.text}`).toBe(200);
        // shown again in the form, the saved definition gives the same definition
        expect(toDefinition(toDraft(saved.body.name, saved.body.definition), saved.body.definition)).toEqual(saved.body.definition);
        const res = await b.client.get(`/api/v1/funnels/saved/${saved.body.id}/results`, range);
        expect(res.status, res.text).toBe(200);
        const reference = referenceFunnel({ ...(definition as unknown as RefFunnel), ...range }, events);
        const expected = reference.steps;
        expect(res.body.steps.map((s: { count: number }) => s.count), JSON.stringify(definition)).toEqual(expected.map((s) => s.count));
        if (definition.breakdown) {
          const counts = (bd: Array<{ value: string; steps: Array<{ count: number }> }>) => Object.fromEntries(bd.map((b) => [b.value, b.steps.map((s) => s.count)]));
          expect(counts(res.body.breakdown), `breakdown of ${JSON.stringify(definition)}`).toEqual(counts(reference.breakdown!));
          breakdowns++;
        }
        if (draft.order === 'unordered') expect(definition.exclusions).toBeUndefined();
        exclusions += definition.exclusions?.length ?? 0;
        if (draft.order === 'unordered') expect(definition.step_windows_seconds).toBeUndefined();
        windows += (definition.step_windows_seconds ?? []).filter((w) => w !== null).length;
        if (definition.step_windows_seconds) {
          const { step_windows_seconds: _, ...without } = definition;
          const loose = referenceFunnel({ ...(without as unknown as RefFunnel), ...range }, events).steps.map((s) => s.count);
          if (JSON.stringify(loose) !== JSON.stringify(expected.map((s) => s.count))) windowsThatBite++;
        }
        started += expected[0]!.count;
        finished += expected.at(-1)!.count;
      }
      // the drafts reach people, and some of them the last step: the comparison is not of zeros
      expect(started).toBeGreaterThan(0);
      expect(finished).toBeGreaterThan(0);
      expect(breakdowns).toBeGreaterThan(2);
      expect(exclusions).toBeGreaterThan(2);
      expect(windows).toBeGreaterThan(2);
      // and some of those windows change the counts: the engine's handling of them is compared, not skipped
      expect(windowsThatBite).toBeGreaterThan(0);
    });
  });
});
