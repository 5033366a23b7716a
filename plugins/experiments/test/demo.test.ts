/**
 * The demo org's example experiment (`env.onDemoData`): created over the demo span, listed as
 * running, and its results are those of the invocations it names — units, success rate and
 * latency per prompt template recomputed here from random invocations, with other agents,
 * events before the span and other template versions mixed in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import { rng } from '@orrery/backend-test-utils/random';
import plugin from '../backend/index.ts';
import { DEMO_KEY } from '../backend/demo.ts';

const FROM = Date.parse('2026-10-01T00:00:00Z');
const TO = FROM + 10 * 86_400_000;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('experiments: the demo example', () => {
  let backend: TestBackend;
  const events: Array<{ agent_name: string; prompt_template_version: string; status: string; execution_time_ms: number; timestamp: string }> = [];

  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
    const rand = rng(8);
    for (let i = 0; i < 600; i++) {
      const before = rand() < 0.1;
      const t = before ? FROM - 1 - Math.floor(rand() * 86_400_000) : FROM + Math.floor(rand() * (TO - FROM));
      const template = rand() < 0.05 ? 'v6' : rand() < 0.5 ? 'v7' : 'v8';
      events.push({
        agent_name: rand() < 0.3 ? 'test-writer' : 'code-reviewer',
        prompt_template_version: template,
        status: rand() < (template === 'v8' ? 0.9 : 0.8) ? 'success' : 'failure',
        execution_time_ms: Math.round(200 + rand() * 3000),
        timestamp: new Date(t).toISOString(),
      });
    }
    await backend.org.insertEvents(events.map((e, i) => ({
      ...e, event_id: `demo-${i}`, event_type: 'agent_invocation', invocation_id: `inv-${i}`, user_id: `u${i % 40}`, session_id: 's', model_used: 'claude-sonnet-4-5',
    })));
  }, 120_000);
  afterAll(() => backend?.close());

  it('is created by the seeder and answers as the invocations it names say', async () => {
    const seeded = await backend.seedDemoData({ from: new Date(FROM), to: new Date(TO) });
    expect(seeded).toEqual([{ plugin: 'experiments', description: expect.stringMatching(/prompt templates/), ok: true }]);
    const list = await backend.client.get('/api/v1/experiments', { status: 'running' });
    expect(list.body.experiments.map((x: { key: string }) => x.key)).toEqual([DEMO_KEY]);

    const inIt = (v: string) => events.filter((e) => e.agent_name === 'code-reviewer' && e.prompt_template_version === v && Date.parse(e.timestamp) >= FROM);
    const success = await backend.client.get(`/api/v1/experiments/${DEMO_KEY}/results`, { metric: 'success_rate' });
    expect(success.status).toBe(200);
    const latency = await backend.client.get(`/api/v1/experiments/${DEMO_KEY}/results`, { metric: 'latency' });
    for (const v of ['v7', 'v8']) {
      const ref = inIt(v);
      expect(ref.length).toBeGreaterThan(100);
      const got = success.body.variants.find((x: { key: string }) => x.key === v);
      expect(got.units).toBe(ref.length);
      expect(got.value).toBeCloseTo(ref.filter((e) => e.status === 'success').length / ref.length, 9);
      expect(latency.body.variants.find((x: { key: string }) => x.key === v).value).toBeCloseTo(mean(ref.map((e) => e.execution_time_ms)), 6);
    }
    expect(success.body.variants.map((x: { key: string }) => x.key).sort()).toEqual(['v7', 'v8']);
  });
});
