import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { Validator } from '@seriousme/openapi-schema-validator';
import SwaggerParser from '@apidevtools/swagger-parser';
import openapiTS, { astToString } from 'openapi-typescript';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';

/**
 * The served document is what client generators read: it must be valid for independent
 * validators, say who may call each operation and what it answers, and produce a typed client
 * that compiles.
 */
describe('the OpenAPI document', () => {
  let b: TestBackend;
  let doc: any;
  let pluginIds: string[] = [];
  const operations: Array<{ method: string; path: string; op: any }> = [];
  beforeAll(async () => {
    b = await startTestBackend({ loadPluginFolders: true });
    doc = (await b.client.get('/api/docs/json')).body;
    pluginIds = (await b.client.get('/api/v1/plugins')).body.plugins.map((p: { id: string }) => p.id);
    expect(pluginIds.length).toBeGreaterThan(0);
    for (const [path, item] of Object.entries<any>(doc.paths)) for (const [method, op] of Object.entries<any>(item)) operations.push({ method, path, op });
  }, 120_000);
  afterAll(() => b?.close());

  it('is valid for two independent validators', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    await expect(SwaggerParser.validate(structuredClone(doc))).resolves.toBeTruthy();
  });

  it('states the permission, the success answer and the errors of every operation', () => {
    expect(operations.length).toBeGreaterThan(100);
    for (const { method, path, op } of operations) {
      const name = `${method.toUpperCase()} ${path}`;
      expect(op['x-permission'], name).toEqual(expect.any(String));
      const codes = Object.keys(op.responses);
      expect(codes.some((c) => /^[23]/.test(c)), `${name} has a success answer`).toBe(true);
      expect(codes.some((c) => /^4/.test(c)), `${name} documents its errors`).toBe(true);
      if (op['x-permission'] === 'public') expect(op.security, `${name} needs no token`).toEqual([]);
      else expect(op.security, `${name} uses the document's bearer security`).toBeUndefined();
    }
    for (const p of ['/api/v1/auth/login', '/api/v1/auth/refresh', '/api/v1/events/schemas', '/health', '/version']) {
      const op = doc.paths[p].post ?? doc.paths[p].get;
      expect(op.security, p).toEqual([]);
    }
    expect(doc.paths['/metrics'].get['x-permission']).toBe('operator');
    // every operation, kernel and plugin, declares its own answer schema: the fallback never shows
    for (const plugin of ['user-activity', 'dashboards', 'adoption']) expect(operations.some(({ op }) => (op.tags ?? []).includes(plugin)), `${plugin} is loaded`).toBe(true);
    const fallbacks = operations.filter(({ op }) => JSON.stringify(op.responses).includes('is not declared by this route'));
    expect(fallbacks.map(({ method, path }) => `${method} ${path}`)).toEqual([]);
  });

  it('generates a typed client that type-checks', async () => {
    const source = astToString(await openapiTS(structuredClone(doc)));
    expect(source).toContain('"/api/v1/events"');
    const dir = mkdtempSync(join(tmpdir(), 'orrery-openapi-'));
    try {
      const file = join(dir, 'schema.ts'); // .ts, not .d.ts, so that skipLibCheck still checks it
      writeFileSync(file, source);
      // a caller written against the generated types: a wrong path or body would not compile
      const use = join(dir, 'use.ts');
      writeFileSync(
        use,
        [
          "import type { paths } from './schema.js';",
          "type Login = paths['/api/v1/auth/login']['post']['requestBody'];",
          "type Agents = paths['/api/v1/agents']['get']['responses'][200]['content']['application/json'];",
          "export const body: NonNullable<Login>['content']['application/json'] = { email: 'a@b.c', password: 'x' };",
          "export const first = (a: Agents) => a.agents?.[0]?.p95_ms;",
          "type Ranking = paths['/api/v1/users/engagement']['get']['responses'][200]['content']['application/json'];",
          "export const seen: (r: Ranking) => string | undefined = (r) => r.users[0]?.last_seen;",
          "type Mine = paths['/api/v1/dashboards/mine']['get']['responses'][200]['content']['application/json'];",
          "export const source: (m: Mine) => 'user' | 'department' | 'role' | 'none' = (m) => m.source;",
        ].join('\n'),
      );
      const program = ts.createProgram([file, use], { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
