/**
 * The one ingestion pipeline every door (single, batch, OTLP, replay) goes
 * through: check (fix → validate → upcast) → org check → privacy → cost →
 * dedup claim → group commit → quality counters. Quarantine writes happen
 * before the answer, so a 422 means the event is stored for review.
 */
import type { Org, StoredEvent } from '@orrery/plugin-sdk';
import { CURRENT_SCHEMA_VERSION } from './schema/catalog.ts';
import { checkEvent, jsonDepth, MAX_PAYLOAD_DEPTH, type Problem } from './validate.ts';
import { applyCost } from './cost.ts';
import { applyPrivacy, type PrivacySettings } from './privacy.ts';
import { isSuspicious, type QualityTracker } from './quality.ts';
import { rowKey, type GroupCommitter } from './commit.ts';
import { BacklogFullError } from './log.ts';
import type { Deduper } from './dedup.ts';
import type { IngestionOrgStore } from './orgStore.ts';

export type ItemStatus = 'accepted' | 'duplicate' | 'invalid' | 'rejected' | 'retry';

export interface ItemResult {
  event_id: string | null;
  status: ItemStatus;
  error?: { code: string; message: string; details?: unknown };
  /** set when the event was quarantined */
  quarantine_id?: string;
}

export type EventRow = StoredEvent & { fixes: string[]; received_at: string; schema_version: number; received_schema_version: number; source: string };

export interface IngestOptions {
  headerVersion?: number;
  source: 'api' | 'batch' | 'otlp' | 'replay';
  /** fixes applied before the pipeline (e.g. defaults filled by the OTLP mapping) */
  preFixes?: string[][];
  /** do not quarantine invalid events (replay answers with the errors instead) */
  noQuarantine?: boolean;
}

/** The org's privacy settings apply to quarantined copies too: PII must not wait there unmasked. */
function privateCopy(raw: unknown, privacy: PrivacySettings): unknown {
  if (privacy.payloads === 'store' || raw === null || typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const copy: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const f of ['input_payload', 'output_payload'] as const) {
    if (copy[f] !== undefined && typeof copy[f] !== 'string') copy[f] = JSON.stringify(copy[f]);
  }
  applyPrivacy(copy, privacy);
  return copy;
}

/**
 * What the quarantine keeps of an invalid event: everything, except values
 * nested too deep to serialise safely (they are why it was refused).
 */
function quarantinable(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  if (jsonDepth(raw, MAX_PAYLOAD_DEPTH + 1) <= MAX_PAYLOAD_DEPTH + 1) return raw;
  if (Array.isArray(raw)) return `[array nested deeper than ${MAX_PAYLOAD_DEPTH} levels: not kept]`;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    out[k] = v !== null && typeof v === 'object' && jsonDepth(v, MAX_PAYLOAD_DEPTH) > MAX_PAYLOAD_DEPTH ? `[nested deeper than ${MAX_PAYLOAD_DEPTH} levels: not kept]` : v;
  }
  return out;
}

/**
 * A checked event made the stored row: the org, the defaults of the shared columns, versions,
 * fixes and receipt. Always in this order, so every row of an event type has one object shape
 * (the loader's generated column readers stay fast on it).
 */
export function completeRow(e: Record<string, unknown>, orgId: string, receivedVersion: number, fixes: string[], receivedIso: string, source: IngestOptions['source']): EventRow {
  e.org_id = orgId;
  e.action ??= '';
  e.department_id ??= '';
  e.user_id ??= '';
  e.session_id ??= '';
  e.schema_version = CURRENT_SCHEMA_VERSION;
  e.received_schema_version = receivedVersion;
  e.fixes = fixes;
  e.received_at = receivedIso;
  e.source = source;
  return e as EventRow;
}

export class Pipeline {
  constructor(private readonly d: {
    store: IngestionOrgStore;
    deduper: Deduper;
    /** resolves with the keys (org \0 id) found already stored, once the rest is committed */
    committer: Pick<GroupCommitter<EventRow>, 'submit'>;
    quality: QualityTracker;
    onQuarantineError(err: unknown): void;
    /** told of the events of one request that were quarantined (the kernel publishes `ingestion.quarantined`) */
    onQuarantined?(org: Org, items: Array<{ quarantine_id: string; event_id: string | null; event_type: string | null; errors: Problem[] }>, source: string): void;
  }) {}

  /**
   * Never throws for a bad event or a failed commit: those are per-event
   * results (`invalid`, `retry`). It throws only when a store it cannot do
   * without (settings, dedup claims) is unreachable.
   */
  async ingest(org: Org, raws: readonly unknown[], opts: IngestOptions): Promise<ItemResult[]> {
    const receivedAt = Date.now();
    const receivedIso = new Date(receivedAt).toISOString();
    // cached settings are returned as they are: no extra await (a promise and a tick) per request
    const cached = this.d.store.settings(org);
    const settings = cached instanceof Promise ? await cached : cached;
    const results: ItemResult[] = new Array(raws.length);
    const rows: EventRow[] = [];
    const rowIndex: number[] = [];
    const quarantined: Array<{ i: number; raw: unknown; errors: Problem[]; eventId: string | null; eventType: string | null; version: number }> = [];
    const seen = new Set<string>();
    const stamps: number[] = [];
    let missingRequired = 0, fixed = 0, suspicious = 0, duplicates = 0;

    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i];
      const r = checkEvent(raw, opts.headerVersion);
      if (!r.ok) {
        if (r.missingRequired) missingRequired++;
        quarantined.push({ i, raw, errors: r.errors, eventId: r.eventId, eventType: r.eventType, version: r.receivedVersion });
        results[i] = {
          event_id: r.eventId,
          status: 'invalid',
          error: { code: 'invalid_event', message: r.errors.map((p) => `${p.field}: ${p.problem}`).join('; '), details: r.errors },
        };
        continue;
      }
      const e = r.event;
      const id = e.event_id as string;
      if (e.org_id !== undefined && e.org_id !== org.id && e.org_id !== org.slug) {
        results[i] = { event_id: id, status: 'rejected', error: { code: 'org_mismatch', message: `event names org ${JSON.stringify(e.org_id)} but the token belongs to ${org.slug}` } };
        continue;
      }
      if (seen.has(id)) {
        duplicates++;
        results[i] = { event_id: id, status: 'duplicate', error: { code: 'duplicate_event', message: `event_id ${id} appears twice in this request` } };
        continue;
      }
      seen.add(id);
      const fixes = opts.preFixes?.[i] ? [...opts.preFixes[i]!, ...r.fixes] : r.fixes;
      fixes.push(...applyPrivacy(e, settings.privacy));
      const tsMs = Date.parse(e.timestamp as string);
      applyCost(e, settings.prices, tsMs);
      if (fixes.length) fixed++;
      if (isSuspicious(e, receivedAt, tsMs)) suspicious++;
      rows.push(completeRow(e, org.id, r.receivedVersion, fixes, receivedIso, opts.source));
      rowIndex.push(i);
      stamps.push(tsMs);
    }

    const quarantineWrite = quarantined.length && !opts.noQuarantine
      ? this.d.store.quarantine(org, quarantined.map((q) => ({ event_id: q.eventId, event_type: q.eventType, source: opts.source, schema_version: q.version, payload: privateCopy(quarantinable(q.raw), settings.privacy), errors: q.errors })))
      : ([] as string[]);

    let commitError: unknown = null;
    let accepted = 0;
    if (rows.length) {
      const claims = await this.d.deduper.claim(org.id, rows.map((r, j) => ({ id: r.event_id, type: r.event_type, ts: stamps[j]! })));
      const toCommit: EventRow[] = [];
      const commitIdx: number[] = [];
      claims.forEach((c, j) => {
        const i = rowIndex[j]!;
        const id = rows[j]!.event_id;
        if (c === 'new') {
          toCommit.push(rows[j]!);
          commitIdx.push(i);
        } else if (c === 'duplicate') {
          duplicates++;
          results[i] = { event_id: id, status: 'duplicate', error: { code: 'duplicate_event', message: `event_id ${id} was already received` } };
        } else {
          results[i] = { event_id: id, status: 'retry', error: { code: 'event_in_flight', message: `an earlier copy of event_id ${id} is still being committed; retry shortly` } };
        }
      });
      if (toCommit.length) {
        try {
          const stored = await this.d.committer.submit(toCommit);
          this.d.deduper.settled(org.id, toCommit.map((r) => r.event_id));
          toCommit.forEach((row, j) => {
            const i = commitIdx[j]!;
            if (stored.has(rowKey(org.id, row.event_id))) {
              duplicates++;
              results[i] = { event_id: row.event_id, status: 'duplicate', error: { code: 'duplicate_event', message: `event_id ${row.event_id} was already received` } };
            } else {
              accepted++;
              results[i] = { event_id: row.event_id, status: 'accepted' };
            }
          });
        } catch (err) {
          if (err instanceof BacklogFullError) {
            // nothing was written: free the claims so the resend is taken as new, and refuse the whole request
            await this.d.deduper.release(org.id, toCommit.map((r) => r.event_id));
            // the invalid ones of the request are quarantined as usual; wait for that write so it is not left unobserved
            if (quarantined.length) await Promise.resolve(quarantineWrite).catch((e) => this.d.onQuarantineError(e));
            throw err;
          }
          commitError = err;
          await this.d.deduper.markUncertain(org.id, toCommit.map((r) => ({ id: r.event_id, type: r.event_type, ts: Date.parse(r.timestamp) })));
          for (const i of commitIdx) results[i] = { event_id: results[i]?.event_id ?? (raws[i] as { event_id?: string }).event_id ?? null, status: 'retry', error: { code: 'commit_failed', message: 'the event store did not confirm the write; send the event again' } };
        }
        if (!commitError) this.d.quality.latency(org.id, Date.now() - receivedAt, accepted);
      }
    }

    // nothing quarantined (the common case): no await of an empty write
    if (quarantined.length) try {
      const ids = await quarantineWrite;
      quarantined.forEach((q, j) => {
        if (ids[j]) results[q.i]!.quarantine_id = ids[j];
      });
      if (ids.length && this.d.onQuarantined)
        this.d.onQuarantined(org, quarantined.flatMap((q, j) => (ids[j] ? [{ quarantine_id: ids[j]!, event_id: q.eventId, event_type: q.eventType, errors: q.errors }] : [])), String(opts.source));
    } catch (err) {
      // the event was neither stored nor quarantined: tell the sender to retry rather than claim it is kept
      this.d.onQuarantineError(err);
      for (const q of quarantined) results[q.i] = { ...results[q.i]!, status: 'retry', error: { code: 'quarantine_failed', message: 'invalid event could not be quarantined; send it again', details: results[q.i]!.error?.details } };
    }

    this.d.quality.count(org.id, {
      received: raws.length,
      accepted,
      invalid: quarantined.length,
      missing_required: missingRequired,
      duplicates,
      fixed,
      suspicious,
    });
    return results;
  }
}
