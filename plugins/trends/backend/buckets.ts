/**
 * Future buckets of a metrics-query series: minute and hour buckets are fixed lengths; day,
 * week and month buckets start at local midnight in the query's zone, so they are stepped on
 * the wall calendar (a day across a daylight-saving change is 23 or 25 hours long).
 */
import type { MetricsGranularity } from '@orrery/plugin-sdk';

const FIXED: Partial<Record<MetricsGranularity, number>> = { minute: 60_000, hour: 3_600_000 };

/** Offset of `tz` from UTC at an instant, in ms (local wall time − UTC). */
function offsetMs(instant: number, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant whose wall-clock time in `tz` is the given UTC-coded wall time. */
function fromWall(wall: number, tz: string): number {
  let guess = wall - offsetMs(wall, tz);
  guess = wall - offsetMs(guess, tz);
  return guess;
}

/** `count` bucket starts after `last` (ISO), in `tz` (default UTC). */
export function nextBuckets(last: string, granularity: MetricsGranularity, count: number, tz = 'UTC'): string[] {
  const start = Date.parse(last);
  const fixed = FIXED[granularity];
  if (fixed) return Array.from({ length: count }, (_, i) => new Date(start + (i + 1) * fixed).toISOString());
  const wall = new Date(start + offsetMs(start, tz));
  const out: string[] = [];
  for (let i = 1; i <= count; i++) {
    const w = new Date(wall.getTime());
    if (granularity === 'day') w.setUTCDate(w.getUTCDate() + i);
    else if (granularity === 'week') w.setUTCDate(w.getUTCDate() + 7 * i);
    else w.setUTCMonth(w.getUTCMonth() + i);
    out.push(new Date(fromWall(w.getTime(), tz)).toISOString());
  }
  return out;
}
