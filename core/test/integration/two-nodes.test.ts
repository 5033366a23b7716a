import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { io } from 'socket.io-client';
import pg from 'pg';
import { Redis } from 'ioredis';

const DB = process.env.ORRERY_TEST_DATABASE_URL;
const REDIS = process.env.ORRERY_TEST_REDIS_URL;
const root = join(import.meta.dirname, '..', '..', '..');

function node(port: number, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'core/src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ORRERY_DEMO_DATA: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
async function ready(port: number) {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return;
    } catch {
      // still starting
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node on ${port} never became ready`);
}

// Needs two processes sharing a real PostgreSQL and Redis: .ci/run sets both.
describe.runIf(DB && REDIS)('two API processes on one Redis', () => {
  it('a bus event published on one node reaches a socket.io client of the other', async () => {
    const suffix = randomBytes(4).toString('hex');
    const dbName = `orrery_t_nodes_${suffix}`;
    const admin = new pg.Client({ connectionString: DB });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    const url = new URL(DB!);
    url.pathname = `/${dbName}`;
    const prefix = `orrery-test:${suffix}:`;
    const dirs = [mkdtempSync(join(tmpdir(), 'orrery-n1-')), mkdtempSync(join(tmpdir(), 'orrery-n2-'))];
    const env = { DATABASE_URL: url.toString(), REDIS_URL: REDIS!, ORRERY__STORAGE__REDIS_PREFIX: prefix, ORRERY_ADMIN_PASSWORD: 'Two-nodes-password-1!' };
    const ports = [7600 + Math.floor(Math.random() * 500), 0];
    ports[1] = ports[0]! + 1;
    const a = node(ports[0]!, { ...env, ORRERY_DATA_DIR: dirs[0]! });
    let b: ChildProcess | null = null;
    try {
      await ready(ports[0]!);
      // the second node starts on the store the first one bootstrapped
      b = node(ports[1]!, { ...env, ORRERY_DATA_DIR: dirs[1]! });
      await ready(ports[1]!);
      const login = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@demo.local', password: 'Two-nodes-password-1!' }),
      }).then((r) => r.json());
      const socket = io(`http://127.0.0.1:${ports[1]}`, { auth: { token: login.access_token }, transports: ['websocket'] });
      await new Promise<void>((res, rej) => {
        socket.once('connect', () => res());
        socket.once('connect_error', rej);
      });
      const received = new Promise<any>((res) => socket.on('bus', (m) => m.topic === 'notifications.new' && res(m)));
      const sent = await fetch(`http://127.0.0.1:${ports[0]}/api/v1/notifications/test`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` },
        body: JSON.stringify({ channels: ['in_app'] }),
      });
      expect(sent.status).toBe(200);
      const msg = await Promise.race([received, new Promise((_, rej) => setTimeout(() => rej(new Error('no message on node 2')), 10_000))]);
      expect((msg as any).payload.subject).toBe('Orrery test notification');
      socket.close();
    } finally {
      for (const c of [a, b]) {
        if (!c) continue;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await exited;
      }
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
      const r = new Redis(REDIS!);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      await r.quit();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 180_000);
});
