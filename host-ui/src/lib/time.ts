/**
 * The dashboard's shared time range. Presets are resolved against "now" each time they are
 * used (a "last 7 days" dashboard left open keeps moving); calendar presets ("today", "this
 * week") start at midnight in the user's zone, weeks on Monday as the analytics routes do.
 */
import { fromZonedWallTime, toZonedWallTime, type TimeRange } from '@orrery/plugin-sdk/frontend';
import { TIME_RANGE_PRESETS, type TimeRangePreset } from '@orrery/plugin-sdk/contract';

export interface Preset { id: TimeRangePreset; label: string }

/** labels of the contract's presets (a plugin may name one as a widget's starting range) */
const LABELS: Record<TimeRangePreset, string> = {
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  today: 'Today',
  '7d': 'Last 7 days',
  week: 'This week',
  '30d': 'Last 30 days',
  month: 'This month',
  '90d': 'Last 90 days',
};

export const PRESETS: Preset[] = TIME_RANGE_PRESETS.map((id) => ({ id, label: LABELS[id] }));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Start of the day containing `at`, in `tz`, as a UTC instant. */
export function startOfZonedDay(at: Date, tz: string): Date {
  const wall = toZonedWallTime(at, tz).slice(0, 10);
  return new Date(fromZonedWallTime(`${wall} 00:00:00`, tz));
}

export function resolvePreset(id: string, now: Date, tz: string): TimeRange {
  const to = new Date(Math.ceil(now.getTime() / 60_000) * 60_000); // whole minutes: stable cache keys
  const back = (ms: number) => ({ from: new Date(to.getTime() - ms).toISOString(), to: to.toISOString(), preset: id });
  switch (id) {
    case '1h': return back(HOUR);
    case '24h': return back(DAY);
    case '7d': return back(7 * DAY);
    case '30d': return back(30 * DAY);
    case '90d': return back(90 * DAY);
    case 'today': return { from: startOfZonedDay(now, tz).toISOString(), to: to.toISOString(), preset: id };
    case 'week': {
      const wall = toZonedWallTime(now, tz);
      const dow = (new Date(`${wall.slice(0, 10)}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
      const monday = new Date(Date.parse(`${wall.slice(0, 10)}T00:00:00Z`) - dow * DAY).toISOString().slice(0, 10);
      return { from: fromZonedWallTime(`${monday} 00:00:00`, tz), to: to.toISOString(), preset: id };
    }
    case 'month': {
      const first = `${toZonedWallTime(now, tz).slice(0, 7)}-01 00:00:00`;
      return { from: fromZonedWallTime(first, tz), to: to.toISOString(), preset: id };
    }
    default: throw new Error(`unknown time range preset "${id}"`);
  }
}

export function presetLabel(id: string | undefined): string | undefined {
  return PRESETS.find((p) => p.id === id)?.label;
}

/** `<input type="datetime-local">` value (wall time in tz) ↔ ISO instant */
export const toLocalInput = (iso: string, tz: string) => toZonedWallTime(iso, tz).slice(0, 16).replace(' ', 'T');
export const fromLocalInput = (v: string, tz: string) => fromZonedWallTime(v.replace('T', ' '), tz);
