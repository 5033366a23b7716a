/**
 * Hot/warm/cold storage tiers with a ClickHouse server: the events table and the rollup tables
 * move their older parts to slower volumes by a table TTL (`TTL … TO VOLUME`). Moving a part is
 * the same for every org (a part holds many orgs), so tiers go by age alone; expiry, which
 * differs per org, stays with the retention job.
 *
 * The server must define the storage policy and its volumes (`storage_configuration` in its
 * config); the policy must contain the table's current disk (ClickHouse refuses a policy change
 * that would orphan parts). Embedded chDB has one local disk: no tiers, nothing is moved.
 */
export interface TierConfig {
  /** the server's storage policy holding the volumes below ('' = tiers off) */
  storagePolicy: string;
  warmVolume: string;
  coldVolume: string;
  /** parts whose newest row is older than this move to the warm volume (0 = never) */
  warmAfterDays: number;
  /** … and to the cold volume (0 = never) */
  coldAfterDays: number;
}

/** The DDL that puts one table on the tiers; `column` is its time column (`timestamp`, `bucket`). */
export function tierStatements(cfg: TierConfig, table: string, column: string, cluster: string | null): string[] {
  if (!cfg.storagePolicy) return [];
  const on = cluster ? ` ON CLUSTER ${cluster}` : '';
  const moves: string[] = [];
  const t = `toDateTime(${column})`;
  if (cfg.warmAfterDays > 0) moves.push(`${t} + INTERVAL ${Math.floor(cfg.warmAfterDays)} DAY TO VOLUME '${quote(cfg.warmVolume)}'`);
  if (cfg.coldAfterDays > 0) moves.push(`${t} + INTERVAL ${Math.floor(cfg.coldAfterDays)} DAY TO VOLUME '${quote(cfg.coldVolume)}'`);
  if (!moves.length) return [];
  return [`ALTER TABLE ${table}${on} MODIFY SETTING storage_policy = '${quote(cfg.storagePolicy)}'`, `ALTER TABLE ${table}${on} MODIFY TTL ${moves.join(', ')}`];
}

/** Refuses a tier layout that would move data backwards (cold before warm). */
export function tierProblems(cfg: TierConfig): string[] {
  if (!cfg.storagePolicy) return [];
  const out: string[] = [];
  if (cfg.warmAfterDays > 0 && cfg.coldAfterDays > 0 && cfg.coldAfterDays <= cfg.warmAfterDays) out.push('retention.tiers.coldAfterDays must be greater than warmAfterDays');
  if (!cfg.warmVolume || !cfg.coldVolume) out.push('retention.tiers needs warmVolume and coldVolume');
  return out;
}

const quote = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
