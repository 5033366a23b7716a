/**
 * A Bloom filter of the event ids stored in ClickHouse, for the embedded mode, where the
 * dedup store lives in memory and is empty after a restart. Without it every batch would ask
 * ClickHouse whether its ids are already stored; with it only the ids the filter cannot rule
 * out are asked about (about 1 % of new ids, plus real resends). The ids stored when this
 * process started are read in the background (until then every batch asks); the ids this
 * process stores are added as they are loaded (`addStored`), into filters of a fixed capacity
 * each (1.25 bytes per id), so the in-memory claims need not remember every id for the whole
 * dedup period (they did: ~450 bytes per event for 30 days, RSS growing with every event).
 */
import type { ClickHouseClient } from '@clickhouse/client';

export class BloomFilter {
  private readonly bits: Uint32Array;
  private readonly m: number;
  constructor(expected: number, readonly k = 7) {
    // ~10 bits per entry with 7 hashes: about 1 % false positives
    this.m = Math.max(1 << 16, Math.ceil(expected * 10));
    this.bits = new Uint32Array(Math.ceil(this.m / 32));
  }
  private hashes(s: string): [number, number] {
    // FNV-1a with two offset bases; double hashing derives the k positions
    let h1 = 0x811c9dc5, h2 = 0x01000193 ^ 0x5bd1e995;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    return [h1 >>> 0, (h2 >>> 0) | 1];
  }
  add(s: string) {
    const [a, b] = this.hashes(s);
    for (let i = 0; i < this.k; i++) {
      const bit = ((a + Math.imul(i, b)) >>> 0) % this.m;
      this.bits[bit >>> 5]! |= 1 << (bit & 31);
    }
  }
  has(s: string): boolean {
    const [a, b] = this.hashes(s);
    for (let i = 0; i < this.k; i++) {
      const bit = ((a + Math.imul(i, b)) >>> 0) % this.m;
      if (!(this.bits[bit >>> 5]! & (1 << (bit & 31)))) return false;
    }
    return true;
  }
  get bytes() {
    return this.bits.byteLength;
  }
}

/** ids per filter of this process's own loads: a new one starts when one is full */
const RUNTIME_CAPACITY = 1_000_000;

export class StoredIdsFilter {
  private filter: BloomFilter | null = null;
  /** ids loaded by this process, newest filter last */
  private readonly runtime: BloomFilter[] = [];
  private runtimeCount = 0;
  readonly ready: Promise<void>;
  /** rows read while building, for the log */
  loaded = 0;

  constructor(private readonly client: ClickHouseClient, private readonly database: string, onError: (err: unknown) => void) {
    this.ready = this.build().catch((err) => {
      this.filter = null;
      onError(err);
    });
  }

  private async build() {
    const db = this.database;
    const q = async <T>(query: string, params: Record<string, unknown> = {}) =>
      (await (await this.client.query({ query, query_params: params, format: 'JSONCompactEachRow' })).json()) as T[];
    const [[total]] = await q<[number | string]>(`SELECT count() FROM ${db}.events`);
    const f = new BloomFilter(Number(total));
    // A month can hold tens of millions of ids: read each partition in hash slices of at most
    // ~250k rows, so building the filter never holds more than one slice in memory.
    const SLICE = 250_000;
    for (const [p, rows] of await q<[string, number | string]>(`SELECT _partition_id, count() FROM ${db}.events GROUP BY _partition_id`)) {
      const slices = Math.max(1, Math.ceil(Number(rows) / SLICE));
      for (let i = 0; i < slices; i++) {
        const part = await q<[string, string]>(
          `SELECT org_id, event_id FROM ${db}.events WHERE _partition_id = {p:String} AND cityHash64(event_id) % {n:UInt32} = {i:UInt32}`,
          { p, n: slices, i },
        );
        for (const [org, id] of part) f.add(`${org}\u0000${id}`);
        this.loaded += part.length;
        // yield between slices so requests are served while the filter builds
        await new Promise((r) => setImmediate(r));
      }
    }
    this.filter = f;
  }

  /** An id this process has stored (loaded into ClickHouse). */
  addStored(orgId: string, eventId: string) {
    if (this.runtimeCount === this.runtime.length * RUNTIME_CAPACITY) this.runtime.push(new BloomFilter(RUNTIME_CAPACITY));
    this.runtime.at(-1)!.add(`${orgId}\u0000${eventId}`);
    this.runtimeCount++;
  }

  /** false: certainly not stored (before this process started, nor by it); true: ask the store (or not built yet) */
  mightContain(orgId: string, eventId: string): boolean {
    if (this.filter === null) return true;
    const k = `${orgId}\u0000${eventId}`;
    return this.filter.has(k) || this.runtime.some((f) => f.has(k));
  }

  /** bytes of the filters */
  get bytes() {
    return (this.filter?.bytes ?? 0) + this.runtime.reduce((n, f) => n + f.bytes, 0);
  }

  get isReady() {
    return this.filter !== null;
  }
}
