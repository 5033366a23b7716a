import type { KeyValueStore } from '../types.ts';

/** In-process key/value with expiry: the embedded default for dedup, locks and rate limits. */
export function memoryKv(): KeyValueStore {
  const map = new Map<string, { v: string; exp: number }>();
  const live = (k: string) => {
    const e = map.get(k);
    if (!e) return null;
    if (e.exp && e.exp < Date.now()) {
      map.delete(k);
      return null;
    }
    return e;
  };
  // sweep expired keys now and then so a long-running process does not grow without bound
  const sweep = setInterval(() => {
    const now = Date.now();
    for (const [k, e] of map) if (e.exp && e.exp < now) map.delete(k);
  }, 60_000);
  sweep.unref();
  const put = (k: string, v: string, ttl?: number) => map.set(k, { v, exp: ttl ? Date.now() + ttl * 1000 : 0 });
  return {
    async setIfAbsent(k, v, ttl) {
      if (live(k)) return false;
      put(k, v, ttl);
      return true;
    },
    async setManyIfAbsent(keys, v, ttl) {
      return keys.map((k) => {
        if (live(k)) return false;
        put(k, v, ttl);
        return true;
      });
    },
    async get(k) {
      return live(k)?.v ?? null;
    },
    async set(k, v, ttl) {
      put(k, v, ttl);
    },
    async del(k) {
      map.delete(k);
    },
    async delMany(keys) {
      for (const k of keys) map.delete(k);
    },
    async incr(k, ttl) {
      const e = live(k);
      const n = (e ? Number(e.v) : 0) + 1;
      map.set(k, { v: String(n), exp: e?.exp || Date.now() + ttl * 1000 });
      return n;
    },
    async close() {
      clearInterval(sweep);
      map.clear();
    },
  };
}
