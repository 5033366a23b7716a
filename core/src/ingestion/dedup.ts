/**
 * Duplicate detection by `event_id`, per org, across nodes and restarts.
 *
 * The shared key-value store (Redis when scaled out) holds a claim per event
 * id: `p|<node>|<ms>|<type>|<event ms>` once a node took the event, `u|<ms>|…`
 * when an insert failed and nobody knows whether it landed. The claim keeps
 * the first copy's type and timestamp so ClickHouse can be asked by its sort
 * key (an index search) whether that copy is stored. A claim alone is
 * never proof that the event is stored — a node may die between claiming and
 * committing, and its client, having had no 2xx, will resend. So when a claim
 * already exists, ClickHouse decides:
 *
 * - the event is stored → duplicate (409);
 * - not stored, claim is fresh → the first copy is still in flight: the sender
 *   is told to retry shortly (503 + Retry-After), never "duplicate", because
 *   answering 409 for an event that then fails would lose it;
 * - not stored, claim is stale or uncertain → the claim is taken over.
 *
 * When the store is in-process it is empty after a restart, so new claims are
 * also checked against ClickHouse — once per committed batch, in the
 * committer, so the check costs one query per batch rather than per event.
 */
import type { KeyValueStore } from '../types.ts';

export type ClaimResult = 'new' | 'duplicate' | 'in_flight';

export interface EventKey {
  id: string;
  type: string;
  /** event timestamp, ms */
  ts: number;
}

export interface DedupOptions {
  nodeId: string;
  ttlSeconds: number;
  /** a claim older than this whose event is not stored is abandoned (its node died) */
  staleMs: number;
  /** ids (of this org) among `keys` that are stored in ClickHouse */
  stored(orgId: string, keys: EventKey[]): Promise<Set<string>>;
  /**
   * Drop a claim as soon as its event is committed (`settled`). Only where something
   * else answers for committed ids from then on: the durable log's id index, with a kv
   * that is this process's own memory (no other node reads the claim). Kept, claims
   * of a busy node piled up for their whole TTL: ~600 bytes each, 400 MB at 3,800
   * events/s over the 120 s TTL plus the minute between sweeps.
   */
  releaseOnCommit?: boolean;
}

export class Deduper {
  constructor(private readonly kv: KeyValueStore, private readonly o: DedupOptions) {}

  key(orgId: string, id: string) {
    return `ingest:ev:${orgId}:${id}`;
  }

  private value(kind: 'p' | 'u', k: EventKey, now: number) {
    return `${kind}|${this.o.nodeId}|${now}|${k.type}|${k.ts}`;
  }

  async claim(orgId: string, events: EventKey[]): Promise<ClaimResult[]> {
    if (events.length === 0) return [];
    const keys = events.map((e) => this.key(orgId, e.id));
    const now = Date.now();
    const won = events.length === 1
      ? [await this.kv.setIfAbsent(keys[0]!, this.value('p', events[0]!, now), this.o.ttlSeconds)]
      // one value for all keys (one round trip): a conflict on such a claim is looked up by the
      // resend's own type and timestamp, which an idempotent resend shares with the first copy
      : await this.kv.setManyIfAbsent(keys, `p|${this.o.nodeId}|${now}||`, this.o.ttlSeconds);
    const out: ClaimResult[] = won.map((w) => (w ? 'new' : 'duplicate'));
    const lost: number[] = [];
    won.forEach((w, i) => !w && lost.push(i));
    if (lost.length === 0) return out;

    const values = await Promise.all(lost.map((i) => this.kv.get(keys[i]!)));
    const lookup: EventKey[] = [];
    lost.forEach((i, j) => {
      lookup.push(events[i]!);
      const [, , , type, ts] = (values[j] ?? '').split('|');
      if (type && ts && (type !== events[i]!.type || Number(ts) !== events[i]!.ts)) lookup.push({ id: events[i]!.id, type, ts: Number(ts) });
    });
    const stored = await this.o.stored(orgId, lookup);
    await Promise.all(lost.map(async (i, j) => {
      if (stored.has(events[i]!.id)) return (out[i] = 'duplicate');
      const v = values[j];
      const at = v ? Number(v.split('|')[2]) : 0;
      if (v === null || v.startsWith('u|') || !(now - at < this.o.staleMs)) {
        await this.kv.set(keys[i]!, this.value('p', events[i]!, now), this.o.ttlSeconds);
        return (out[i] = 'new');
      }
      return (out[i] = 'in_flight');
    }));
    return out;
  }

  /** After a failed insert: nobody knows whether it landed, so the next claimant asks ClickHouse. */
  async markUncertain(orgId: string, events: EventKey[]): Promise<void> {
    const now = Date.now();
    await Promise.all(events.map((e) => this.kv.set(this.key(orgId, e.id), this.value('u', e, now), this.o.ttlSeconds).catch(() => undefined)));
  }

  /** The events are committed: their claims may go when something else answers for them now. */
  settled(orgId: string, ids: string[]): void {
    if (this.o.releaseOnCommit) void this.release(orgId, ids);
  }

  /** Forget claims (right to be forgotten: deleted events may be sent again). */
  async release(orgId: string, ids: string[]): Promise<void> {
    // one call for the request's ids: a promise per id was measurable on 1,000-event batches
    await this.kv.delMany(ids.map((id) => this.key(orgId, id))).catch(() => undefined);
  }
}
