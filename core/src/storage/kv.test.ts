/**
 * Both key/value stores: delMany removes exactly the keys named (and nothing else), in-process
 * and on Redis (when one answers at ORRERY_TEST_REDIS_URL, default 127.0.0.1:6379).
 */
import { describe, it, expect } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { memoryKv, redisKv } from './kv.ts';
import type { KeyValueStore } from '../types.ts';

const REDIS = process.env.ORRERY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
let redisUp = true;
try {
  const r = new Redis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
  await r.quit();
} catch {
  redisUp = false;
}

async function removesOnlyTheNamedKeys(kv: KeyValueStore) {
  // more than one Redis command's worth of keys, in a random order
  const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
  expect((await kv.setManyIfAbsent(keys, 'v', 60)).every(Boolean)).toBe(true);
  const doomed = keys.filter(() => Math.random() < 0.5).sort(() => Math.random() - 0.5);
  await kv.delMany(doomed);
  await kv.delMany([]);
  const gone = new Set(doomed);
  const left = await Promise.all(keys.map((k) => kv.get(k)));
  keys.forEach((k, i) => expect(left[i]).toBe(gone.has(k) ? null : 'v'));
}

describe('key/value delMany', () => {
  it('in-process', async () => {
    const kv = memoryKv();
    await removesOnlyTheNamedKeys(kv);
    await kv.close();
  });

  it.skipIf(!redisUp)('Redis', async () => {
    const prefix = `orrery-test-kv:${randomUUID().slice(0, 8)}:`;
    const kv = redisKv(REDIS, prefix);
    try {
      await removesOnlyTheNamedKeys(kv);
    } finally {
      const keys = await kv.redis.keys(`${prefix}*`);
      // keys() answers with the prefix; del() adds it again
      if (keys.length) await kv.redis.del(...keys.map((k) => k.slice(prefix.length)));
      await kv.close();
    }
  });
});
