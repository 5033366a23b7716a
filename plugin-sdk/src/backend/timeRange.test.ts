import { describe, expect, it } from 'vitest';
import { bucketIso, zoneOffsetMs } from './timeRange.ts';

describe('bucketIso and zoneOffsetMs', () => {
  it('turns local bucket starts into instants, across daylight-saving changes', () => {
    // Berlin: CET (+1) in winter, CEST (+2) in summer; the spring change is 2026-03-29 02:00 local
    expect(bucketIso('2026-01-15 10:00:00', 'Europe/Berlin')).toBe('2026-01-15T09:00:00.000Z');
    expect(bucketIso('2026-07-15 10:00:00', 'Europe/Berlin')).toBe('2026-07-15T08:00:00.000Z');
    expect(bucketIso('2026-03-29 01:00:00', 'Europe/Berlin')).toBe('2026-03-29T00:00:00.000Z');
    expect(bucketIso('2026-03-29 03:00:00', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    // half-hour zone, and a zone west of UTC
    expect(bucketIso('2026-05-01 00:00:00', 'Asia/Kolkata')).toBe('2026-04-30T18:30:00.000Z');
    expect(bucketIso('2026-11-01 00:00:00', 'America/New_York')).toBe('2026-11-01T04:00:00.000Z');
    expect(bucketIso('2026-11-02 00:00:00', 'America/New_York')).toBe('2026-11-02T05:00:00.000Z');
    expect(bucketIso('2026-11-02 00:00:00', 'UTC')).toBe('2026-11-02T00:00:00Z');
  });

  it('gives the same answer when asked again (remembered answers are per zone and minute)', () => {
    const at = new Date('2026-10-25T00:59:30Z'); // one minute before Berlin goes back to CET
    const first = zoneOffsetMs(at, 'Europe/Berlin');
    expect(first).toBe(2 * 3600_000);
    expect(zoneOffsetMs(at, 'Europe/Berlin')).toBe(first);
    expect(zoneOffsetMs(new Date('2026-10-25T01:00:00Z'), 'Europe/Berlin')).toBe(3600_000);
    expect(zoneOffsetMs(at, 'Asia/Tokyo')).toBe(9 * 3600_000);
    for (let i = 0; i < 3; i++) expect(bucketIso('2026-07-15 10:00:00', 'Europe/Berlin')).toBe('2026-07-15T08:00:00.000Z');
  });
});
