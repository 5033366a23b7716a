import { describe, expect, it } from 'vitest';
import { tierProblems, tierStatements, type TierConfig } from './tiers.ts';

const cfg: TierConfig = { storagePolicy: 'hot_warm_cold', warmVolume: 'warm', coldVolume: 'cold', warmAfterDays: 7, coldAfterDays: 30 };

describe('storage tiers', () => {
  it('puts a table on the policy and moves parts by age, on a cluster too', () => {
    expect(tierStatements(cfg, 'orrery.events', 'timestamp', null)).toEqual([
      "ALTER TABLE orrery.events MODIFY SETTING storage_policy = 'hot_warm_cold'",
      "ALTER TABLE orrery.events MODIFY TTL toDateTime(timestamp) + INTERVAL 7 DAY TO VOLUME 'warm', toDateTime(timestamp) + INTERVAL 30 DAY TO VOLUME 'cold'",
    ]);
    expect(tierStatements({ ...cfg, warmAfterDays: 0 }, 'db.calls_1h', 'bucket', 'main')).toEqual([
      "ALTER TABLE db.calls_1h ON CLUSTER main MODIFY SETTING storage_policy = 'hot_warm_cold'",
      "ALTER TABLE db.calls_1h ON CLUSTER main MODIFY TTL toDateTime(bucket) + INTERVAL 30 DAY TO VOLUME 'cold'",
    ]);
  });

  it('does nothing without a policy or moves, and refuses cold before warm', () => {
    expect(tierStatements({ ...cfg, storagePolicy: '' }, 'db.events', 'timestamp', null)).toEqual([]);
    expect(tierStatements({ ...cfg, warmAfterDays: 0, coldAfterDays: 0 }, 'db.events', 'timestamp', null)).toEqual([]);
    expect(tierProblems(cfg)).toEqual([]);
    expect(tierProblems({ ...cfg, coldAfterDays: 7 })).toEqual(['retention.tiers.coldAfterDays must be greater than warmAfterDays']);
    expect(tierProblems({ ...cfg, storagePolicy: '', coldAfterDays: 1 })).toEqual([]);
  });

  it('quotes names', () => {
    expect(tierStatements({ ...cfg, storagePolicy: "a'b" }, 't', 'timestamp', null)[0]).toBe("ALTER TABLE t MODIFY SETTING storage_policy = 'a\\'b'");
  });
});
