/**
 * Durability: the server process is killed with SIGKILL in the middle of a
 * load of single and batch requests, restarted on the same data, and the
 * clients resend what got no answer. Every event that got a 2xx must be
 * stored exactly once, and so must every resent one.
 */
import { describe, it, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { invocation } from './helpers.ts';

const PASSWORD = 'Crash-test-passw0rd!';

function startServer(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'serve.ts')], {
    env: { ...process.env, DATA_DIR: dataDir, ADMIN_PASSWORD: PASSWORD },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('{"url"'));
      if (line) ok({ child, url: JSON.parse(line).url });
    });
    child.once('exit', (code) => fail(new Error(`server exited early (${code})`)));
  });
}

async function hookToken(url: string) {
  const login = await (await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'admin@crash.local', password: PASSWORD }) })).json();
  const t = await (await fetch(`${url}/api/v1/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${login.access_token}` }, body: JSON.stringify({ name: 'load', kind: 'hook' }) })).json();
  return t.token as string;
}

describe('SIGKILL during load', () => {
  it('stores every 2xx-answered event exactly once after a restart and resend', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orrery-crash-'));
    try {
      let { child, url } = await startServer(dataDir);
      const token = await hookToken(url);
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
      const events = new Map<string, Record<string, unknown>>();
      const acked = new Set<string>();
      const unknown = new Set<string>();
      let stop = false;

      const worker = async (w: number) => {
        for (let n = 0; !stop; n++) {
          const batch = n % 3 === 0;
          const evs = Array.from({ length: batch ? 50 : 1 }, () => invocation({ event_id: randomUUID(), user_id: `w${w}` }));
          for (const e of evs) events.set(e.event_id as string, e);
          try {
            const res = await fetch(`${url}/api/v1/events${batch ? '/batch' : ''}`, { method: 'POST', headers, body: JSON.stringify(batch ? { events: evs } : evs[0]) });
            if (batch && res.status === 200) {
              const body = await res.json();
              body.results.forEach((r: { status: string }, i: number) => (r.status === 'accepted' || r.status === 'duplicate' ? acked : unknown).add(evs[i]!.event_id as string));
            } else if (res.status === 202 || res.status === 409) {
              await res.arrayBuffer();
              acked.add(evs[0]!.event_id as string);
            } else {
              await res.arrayBuffer();
              for (const e of evs) unknown.add(e.event_id as string);
            }
          } catch {
            // the connection died with the process: the client does not know whether these were stored
            for (const e of evs) unknown.add(e.event_id as string);
          }
        }
      };
      const workers = Array.from({ length: 48 }, (_, w) => worker(w));
      await new Promise((r) => setTimeout(r, 2500));
      child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      const ackedBeforeKill = acked.size;
      expect(ackedBeforeKill).toBeGreaterThan(1000);
      expect(unknown.size).toBeGreaterThan(0);

      ({ child, url } = await startServer(dataDir));
      // clients resend what got no answer, with the same ids (the event client does exactly this)
      const resend = [...unknown];
      for (let i = 0; i < resend.length; i += 500) {
        const evs = resend.slice(i, i + 500).map((id) => events.get(id));
        const res = await fetch(`${url}/api/v1/events/batch`, { method: 'POST', headers, body: JSON.stringify({ events: evs }) });
        expect(res.status).toBe(200);
        const body = await res.json();
        for (const r of body.results) expect(['accepted', 'duplicate']).toContain(r.status);
      }
      // and a resend of already-answered events is recognised after the restart, though the dedup cache was in memory
      const sample = [...acked].slice(0, 300).map((id) => events.get(id));
      const again = await (await fetch(`${url}/api/v1/events/batch`, { method: 'POST', headers, body: JSON.stringify({ events: sample }) })).json();
      expect(again.results.every((r: { status: string }) => r.status === 'duplicate')).toBe(true);

      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));

      const { createChdbConnection } = await import('chdb/connection');
      const ch = createClient({ connection: createChdbConnection({ path: join(dataDir, 'ch') }) as any } as any);
      const rs = await ch.query({ query: `SELECT event_id, count() AS n FROM orrery.events GROUP BY event_id`, format: 'JSONEachRow' });
      const counts = new Map(((await rs.json()) as Array<{ event_id: string; n: number | string }>).map((r) => [r.event_id, Number(r.n)]));
      await ch.close();
      const missing = [...acked].filter((id) => !counts.has(id));
      const twice = [...counts].filter(([, n]) => n !== 1);
      expect(missing, 'acknowledged events lost').toEqual([]);
      expect(twice, 'events stored more than once').toEqual([]);
      for (const id of unknown) expect(counts.get(id)).toBe(1);
      console.log(`crash test: ${ackedBeforeKill} events acknowledged before SIGKILL, ${unknown.size} in flight resent; ${counts.size} stored, each once`);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
