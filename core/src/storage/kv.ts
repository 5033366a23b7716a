import { Redis } from 'ioredis';
import type { KeyValueStore } from '../types.ts';

export { memoryKv } from './memoryKv.ts';

/** Redis-backed key/value shared by every API node; every key carries the install's prefix. */
export function redisKv(url: string, prefix: string): KeyValueStore & { redis: Redis } {
  const redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 3, lazyConnect: false });
  return {
    redis,
    async setIfAbsent(k, v, ttl) {
      return (await redis.set(k, v, 'EX', ttl, 'NX')) === 'OK';
    },
    async setManyIfAbsent(keys, v, ttl) {
      if (keys.length === 0) return [];
      const pipe = redis.pipeline();
      for (const k of keys) pipe.set(k, v, 'EX', ttl, 'NX');
      const res = (await pipe.exec()) ?? [];
      return res.map(([err, r]) => !err && r === 'OK');
    },
    async get(k) {
      return redis.get(k);
    },
    async set(k, v, ttl) {
      if (ttl) await redis.set(k, v, 'EX', ttl);
      else await redis.set(k, v);
    },
    async del(k) {
      await redis.del(k);
    },
    async delMany(keys) {
      // a bounded number of keys per command, so one huge batch does not block the server
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    },
    async incr(k, ttl) {
      const [[, n]] = (await redis.multi().incr(k).expire(k, ttl, 'NX').exec()) as [[unknown, number]];
      return n;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
