import { describe, expect, it } from 'vitest';
import { rng } from '@orrery/backend-test-utils/random';
import { describeTypes, liveView, type StreamEntry } from '../frontend/src/liveWindow.ts';

/**
 * The live event stream's view, against a reference that places each event of the history and
 * of the bus in its minute one by one: only the window's minutes, no bus message from before
 * the history was answered, every minute of the window on the axis.
 */
const MINUTE = 60_000;
const entry = (t: number, count: number): StreamEntry => ({ at: new Date(t).toISOString(), count, types: { agent_invocation: count }, agents: [] });

describe('the live window', () => {
  it('matches a per-entry reference over random histories, messages and clocks', () => {
    const r = rng(31);
    for (let trial = 0; trial < 300; trial++) {
      const minutes = 1 + Math.floor(r() * 30);
      const now = Date.UTC(2026, 11, 7, 19) + Math.floor(r() * 3_600_000);
      const loadedAt = now - Math.floor(r() * 20 * MINUTE);
      const history = Array.from({ length: Math.floor(r() * 40) }, () => entry(Math.floor((now - r() * 45 * MINUTE) / MINUTE) * MINUTE, 1 + Math.floor(r() * 50)));
      const live = Array.from({ length: Math.floor(r() * 40) }, () => entry(now - Math.floor(r() * 25 * MINUTE), 1 + Math.floor(r() * 5)));

      const view = liveView(history, live, now, loadedAt, minutes);

      const end = (Math.floor(now / MINUTE) + 1) * MINUTE;
      const start = end - minutes * MINUTE;
      const kept = [...history, ...live.filter((e) => Date.parse(e.at) >= loadedAt)].filter((e) => Date.parse(e.at) >= start && Date.parse(e.at) < end);
      expect(view.total).toBe(kept.reduce((a, e) => a + e.count, 0));
      expect(view.points).toHaveLength(minutes);
      for (let i = 0; i < minutes; i++) {
        const m = start + i * MINUTE;
        expect(view.points[i]).toEqual({ t: new Date(m).toISOString(), v: kept.filter((e) => Date.parse(e.at) >= m && Date.parse(e.at) < m + MINUTE).reduce((a, e) => a + e.count, 0) });
      }
      expect(view.latest).toHaveLength(kept.length);
      for (let i = 1; i < view.latest.length; i++) expect(Date.parse(view.latest[i - 1]!.at)).toBeGreaterThanOrEqual(Date.parse(view.latest[i]!.at));
    }
  });

  it('counts a message that arrived after the history, and not one the history already holds', () => {
    const now = Date.UTC(2026, 11, 7, 19, 30, 20);
    const history = [entry(Date.UTC(2026, 11, 7, 19, 29), 4)];
    const before = entry(now - 10_000, 2);
    const after = entry(now - 1_000, 1);
    const view = liveView(history, [after, before], now, now - 5_000);
    expect(view.total).toBe(5);
    expect(view.points.at(-1)).toEqual({ t: new Date(Date.UTC(2026, 11, 7, 19, 30)).toISOString(), v: 1 });
    expect(view.points.at(-2)!.v).toBe(4);
    expect(view.latest.map((e) => e.count)).toEqual([1, 4]);
  });

  it('lets the history age out as the clock moves on', () => {
    const t = Date.UTC(2026, 11, 7, 19, 0);
    const history = [entry(t, 3)];
    expect(liveView(history, [], t + 14 * MINUTE, t).total).toBe(3);
    expect(liveView(history, [], t + 15 * MINUTE, t).total).toBe(0);
  });

  it('names the busiest types first', () => {
    expect(describeTypes({ tool_call: 3, agent_invocation: 12, session_start: 3 })).toBe('12 agent_invocation, 3 session_start, 3 tool_call');
    expect(describeTypes({})).toBe('');
  });
});
