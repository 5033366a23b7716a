import type { ChMigration } from '@orrery/plugin-sdk';

/**
 * The kernel's one events table: a strict, typed column per field of every event
 * type (no free-form properties). `org_id` leads the sort key so every tenant's
 * rows are contiguous; partitions are monthly.
 *
 * `fixes` records every auto-correction, upcast and privacy change applied at
 * ingestion; `received_schema_version` the version the sender used; `source`
 * the door it came through (api, batch, otlp, replay). The dedup lookups of
 * ingestion search by the whole sort key (org, type, timestamp, id), so no
 * skip index is needed, and none slows every insert. ReplacingMergeTree on a sort key that
 * ends with event_id is a second line of defence against duplicates; the
 * pipeline itself never inserts an event twice.
 */
export const events: ChMigration = {
  name: '0001_events',
  statements: [
    `CREATE TABLE IF NOT EXISTS {db}.events{cluster} (
      org_id LowCardinality(String),
      event_id String,
      event_type LowCardinality(String),
      action LowCardinality(String) DEFAULT '',
      timestamp DateTime64(3, 'UTC'),
      received_at DateTime64(3, 'UTC') DEFAULT now64(3),
      department_id LowCardinality(String) DEFAULT '',
      user_id String DEFAULT '',
      session_id String DEFAULT '',
      correlation_id String DEFAULT '',
      trace_id String DEFAULT '',
      schema_version UInt16 DEFAULT 1,
      received_schema_version UInt16 DEFAULT 1,
      fixes Array(String) DEFAULT [],
      agent_name LowCardinality(String) DEFAULT '',
      agent_version LowCardinality(String) DEFAULT '',
      invocation_id String DEFAULT '',
      parent_invocation_id String DEFAULT '',
      model_used LowCardinality(String) DEFAULT '',
      prompt_template_version LowCardinality(String) DEFAULT '',
      input_tokens UInt64 DEFAULT 0,
      output_tokens UInt64 DEFAULT 0,
      cached_input_tokens UInt64 DEFAULT 0,
      execution_time_ms Float64 DEFAULT 0,
      status LowCardinality(String) DEFAULT '',
      error_type LowCardinality(String) DEFAULT '',
      error_message String DEFAULT '',
      tools_used Array(LowCardinality(String)) DEFAULT [],
      cost_usd Decimal(18, 9) DEFAULT 0,
      cost_source LowCardinality(String) DEFAULT '',
      input_payload String DEFAULT '',
      output_payload String DEFAULT '',
      tool_name LowCardinality(String) DEFAULT '',
      command_name LowCardinality(String) DEFAULT '',
      workflow_id LowCardinality(String) DEFAULT '',
      workflow_step LowCardinality(String) DEFAULT '',
      step_index UInt16 DEFAULT 0,
      feature_name LowCardinality(String) DEFAULT '',
      artifact_id String DEFAULT '',
      duration_ms Float64 DEFAULT 0,
      rating Int8 DEFAULT 0,
      intervention_id String DEFAULT '',
      metric_name LowCardinality(String) DEFAULT '',
      metric_value Float64 DEFAULT 0,
      lines_changed Int64 DEFAULT 0,
      decision LowCardinality(String) DEFAULT '',
      decision_source LowCardinality(String) DEFAULT '',
      reason LowCardinality(String) DEFAULT '',
      surface LowCardinality(String) DEFAULT '',
      artifact_type LowCardinality(String) DEFAULT '',
      intervention_type LowCardinality(String) DEFAULT '',
      metric_unit LowCardinality(String) DEFAULT '',
      comment String DEFAULT '',
      source LowCardinality(String) DEFAULT ''
    ) ENGINE = {engine:ReplacingMergeTree}
    PARTITION BY toYYYYMM(timestamp)
    ORDER BY (org_id, event_type, timestamp, event_id)`,
  ],
};
