import { describe, expect, it } from 'vitest';
import { TIME_RANGE_PRESETS } from '@orrery/plugin-sdk/contract';
import { PRESETS, fromLocalInput, resolvePreset, startOfZonedDay, toLocalInput } from './time.ts';

describe('time range presets', () => {
  const now = new Date('2025-03-12T15:20:30Z'); // a Wednesday

  it('offers exactly the presets the plugin contract lets a widget name as its default range', () => {
    expect(PRESETS.map((p) => p.id)).toEqual([...TIME_RANGE_PRESETS]);
    for (const id of TIME_RANGE_PRESETS) expect(resolvePreset(id, now, 'UTC').preset).toBe(id);
  });

  it('rolling presets end at the next whole minute', () => {
    expect(resolvePreset('24h', now, 'UTC')).toEqual({ from: '2025-03-11T15:21:00.000Z', to: '2025-03-12T15:21:00.000Z', preset: '24h' });
  });

  it('"today" starts at midnight in the user zone', () => {
    expect(resolvePreset('today', now, 'Asia/Tokyo').from).toBe('2025-03-12T15:00:00.000Z'); // 00:00 JST on the 13th
    expect(resolvePreset('today', now, 'America/New_York').from).toBe('2025-03-12T04:00:00.000Z'); // EDT since 9 March
  });

  it('weeks start on Monday', () => {
    expect(resolvePreset('week', now, 'UTC').from).toBe('2025-03-10T00:00:00.000Z');
  });

  it('months start on the 1st in the user zone', () => {
    expect(resolvePreset('month', now, 'Europe/Berlin').from).toBe('2025-02-28T23:00:00.000Z');
  });

  it('rejects unknown presets', () => {
    expect(() => resolvePreset('fortnight', now, 'UTC')).toThrow(/fortnight/);
  });

  it('round-trips datetime-local values through the zone', () => {
    expect(toLocalInput('2025-07-01T10:00:00Z', 'Europe/Paris')).toBe('2025-07-01T12:00');
    expect(fromLocalInput('2025-07-01T12:00', 'Europe/Paris')).toBe('2025-07-01T10:00:00.000Z');
  });

  it('finds the start of a day across a DST change', () => {
    expect(startOfZonedDay(new Date('2025-03-30T12:00:00Z'), 'Europe/Berlin').toISOString()).toBe('2025-03-29T23:00:00.000Z');
  });
});
