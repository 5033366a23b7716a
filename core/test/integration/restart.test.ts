import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { startTestBackend } from '@orrery/backend-test-utils';

// Runs on the embedded stores, and on the machine's PostgreSQL/Redis when
// ORRERY_TEST_DATABASE_URL / ORRERY_TEST_REDIS_URL are set (.ci/run does).
describe('a restart keeps all data', () => {
  it('keeps orgs, users, tokens, settings and events', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'orrery-restart-'));
    try {
      const first = await startTestBackend({ dataDir });
      const other = await first.createOrg('kept-org');
      const dev = await other.addUser({ email: 'dev@kept-org.local', role: 'Developer', departments: ['Research'] });
      const token = await other.hookToken();
      await other.insertEvents([{ event_id: 'e-1', event_type: 'session', action: 'started', timestamp: '2026-11-01T10:00:00Z', user_id: dev.userId }]);
      const notice = await dev.post('/api/v1/notifications/test', { channels: ['in_app'] });
      expect(notice.body.delivered).toEqual([{ channel: 'in_app', to: dev.userId, ok: true }]);
      const storage = { databaseUrl: first.config.storage.databaseUrl, redisPrefix: first.config.storage.redisPrefix, redisUrl: first.config.storage.redisUrl };
      await first.close({ keepData: true });

      const second = await startTestBackend({ dataDir, config: { storage } });
      try {
        const orgs = await second.kernel.services.orgService.list();
        expect(orgs.map((o: any) => o.slug).sort()).toEqual(['kept-org', 'test-org']);
        // the dev logs in again with the same password, and their notification is still there
        const login = await second.client.post('/api/v1/auth/login', { email: 'dev@kept-org.local', password: 'Test-password-0rrery!' });
        expect(login.status).toBe(200);
        const me = await second.kernel.app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${login.body.access_token}` } });
        expect(JSON.parse(me.body).departments.map((d: any) => d.name)).toEqual(['Research']);
        const list = await second.kernel.app.inject({ url: '/api/v1/notifications', headers: { authorization: `Bearer ${login.body.access_token}` } });
        expect(JSON.parse(list.body).unread).toBe(1);
        // the hook token made before the restart still authenticates
        const tokens = await second.kernel.services.tokens.findApiToken(token);
        expect(tokens?.kind).toBe('hook');
        const rows = await second.kernel.services.analytics.forOrg(other.id).query('SELECT count() AS n FROM {db}.events WHERE org_id = {org_id:String}');
        expect(Number((rows[0] as any).n)).toBe(1);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
