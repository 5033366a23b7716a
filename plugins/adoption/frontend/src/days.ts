import type { TimeRange } from '@orrery/plugin-sdk/frontend';

/**
 * Adoption data is per UTC day: the widget's time range becomes the days it
 * touches (`to` exclusive, so the day holding `to` is included unless `to` is
 * its midnight).
 */
export function dayRange(r: TimeRange): { from: string; to: string } {
  const from = r.from.slice(0, 10);
  const end = new Date(r.to);
  const to = end.toISOString().slice(11, 23) === '00:00:00.000' ? end.toISOString().slice(0, 10) : new Date(end.getTime() + 86_400_000).toISOString().slice(0, 10);
  return { from, to: to > from ? to : new Date(Date.parse(`${from}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) };
}
