import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it, expect } from 'vitest';
import { loadConfig, substitute, ConfigError } from '@orrery/config';

const repo = join(import.meta.dirname, '..', '..');

function withFile(yaml: string, fn: (file: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'orrery-config-'));
  const file = join(dir, 'app-config.yaml');
  writeFileSync(file, yaml);
  try {
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('config', () => {
  it('fills defaults and substitutes ${VAR} and ${VAR:-default} with their types', () => {
    withFile('server:\n  port: ${PORT:-7007}\n  host: ${HOST}\nstorage:\n  dataDir: ${DIR:-./data}/x\n', (file) => {
      const c = loadConfig({ file, env: { PORT: '9000', DIR: '/srv' } });
      expect(c.server.port).toBe(9000);
      expect(c.server.host).toBe('127.0.0.1');
      expect(c.storage.dataDir).toBe('/srv/x');
      expect(c.bootstrap.org).toBe('demo');
      expect(c.ingestion.batchSize).toBe(5000);
    });
  });

  it('lets ORRERY__SECTION__KEY override any key', () => {
    withFile('server:\n  port: 7007\n', (file) => {
      const c = loadConfig({ file, env: { ORRERY__STORAGE__REDIS_PREFIX: 'x:', ORRERY__SERVER__PORT: '7100' } });
      expect(c.storage.redisPrefix).toBe('x:');
      expect(c.server.port).toBe(7100);
    });
  });

  it('stops with one line naming the key and what was expected', () => {
    withFile('server:\n  port: ${PORT}\n', (file) => {
      expect(() => loadConfig({ file, env: { PORT: 'abc' } })).toThrow(new ConfigError('config key server.port: must be integer (got "abc")'));
    });
    withFile('server:\n  prot: 1\n', (file) => {
      expect(() => loadConfig({ file, env: {} })).toThrow('config key server.prot: is not a known setting');
    });
    withFile('bootstrap:\n  org: "Not A Slug"\n', (file) => {
      expect(() => loadConfig({ file, env: {} })).toThrow(/config key bootstrap\.org: must match pattern/);
    });
  });

  it('substitutes inside nested values and arrays', () => {
    expect(substitute({ a: ['${X}', 'p-${X}-q'], b: { c: '${Y:-no}' } }, { X: 'v' })).toEqual({ a: ['v', 'p-v-q'], b: { c: 'no' } });
  });

  it('npm start refuses a bad value with that one line and no stack trace', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'core/src/main.ts'], { cwd: repo, env: { ...process.env, PORT: 'not-a-port' }, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => !l.includes('nodedir'))).toEqual(['orrery: cannot start: config key server.port: must be integer (got "not-a-port")']);
  });
});
