/**
 * Duplicate detection by `event_id`, per org, across nodes and restarts.
 *
 * The shared key-value store (Redis when scaled out) holds a claim per event
 * id: `p:<node>:<ms>` while the event is on its way to ClickHouse, `u:<ms>`
 * when an insert failed and nobody knows whether it landed. A claim alone is
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

export interface DedupOptions {
  nodeId: string;
  ttlSeconds: number;
  /** a claim older than this whose event is not stored is abandoned (its node died) */
  staleMs: number;
  /** ids (of this org) among `ids` that are stored in ClickHouse */
  stored(orgId: string, ids: string[]): Promise<Set<string>>;
}

export class Deduper {
  constructor(private readonly kv: KeyValueStore, private readonly o: DedupOptions) {}

  key(orgId: string, id: string) {
    return `ingest:ev:${orgId}:${id}`;
  }

  async claim(orgId: string, ids: string[]): Promise<ClaimResult[]> {
    if (ids.length === 0) return [];
    const keys = ids.map((id) => this.key(orgId, id));
    const now = Date.now();
    const won = ids.length === 1
      ? [await this.kv.setIfAbsent(keys[0]!, `p:${this.o.nodeId}:${now}`, this.o.ttlSeconds)]
      : await this.kv.setManyIfAbsent(keys, `p:${this.o.nodeId}:${now}`, this.o.ttlSeconds);
    const out: ClaimResult[] = won.map((w) => (w ? 'new' : 'duplicate'));
    const lost: number[] = [];
    won.forEach((w, i) => !w && lost.push(i));
    if (lost.length === 0) return out;

    const [values, stored] = await Promise.all([
      Promise.all(lost.map((i) => this.kv.get(keys[i]!))),
      this.o.stored(orgId, lost.map((i) => ids[i]!)),
    ]);
    await Promise.all(lost.map(async (i, j) => {
      if (stored.has(ids[i]!)) return (out[i] = 'duplicate');
      const v = values[j];
      const at = v ? Number(v.slice(v.lastIndexOf(':') + 1)) : 0;
      if (v === null || v.startsWith('u:') || !(now - at < this.o.staleMs)) {
        await this.kv.set(keys[i]!, `p:${this.o.nodeId}:${now}`, this.o.ttlSeconds);
        return (out[i] = 'new');
      }
      return (out[i] = 'in_flight');
    }));
    return out;
  }

  /** After a failed insert: nobody knows whether it landed, so the next claimant asks ClickHouse. */
  async markUncertain(orgId: string, ids: string[]): Promise<void> {
    const v = `u:${Date.now()}`;
    await Promise.all(ids.map((id) => this.kv.set(this.key(orgId, id), v, this.o.ttlSeconds).catch(() => undefined)));
  }

  /** Forget claims (right to be forgotten: deleted events may be sent again). */
  async release(orgId: string, ids: string[]): Promise<void> {
    await Promise.all(ids.map((id) => this.kv.del(this.key(orgId, id)).catch(() => undefined)));
  }
}
