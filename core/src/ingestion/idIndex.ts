/**
 * The log's index of recent event ids, in memory: a 32-bit hash of `org \0 event_id` → the
 * log sequence number of the entry holding the event, in two typed arrays (open addressing,
 * linear probing, deletion by backward shift, so no tombstones accumulate).
 *
 * Why not an LMDB database beside the entries: one B-tree put per event id, each random key
 * dirtying its own page, was the largest item of a batch's main-thread CPU (≈ 19 % with the
 * lookups) and multiplied the pages every commit writes and syncs. The index is rebuilt from
 * the retained entries when the log opens, so it answers across restarts just the same, and it
 * holds only what the log retains (`retainMs` × rate × 12 bytes per id / load factor).
 *
 * The hash only narrows the search: equal hashes are told apart by the caller, who checks the
 * entry's rows (a collision must never turn a new event into a duplicate). Several slots may
 * hold the same hash (a multimap).
 */

/** FNV-1a of `org \0 id`, finished with a murmur3 mix so the low bits index the table well; never 0 */
export function idHash(orgId: string, eventId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < orgId.length; i++) h = Math.imul(h ^ orgId.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193); // the separator (\0)
  for (let i = 0; i < eventId.length; i++) h = Math.imul(h ^ eventId.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0 || 1;
}

export class IdIndex {
  private hashes: Uint32Array;
  private seqs: Float64Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 16;
    while (cap < initialCapacity) cap <<= 1;
    this.hashes = new Uint32Array(cap);
    this.seqs = new Float64Array(cap);
    this.mask = cap - 1;
  }

  get size() {
    return this.count;
  }

  /** bytes held by the table */
  get bytes() {
    return this.hashes.byteLength + this.seqs.byteLength;
  }

  add(hash: number, seq: number): void {
    if ((this.count + 1) * 2 > this.hashes.length) this.grow();
    let i = hash & this.mask;
    while (this.hashes[i] !== 0) i = (i + 1) & this.mask;
    this.hashes[i] = hash;
    this.seqs[i] = seq;
    this.count++;
  }

  /** Calls `fn` with the sequence number of every slot holding `hash` until it returns true; returns that seq, or -1. */
  find(hash: number, fn: (seq: number) => boolean): number {
    for (let i = hash & this.mask; this.hashes[i] !== 0; i = (i + 1) & this.mask) {
      if (this.hashes[i] === hash && fn(this.seqs[i]!)) return this.seqs[i]!;
    }
    return -1;
  }

  /** Removes one slot holding (hash, seq); false if there is none. */
  remove(hash: number, seq: number): boolean {
    const m = this.mask;
    let i = hash & m;
    while (this.hashes[i] !== 0 && !(this.hashes[i] === hash && this.seqs[i] === seq)) i = (i + 1) & m;
    if (this.hashes[i] === 0) return false;
    // backward shift: pull later slots of the probe run into the hole unless their home lies cyclically in (hole, slot]
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const h = this.hashes[j]!;
      if (h === 0) break;
      const home = h & m;
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      this.hashes[i] = h;
      this.seqs[i] = this.seqs[j]!;
      i = j;
    }
    this.hashes[i] = 0;
    this.count--;
    return true;
  }

  /** Halves the table while it is at most an eighth full (after a burst has been pruned). */
  shrinkIfSparse(minCapacity = 1 << 16): void {
    while (this.hashes.length > minCapacity && this.count * 8 <= this.hashes.length) this.resize(this.hashes.length / 2);
  }

  private grow() {
    this.resize(this.hashes.length * 2);
  }

  private resize(capacity: number) {
    const oldH = this.hashes, oldS = this.seqs;
    this.hashes = new Uint32Array(capacity);
    this.seqs = new Float64Array(capacity);
    this.mask = this.hashes.length - 1;
    this.count = 0;
    for (let i = 0; i < oldH.length; i++) if (oldH[i] !== 0) this.add(oldH[i]!, oldS[i]!);
  }
}
