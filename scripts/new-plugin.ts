/**
 * `npm run new-plugin <id>`: scaffolds a working plugin — a route, a
 * PostgreSQL migration, a federated widget and a passing test — in
 * plugins/<id> (or `--dir <folder>`).
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
    'backend/index.ts': `import { definePlugin, badRequest } from '@orrery/plugin-sdk';

/**
 * ${title}: keeps short notes per organization and counts the org's events.
 * Everything the plugin offers is declared here; the kernel reads it at start.
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
  frontend: {
    remoteName: '${remote}',
    distDir: './frontend/dist',
    widgets: [
      { id: 'notes', title: '${title} notes', description: 'Notes and the event count of the organization', defaultSize: 'M', roles: ['Admin', 'Manager', 'Developer'], topics: ['notes'] },
    ],
  },
  register(env) {
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
  exposes: { './notes': './src/Notes.tsx' },
});
`,
    'frontend/src/Notes.tsx': `import { defineWidget, useWidgetData, WidgetState, Stat, formatters, type WidgetProps } from '@orrery/plugin-sdk/frontend';

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

export default defineWidget<Record<string, never>>({ component: Notes, defaults: {}, optionsVersion: 1 });
`,
    [`test/${id}.test.ts`]: `import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startTestBackend, type TestBackend } from '@orrery/plugin-sdk/testing';
import plugin from '../backend/index.ts';

describe('${id}', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await startTestBackend({ plugins: [plugin] });
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
});
`,
    'README.md': `# ${title}

A plugin made with \`npm run new-plugin ${id}\`.

- \`backend/index.ts\` declares it: routes under \`/api/v1/${id}\`, permissions, a PostgreSQL
  migration (one table in each org's schema), a bus topic and one widget.
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
