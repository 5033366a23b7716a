/**
 * `npm run new-plugin <id>`: scaffolds a working plugin — a route, a
 * PostgreSQL migration, a federated widget declared once, a route built on
 * the metrics other plugins offer, and a passing test — in plugins/<id> (or
 * `--dir <folder>`).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export function scaffoldPlugin(id: string, pluginsDir: string): string {
  if (!/^[a-z][a-z0-9-]{1,62}$/.test(id)) throw new Error(`plugin id must be lower-case letters, digits and dashes (got "${id}")`);
  const dir = join(pluginsDir, id);
  if (existsSync(dir)) throw new Error(`${dir} already exists`);
  const remote = id.replace(/-/g, '_');
  const table = `${remote}_notes`;
  const title = id.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => (d ? ' ' : '') + c.toUpperCase());
  const files: Record<string, string> = {
    'package.json': JSON.stringify(
      { name: `@orrery/plugin-${id}`, version: '0.1.0', private: true, type: 'module', description: `${title} plugin`, orrery: { backend: './backend/index.ts' } },
      null,
      2,
    ),
    'widgets.ts': `/**
 * The plugin's widgets, each declared once as plain data: the backend lists them, the
 * widget's defineWidget takes its options version and defaults from here, and the remote
 * build exposes each \`module\` as ./<id>.
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

export const notes = {
  id: 'notes',
  module: './src/Notes.tsx',
  title: '${title} notes',
  description: 'Notes and the event count of the organization',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  topics: ['notes'],
  optionsVersion: 1,
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [notes];
`,
    'backend/index.ts': `import { badRequest, definePlugin, metricSourceRef, need, parseTimeRange, timeRangeQuerySchema } from '@orrery/plugin-sdk';
import { widgets } from '../widgets.ts';

/**
 * ${title}: keeps short notes per organization, counts the org's events and reads
 * the metrics other plugins offer. Everything the plugin offers and needs is
 * declared here; the kernel reads it at start.
 */
export default definePlugin({
  from: import.meta.url,
  id: '${id}',
  version: '0.1.0',
  sdk: '^2.0.0',
  title: '${title}',
  description: 'Notes per organization, and a count of its events',
  routePrefix: '${id}',
  permissions: { '${id}.read': ['Admin', 'Manager', 'Developer'], '${id}.write': ['Admin', 'Manager'] },
  migrations: {
    pg: [
      {
        name: '0001_notes',
        async up(knex, schema) {
          await knex.schema.withSchema(schema).createTable('${table}', (t) => {
            t.increments('id');
            t.string('text', 500).notNullable();
            t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
          });
        },
      },
    ],
  },
  topics: ['notes'],
  frontend: { remoteName: '${remote}', distDir: './frontend/dist', widgets },
  // metrics other plugins offer (agent-analytics, user-activity, adoption…): optional, so the
  // plugin starts without them; \`need(metricSourceRef, '^1.0.0', { from: 'agent-analytics' })\`
  // would make that one provider required (and the routes answer 424 where it is off)
  needs: [need(metricSourceRef, '^1.0.0', { optional: true })],
  register(env) {
    env.route<{ from?: string; to?: string }>({
      method: 'GET',
      path: '/metrics',
      permission: '${id}.read',
      summary: 'Every metric other plugins offer this organization, over a time range',
      schema: {
        querystring: { type: 'object', additionalProperties: false, properties: { ...timeRangeQuerySchema } },
        response: {
          200: {
            type: 'object',
            properties: {
              metrics: {
                type: 'array',
                items: { type: 'object', properties: { plugin: { type: 'string' }, name: { type: 'string' }, title: { type: 'string' }, unit: { type: 'string' }, value: { type: ['number', 'null'] } } },
              },
            },
          },
        },
      },
      async handler(req, ctx) {
        const range = parseTimeRange(req.query);
        const metrics = [];
        // each source is the providing plugin's own code, bound to this org and caller
        for (const { plugin, service } of await ctx.services.all(metricSourceRef)) {
          for (const m of service.metrics) metrics.push({ plugin, name: m.name, title: m.title, unit: m.unit, value: await service.read(m.name, { range }) });
        }
        return { metrics };
      },
    });
    env.route({
      method: 'GET',
      path: '/',
      permission: '${id}.read',
      summary: 'Notes of the organization and how many events it has',
      schema: {
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'integer' },
              notes: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' }, text: { type: 'string' }, created_at: { type: 'string' } } } },
            },
          },
        },
      },
      async handler(_req, ctx) {
        // the kernel binds {org_id:String}: a query without it is refused
        const [row] = await ctx.analytics.query<{ n: number }>('SELECT count() AS n FROM {db}.events WHERE org_id = {org_id:String}');
        const notes = await ctx.db.table('${table}').select('id', 'text', 'created_at').orderBy('id', 'desc').limit(50);
        return { events: Number(row?.n ?? 0), notes: notes.map((n: any) => ({ ...n, created_at: new Date(n.created_at).toISOString() })) };
      },
    });
    env.route<unknown, unknown, { text: string }>({
      method: 'POST',
      path: '/',
      permission: '${id}.write',
      summary: 'Add a note',
      schema: { body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: 500 } } } },
      async handler(req, ctx) {
        if (!req.body.text.trim()) throw badRequest('text must not be blank', { field: 'text' });
        const [created] = await ctx.db.table('${table}').insert({ text: req.body.text.trim() }).returning(['id', 'text']);
        await ctx.bus.publish('notes', created);
        return created;
      },
    });
  },
});
`,
    'frontend/rspack.config.mjs': `import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';

export default createRemoteConfig({
  name: '${remote}',
  root: import.meta.dirname,
  // every widget of ../widgets.ts, exposed as ./<id> from its module
  widgets: '../widgets.ts',
});
`,
    'frontend/src/Notes.tsx': `import { defineWidget, useWidgetData, WidgetState, Stat, formatters, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { notes } from '../../widgets.ts';

interface Answer {
  events: number;
  notes: Array<{ id: number; text: string; created_at: string }>;
}

function Notes({ context }: WidgetProps<Record<string, never>>) {
  // \`live\`: a note added anywhere in the org refetches, throttled
  const query = useWidgetData<Answer>('/', {}, { live: ['notes'], isEmpty: (d) => d.events === 0 && d.notes.length === 0 });
  const fmt = formatters(context.locale, context.tz);
  return (
    <WidgetState query={query} emptyText="No notes or events yet: POST /api/v1/${id} to add a note.">
      {(d) => (
        <div>
          <Stat label="Events in this organization" value={d.events} />
          <ul aria-label="Notes">
            {d.notes.map((n) => (
              <li key={n.id}>
                {n.text} <time dateTime={n.created_at}>{fmt.dateTime(n.created_at)}</time>
              </li>
            ))}
          </ul>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Record<string, never>>({ component: Notes, declaration: notes });
`,
    [`test/${id}.test.ts`]: `import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/backend-test-utils';
import plugin from '../backend/index.ts';

describe('${id}', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    // agent-analytics from the repository's plugins, as the metric source the plugin reads
    backend = await startTestBackend({ plugins: [plugin], loadPluginFolders: true, onlyPlugins: ['agent-analytics'] });
  });
  afterAll(() => backend.close());

  it('stores notes per organization and counts its events', async () => {
    await backend.org.insertEvents([{ event_id: 'e1', event_type: 'session', action: 'started', timestamp: new Date().toISOString(), user_id: 'u1' }]);
    const created = await backend.client.post('/api/v1/${id}', { text: 'hello' });
    expect(created.status).toBe(200);
    const res = await backend.client.get('/api/v1/${id}');
    expect(res.body.events).toBe(1);
    expect(res.body.notes.map((n: { text: string }) => n.text)).toEqual(['hello']);

    const other = await backend.createOrg('${id}-other');
    const theirs = await other.client.get('/api/v1/${id}');
    expect(theirs.body).toEqual({ events: 0, notes: [] });
  });

  it('validates input and checks permissions', async () => {
    const bad = await backend.client.post('/api/v1/${id}', { text: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const dev = await backend.org.addUser({ email: 'dev@${id}.local', role: 'Developer' });
    expect((await dev.post('/api/v1/${id}', { text: 'x' })).status).toBe(403);
  });

  it("reads agent-analytics' metrics, as a count of the events sent says", async () => {
    const to = Date.now();
    const statuses = Array.from({ length: 3 + Math.floor(Math.random() * 20) }, () => (Math.random() < 0.3 ? 'failure' : 'success'));
    await backend.org.insertEvents(
      statuses.map((status, i) => ({ event_id: \`inv-\${i}\`, event_type: 'agent_invocation', timestamp: new Date(to - 1000 * (i + 1)).toISOString(), user_id: 'u1', agent_name: 'helper', status, execution_time_ms: 100 })),
    );
    const res = await backend.client.get('/api/v1/${id}/metrics', { from: new Date(to - 3_600_000).toISOString(), to: new Date(to).toISOString() });
    expect(res.status).toBe(200);
    const agents = Object.fromEntries(res.body.metrics.filter((m: { plugin: string }) => m.plugin === 'agent-analytics').map((m: { name: string; value: number }) => [m.name, m.value]));
    expect(agents.invocations).toBe(statuses.length);
    expect(agents.success_rate).toBeCloseTo(statuses.filter((s) => s === 'success').length / statuses.length, 4);
  });
});
`,
    'README.md': `# ${title}

A plugin made with \`npm run new-plugin ${id}\`.

- \`backend/index.ts\` declares it: routes under \`/api/v1/${id}\`, permissions, a PostgreSQL
  migration (one table in each org's schema), a bus topic, one widget, and what it needs
  from other plugins (\`needs\`: the metric sources, read at \`GET /api/v1/${id}/metrics\`).
- \`widgets.ts\` declares the widget once: the backend lists it, the widget reads its
  options version and defaults from it, the remote build exposes its \`module\`.
- \`frontend/\` holds the widget, built as a federated remote by \`npm start\`
  (\`node scripts/build-ui.mjs ${id}\` builds it alone).
- \`test/${id}.test.ts\` runs the real kernel on embedded stores: \`npx vitest run plugins/${id}\`.

Read \`plugins/agent-analytics/README.md\` for a complete plugin.
`,
  };
  for (const [path, content] of Object.entries(files)) {
    const full = join(dir, path);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, content);
  }
  return dir;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const dirFlag = args.indexOf('--dir');
  const pluginsDir = dirFlag >= 0 ? resolve(args[dirFlag + 1]!) : resolve(import.meta.dirname, '..', 'plugins');
  const id = args.find((a, i) => !a.startsWith('--') && (dirFlag < 0 || i !== dirFlag + 1));
  if (!id) {
    console.error('usage: npm run new-plugin <id> [-- --dir <plugins folder>]');
    process.exit(2);
  }
  try {
    const dir = scaffoldPlugin(id, pluginsDir);
    console.log(`created ${dir}\n  test it:   npx vitest run ${relative(process.cwd(), dir)}\n  build UI:  node scripts/build-ui.mjs ${id}\n  then npm start and add the "${id}" widget from the catalogue`);
  } catch (err) {
    console.error(`new-plugin: ${(err as Error).message}`);
    process.exit(1);
  }
}
