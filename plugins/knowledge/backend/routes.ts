/** The plugin's HTTP routes under /api/v1/knowledge. Definitions: README.md and API.md. */
import { checkBuckets, parseTimeRange, bucketExpr, type Granularity, type PluginEnv, type TenantContext } from '@orrery/plugin-sdk';
import * as q from './queries.ts';
import { individualScope, loadSettings, seesPerson, requireIndividuals, saveSettings, settingsSchema, type KnowledgeSettings } from './privacy.ts';
import { namesFor, namesSchema } from './names.ts';
import { INVOCATION_HOURS } from './invocations.ts';
import { ARTIFACT_EVENTS } from './artifacts.ts';
import { arr, expertsResponse, flowResponse, limit, obj, query, str, summaryResponse } from './params.ts';

export const PERMISSION = 'knowledge.read';
export const ADMIN_PERMISSION = 'knowledge.admin';
const DEFAULT_DAYS = 30;
const CACHE = { maxAgeSeconds: 60 };

type Range = { from?: string; to?: string; tz?: string };
const range = (x: Range) => parseTimeRange(x, DEFAULT_DAYS);

/** Figures over fewer people than the minimum group size are withheld from callers who may not see individuals. */
async function groupRule(ctx: TenantContext, s: KnowledgeSettings): Promise<number> {
  return (await individualScope(ctx, s)) ? 0 : s.privacy.minGroupSize;
}

/** Runs `fn` with the watermarks of both rollups; no fold publishes in either while it runs. */
const readFolded = <T>(ctx: TenantContext, fn: (wm: q.Watermarks) => Promise<T>) =>
  ctx.rollups.read(INVOCATION_HOURS.name, (invocations) => ctx.rollups.read(ARTIFACT_EVENTS.name, (artifacts) => fn({ invocations, artifacts })));

const int = { type: 'integer' };
const rate = { type: ['number', 'null'] };
const text = { type: 'string' };

export function registerRoutes(env: PluginEnv) {
  env.route<Range & { department_id?: string }>({
    method: 'GET',
    path: '/summary',
    permission: PERMISSION,
    summary: 'Artifacts created, annotated and reused in [from, to), and the reuse rates of the artifacts created then',
    description:
      "`created`, `annotated`, `reused` count the events of each action in [from, to) (of the department's events when `department_id` is given). " +
      "An artifact's author and department are those of its first `created` event. `reuse_rate`: of the artifacts created in [from, to) " +
      '(by the department when given), the share reused at least once, at any later time, by someone other than the author; ' +
      '`cross_department_reuse_rate`: the share reused by someone else whose reuse event carries another department. Null when no artifact was created. ' +
      'With `department_id`, a caller who may not see individuals gets `suppressed: true` when fewer people than the minimum group size had knowledge events there.',
    schema: { querystring: query({ department_id: str('only this department') }), response: { 200: summaryResponse } },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      const s = await loadSettings(ctx);
      const out = await q.summary(ctx.analytics, r, req.query.department_id);
      const min = await groupRule(ctx, s);
      if (req.query.department_id && out.users < min) {
        return {
          created: null, annotated: null, reused: null, reuse_rate: null, cross_department_reuse_rate: null,
          users: null, artifacts_created: null, reused_by_others: null, reused_cross_department: null,
          suppressed: true, reason: `fewer than ${min} people`,
        };
      }
      return { ...out, suppressed: false };
    },
  });

  env.route<Range & { agent_name?: string; artifact_type?: string; department_id?: string; limit: number }>({
    method: 'GET',
    path: '/experts',
    permission: PERMISSION,
    summary: 'Subject-matter experts: authors whose artifacts others reused in [from, to), most distinct reusers first',
    description:
      "Per author, over the reuse events in [from, to) by others of that author's artifacts: `reusers` distinct users, `reuses` events, " +
      "`artifacts` distinct artifacts reused, `departments_reached` distinct departments of those reuse events, and `top_artifacts` (the evidence). " +
      "`agent_name` / `artifact_type` select artifacts by their `created` event. Individual-level: follows the knowledge privacy settings " +
      '(403 for callers who may not see individuals; Managers see authors of the departments they manage; restricted departments stay hidden).',
    schema: {
      querystring: query({ agent_name: str('only artifacts created with this agent'), artifact_type: str('only artifacts of this type'), department_id: str("only authors' artifacts created in this department"), ...limit(20, 500) }),
      response: { 200: expertsResponse },
    },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      const scope = await requireIndividuals(ctx, await loadSettings(ctx));
      const experts = await q.experts(ctx.analytics, r, { agentName: req.query.agent_name, artifactType: req.query.artifact_type, departmentId: req.query.department_id, scope, limit: req.query.limit });
      return { experts, names: await namesFor(ctx, [], experts.map((e) => e.user_id)) };
    },
  });

  env.route<Range & { department_id?: string }>({
    method: 'GET',
    path: '/flow',
    permission: PERMISSION,
    summary: "Knowledge flow: reuses in [from, to) by others, from the author's department to the reuse event's department",
    description:
      "`links` are ordered by reuses (most first) and include a department's reuse of its own work (from = to). " +
      'For callers who may not see individuals, links with fewer distinct reusers than the minimum group size are left out and counted in `suppressed_links`.',
    schema: { querystring: query({ department_id: str('only links from or to this department') }), response: { 200: flowResponse } },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      const min = await groupRule(ctx, await loadSettings(ctx));
      const links = await q.flow(ctx.analytics, r, req.query.department_id);
      const kept = links.filter((l) => l.reusers >= min);
      const names = await namesFor(ctx, kept.flatMap((l) => [l.from_department_id, l.to_department_id]));
      return { links: kept, suppressed_links: links.length - kept.length, min_group_size: min, names };
    },
  });

  env.route<Range & { granularity: Granularity; by: q.TimelineBy; department_id?: string }>({
    method: 'GET',
    path: '/timeline',
    permission: PERMISSION,
    summary: 'Artifacts created, annotated and reused per bucket, optionally per department, agent or artifact type of the event',
    description: 'For callers who may not see individuals, rows over fewer distinct people than the minimum group size are left out when grouped by department.',
    schema: {
      querystring: query({
        granularity: { type: 'string', enum: ['hour', 'day', 'week', 'month'], default: 'day' },
        by: { type: 'string', enum: ['none', 'department', 'agent', 'artifact_type'], default: 'none' },
        department_id: str("only this department's events"),
      }),
      response: { 200: obj({ series: arr({ bucket: text, group: text, created: int, annotated: int, reused: int, users: int }), suppressed_rows: int, names: namesSchema }) },
    },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      checkBuckets(r, req.query.granularity);
      const min = req.query.by === 'department' ? await groupRule(ctx, await loadSettings(ctx)) : 0;
      const rows = await q.timeline(ctx.analytics, r, bucketExpr('timestamp', req.query.granularity), req.query.by, req.query.department_id);
      const kept = rows.filter((x) => x.users >= min);
      const names = await namesFor(ctx, req.query.by === 'department' ? kept.map((x) => x.group) : []);
      return { series: kept, suppressed_rows: rows.length - kept.length, names };
    },
  });

  env.route<Range & { sort: q.ValueSort; limit: number; agent_name?: string; artifact_type?: string }>({
    method: 'GET',
    path: '/artifacts/top',
    permission: PERMISSION,
    summary: 'The most valuable artifacts over the reuse events in [from, to) by others',
    description:
      '`reusers` distinct reusers, `departments_reached` distinct departments of the reuse events, `reuses` events, and `successful_reuses`: reuse events ' +
      'followed, after the reuse and up to one hour later, by a successful `agent_invocation` of the reuser. `author_id` is null for callers who may not see individuals ' +
      'or when the author is outside their scope.',
    schema: {
      querystring: query({
        sort: { type: 'string', enum: ['reusers', 'departments', 'successful_reuses', 'reuses'], default: 'reusers' },
        agent_name: str('only artifacts created with this agent'),
        artifact_type: str('only artifacts of this type'),
        ...limit(20, 500),
      }),
      response: {
        200: obj({
          artifacts: arr({
            artifact_id: text, author_id: { type: ['string', 'null'] }, department_id: text, artifact_type: text, agent_name: text,
            reusers: int, departments_reached: int, reuses: int, successful_reuses: int,
          }),
          names: namesSchema,
        }),
      },
    },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      const scope = await individualScope(ctx, await loadSettings(ctx));
      const rows = await readFolded(ctx, (wm) => q.topArtifacts(ctx.analytics, r, req.query.sort, req.query.limit, { agentName: req.query.agent_name, artifactType: req.query.artifact_type }, wm));
      const artifacts = rows.map((x) => ({ ...x, author_id: seesPerson(scope, x.author_id) ? x.author_id : null }));
      const names = await namesFor(ctx, artifacts.map((x) => x.department_id), artifacts.flatMap((x) => (x.author_id ? [x.author_id] : [])));
      return { artifacts, names };
    },
  });

  env.route<Range & { limit: number }>({
    method: 'GET',
    path: '/network',
    permission: PERMISSION,
    summary: 'The expertise network: people linked by reuse of each other\'s artifacts in [from, to)',
    description: 'Edges author → reuser with reuse events and distinct artifacts. Individual-level: same rules as `/experts`; both ends must be in the caller\'s scope.',
    schema: {
      querystring: query(limit(500, 5000)),
      response: {
        200: obj({
          edges: arr({ author_id: text, reuser_id: text, author_department_id: text, reuser_department_id: text, reuses: int, artifacts: int }),
          nodes: arr({ user_id: text, authored_reuses: int, reuses_made: int }),
          names: namesSchema,
        }),
      },
    },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      const scope = await requireIndividuals(ctx, await loadSettings(ctx));
      const edges = await q.network(ctx.analytics, r, req.query.limit, scope);
      const nodes = new Map<string, { user_id: string; authored_reuses: number; reuses_made: number }>();
      const node = (id: string) => nodes.get(id) ?? nodes.set(id, { user_id: id, authored_reuses: 0, reuses_made: 0 }).get(id)!;
      for (const e of edges) {
        node(e.author_id).authored_reuses += e.reuses;
        node(e.reuser_id).reuses_made += e.reuses;
      }
      const names = await namesFor(ctx, edges.flatMap((e) => [e.author_department_id, e.reuser_department_id]), nodes.keys());
      return { edges, names, nodes: [...nodes.values()].sort((a, b) => b.authored_reuses - a.authored_reuses || a.user_id.localeCompare(b.user_id)) };
    },
  });

  env.route<Range & { weeks: number }>({
    method: 'GET',
    path: '/transfer',
    permission: PERMISSION,
    summary: 'Transfer effectiveness: reusers\' agent success rate in the weeks after their first reuse of a department\'s work against the weeks before',
    description:
      'Per source department: the people (outside it) whose first reuse of its work (reuse by someone other than the author, on an event of another department) ' +
      'falls in [from, to); their `agent_invocation` events in the `weeks` before that first reuse and the `weeks` from it on. `reusers` is the sample size. ' +
      'For callers who may not see individuals, departments with fewer reusers than the minimum group size are left out.',
    schema: {
      querystring: query({ weeks: { type: 'integer', minimum: 1, maximum: 26, default: 4 } }),
      response: {
        200: obj({
          departments: arr({
            from_department_id: text, reusers: int, reusers_with_both: int, invocations_before: int, invocations_after: int,
            success_rate_before: rate, success_rate_after: rate, change: rate,
          }),
          suppressed_departments: int,
          names: namesSchema,
        }),
      },
    },
    cache: CACHE,
    async handler(req, ctx) {
      const r = range(req.query);
      const min = await groupRule(ctx, await loadSettings(ctx));
      const rows = await readFolded(ctx, (wm) => q.transfer(ctx.analytics, r, req.query.weeks, wm));
      const kept = rows.filter((x) => x.reusers >= min);
      return { departments: kept, suppressed_departments: rows.length - kept.length, names: await namesFor(ctx, kept.map((x) => x.from_department_id)) };
    },
  });

  const settingsResponse = obj({
    privacy: obj({ individualAccess: { type: 'string' }, minGroupSize: int }),
  });
  env.route({
    method: 'GET',
    path: '/settings',
    permission: ADMIN_PERMISSION,
    summary: 'The knowledge privacy settings of the org',
    schema: { response: { 200: settingsResponse } },
    async handler(_req, ctx) {
      return loadSettings(ctx);
    },
  });
  env.route<unknown, unknown, Partial<KnowledgeSettings>>({
    method: 'PUT',
    path: '/settings',
    permission: ADMIN_PERMISSION,
    summary: 'Change the knowledge privacy settings (merged over the current ones)',
    schema: { body: settingsSchema, response: { 200: settingsResponse } },
    async handler(req, ctx) {
      return saveSettings(ctx, req.body);
    },
  });
}
