import { describe, it, expect } from 'vitest';
import { renderDdl } from '../src/storage/migrations.ts';

describe('ClickHouse DDL rendering', () => {
  const ddl = 'CREATE TABLE IF NOT EXISTS {db}.t{cluster} (org_id String) ENGINE = {engine:ReplacingMergeTree} ORDER BY org_id';
  it('renders plain engines on a single node', () => {
    expect(renderDdl(ddl, 'orrery', null)).toBe('CREATE TABLE IF NOT EXISTS orrery.t (org_id String) ENGINE = ReplacingMergeTree() ORDER BY org_id');
  });
  it('renders ON CLUSTER and Replicated engines when a cluster is named, keeping engine arguments', () => {
    expect(renderDdl(ddl, 'orrery', 'main')).toBe(
      "CREATE TABLE IF NOT EXISTS orrery.t ON CLUSTER main (org_id String) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}') ORDER BY org_id",
    );
    expect(renderDdl('ENGINE = {engine:ReplacingMergeTree(version)}', 'd', 'c')).toBe(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', version)",
    );
  });
});
