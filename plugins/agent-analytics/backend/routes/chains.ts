/**
 * Chains: invocations that call other agents form trees through
 * `parent_invocation_id`. ClickHouse has no recursive queries, so the nodes of
 * the range's chains are read once (bounded) and the trees are built here.
 */
import type { PluginEnv, TenantContext } from '@orrery/plugin-sdk';
import type { Filters } from '../query.ts';
import { arrayOf, objectOf, parseCommon, querySchema, rangeSchema, rangeView, type CommonQuery } from '../params.ts';
import { PERMISSION, REMEMBER } from './overview.ts';

/** At most this many chain invocations are read; above it the newest are analysed and `sampled` is true. */
export const MAX_NODES = 20_000;

interface Node {
  invocation_id: string;
  parent_invocation_id: string;
  agent_name: string;
  status: string;
  start: number;
  execution_time_ms: number;
  department_id: string;
  user_id: string;
  model_used: string;
  agent_version: string;
  prompt_template_version: string;
  children: Node[];
  depth: number;
}

export interface ChainTree {
  root: Node;
  depth: number;
  nodes: number;
  maxFanOut: number;
  /** wall time from the root's start to the last end in the tree */
  latencyMs: number;
  /** agents on the critical path: from the root, always the child that ends last */
  criticalPath: string[];
  failed: boolean;
  /** the shallowest failing invocation (earliest among equals) */
  firstFailure: Node | null;
}

/** Builds trees from chain nodes; a node whose parent is not in the set is a root. Pure, so tests can use it. */
export function buildTrees(rows: Omit<Node, 'children' | 'depth'>[]): ChainTree[] {
  // nodes are built field by field: a spread copy of each row made V8 keep them as slow
  // dictionary objects, and walking thousands of them was most of the route's time
  const byId = new Map<string, Node>();
  for (const r of rows) byId.set(r.invocation_id, toNode(r));
  const roots: Node[] = [];
  for (const n of byId.values()) {
    const parent = n.parent_invocation_id ? byId.get(n.parent_invocation_id) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  return roots
    .filter((r) => r.children.length > 0)
    .map((root) => {
      let depth = 1;
      let nodes = 0;
      let maxFanOut = 0;
      let lastEnd = root.start + root.execution_time_ms;
      let firstFailure: Node | null = null;
      const seen = new Set<Node>();
      const stack: Node[] = [root];
      root.depth = 1;
      while (stack.length) {
        const n = stack.pop()!;
        if (seen.has(n)) continue; // a malformed cycle must not loop forever
        seen.add(n);
        nodes++;
        depth = Math.max(depth, n.depth);
        maxFanOut = Math.max(maxFanOut, n.children.length);
        lastEnd = Math.max(lastEnd, n.start + n.execution_time_ms);
        if (n.status === 'failure' && (!firstFailure || n.depth < firstFailure.depth || (n.depth === firstFailure.depth && n.start < firstFailure.start))) firstFailure = n;
        for (const c of n.children) {
          c.depth = n.depth + 1;
          stack.push(c);
        }
      }
      const criticalPath: string[] = [];
      const onPath = new Set<Node>();
      for (let n: Node | undefined = root; n && !onPath.has(n); n = latestEnding(n.children)) {
        onPath.add(n);
        criticalPath.push(n.agent_name);
      }
      return { root, depth, nodes, maxFanOut, latencyMs: lastEnd - root.start, criticalPath, failed: firstFailure !== null, firstFailure };
    });
}

function toNode(r: Omit<Node, 'children' | 'depth'>): Node {
  return {
    invocation_id: r.invocation_id,
    parent_invocation_id: r.parent_invocation_id,
    agent_name: r.agent_name,
    status: r.status,
    start: Number(r.start),
    execution_time_ms: Number(r.execution_time_ms),
    department_id: r.department_id,
    user_id: r.user_id,
    model_used: r.model_used,
    agent_version: r.agent_version,
    prompt_template_version: r.prompt_template_version,
    children: [],
    depth: 1,
  };
}

const endOf = (n: Node) => n.start + n.execution_time_ms;
const latestEnding = (nodes: Node[]) => nodes.reduce<Node | undefined>((best, n) => (!best || endOf(n) > endOf(best) ? n : best), undefined);

/** Nearest-rank quantile of a sorted list (exact over the trees analysed). */
const nearestRank = (sorted: number[], q: number) => (sorted.length ? sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]! : null);

function matches(root: Node, filters: Filters, failed: boolean) {
  if (filters.status && (filters.status === 'failure') !== failed) return false;
  const keys = ['department_id', 'user_id', 'model_used', 'agent_version', 'prompt_template_version'] as const;
  return keys.every((k) => filters[k] === undefined || root[k] === filters[k]);
}

/** The invocations of the range that have a parent or a child there. */
function chainScope(from: Date, to: Date) {
  const params = { from: from.getTime(), to: to.getTime() };
  const inRange = `org_id = {org_id:String} AND event_type = 'agent_invocation'
    AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
  const linked = `${inRange} AND (parent_invocation_id != ''
       OR invocation_id IN (SELECT parent_invocation_id FROM {db}.events WHERE ${inRange} AND parent_invocation_id != ''))`;
  return { params, linked };
}

interface ToolUse {
  invocation_id: string;
  agent_name: string;
  tool_name: string;
  calls: number;
  failures: number;
}

/**
 * The chain nodes and the tool calls each made, in one query: the tool calls of the range
 * are counted per invocation and tool and joined to the nodes, rather than sent back as a
 * second query with thousands of invocation ids as a parameter (which cost as much again).
 */
async function chainNodes(ctx: TenantContext, from: Date, to: Date) {
  const { params, linked } = chainScope(from, to);
  const rows = await ctx.analytics.query<Omit<Node, 'children' | 'depth' | 'start'> & { start: string; tools: Array<[string, string | number, string | number]> }>(
    `SELECT n.*, t.tools AS tools FROM (
       SELECT invocation_id, parent_invocation_id, agent_name, status, toUnixTimestamp64Milli(timestamp) AS start, execution_time_ms,
              department_id, user_id, model_used, agent_version, prompt_template_version
       FROM {db}.events
       WHERE ${linked}
       ORDER BY timestamp DESC
       LIMIT ${MAX_NODES + 1}) AS n
     LEFT JOIN (
       SELECT invocation_id, groupArray((tool_name, calls, failures)) AS tools FROM (
         SELECT invocation_id, tool_name, count() AS calls, countIf(status = 'failure') AS failures
         FROM {db}.events
         WHERE org_id = {org_id:String} AND event_type = 'tool_call' AND invocation_id != ''
           AND timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') - INTERVAL 1 DAY
         GROUP BY invocation_id, tool_name)
       GROUP BY invocation_id) AS t ON t.invocation_id = n.invocation_id
     ORDER BY n.start DESC
     SETTINGS join_use_nulls = 0`,
    params,
  );
  const kept = rows.slice(0, MAX_NODES);
  const toolUses: ToolUse[] = [];
  for (const r of kept) for (const [tool_name, calls, failures] of r.tools ?? []) toolUses.push({ invocation_id: r.invocation_id, agent_name: r.agent_name, tool_name, calls: Number(calls), failures: Number(failures) });
  return {
    sampled: rows.length > MAX_NODES,
    nodes: kept as unknown as Omit<Node, 'children' | 'depth'>[], // start and execution_time_ms become numbers in toNode
    toolUses,
  };
}

export async function chainAnalysis(ctx: TenantContext, from: Date, to: Date, filters: Filters, agent?: string) {
  const { sampled, nodes, toolUses } = await chainNodes(ctx, from, to);
  const trees = buildTrees(nodes).filter((t) => matches(t.root, filters, t.failed) && (!agent || treeHas(t.root, agent)));

  const latencies = trees.map((t) => t.latencyMs).sort((a, b) => a - b);
  const depthCounts = new Map<number, number>();
  const paths = new Map<string, { path: string[]; trees: number; failed: number; latencies: number[] }>();
  const failurePoints = new Map<string, { agent_name: string; depth: number; chains: number }>();
  const edges = new Map<string, { source: string; source_depth: number; target: string; kind: 'agent' | 'tool'; count: number; failures: number }>();
  for (const t of trees) {
    depthCounts.set(t.depth, (depthCounts.get(t.depth) ?? 0) + 1);
    const key = t.criticalPath.join(' → ');
    const p = paths.get(key) ?? { path: t.criticalPath, trees: 0, failed: 0, latencies: [] };
    p.trees++;
    if (t.failed) p.failed++;
    p.latencies.push(t.latencyMs);
    paths.set(key, p);
    if (t.firstFailure) {
      const k = `${t.firstFailure.agent_name}@${t.firstFailure.depth}`;
      const f = failurePoints.get(k) ?? { agent_name: t.firstFailure.agent_name, depth: t.firstFailure.depth, chains: 0 };
      f.chains++;
      failurePoints.set(k, f);
    }
    walk(t.root, (parent, child) => {
      const k = `${parent.agent_name}@${parent.depth}>${child.agent_name}`;
      const e = edges.get(k) ?? { source: parent.agent_name, source_depth: parent.depth, target: child.agent_name, kind: 'agent' as const, count: 0, failures: 0 };
      e.count++;
      if (child.status === 'failure') e.failures++;
      edges.set(k, e);
    });
  }
  const toolEdges = chainToolEdges(trees, toolUses);
  const failedTrees = trees.filter((t) => t.failed).length;
  const fanOuts = trees.map((t) => t.maxFanOut);
  return {
    sampled,
    chains: trees.length,
    failed_chains: failedTrees,
    depth: {
      max: Math.max(0, ...depthCounts.keys()),
      mean: trees.length ? trees.reduce((a, t) => a + t.depth, 0) / trees.length : null,
      distribution: [...depthCounts.entries()].sort((a, b) => a[0] - b[0]).map(([depth, chains]) => ({ depth, chains })),
    },
    fan_out: { max: Math.max(0, ...fanOuts), mean: fanOuts.length ? fanOuts.reduce((a, b) => a + b, 0) / fanOuts.length : null },
    critical_path: { p50_ms: nearestRank(latencies, 0.5), p95_ms: nearestRank(latencies, 0.95), max_ms: latencies.at(-1) ?? null },
    top_paths: [...paths.values()]
      .sort((a, b) => b.trees - a.trees)
      .slice(0, 20)
      .map((p) => ({ path: p.path, chains: p.trees, failed: p.failed, p95_ms: nearestRank(p.latencies.sort((a, b) => a - b), 0.95) })),
    failure_points: [...failurePoints.values()]
      .sort((a, b) => b.chains - a.chains)
      .map((f) => ({ ...f, share: failedTrees ? f.chains / failedTrees : 0 })),
    edges: [...edges.values(), ...toolEdges].sort((a, b) => b.count - a.count),
  };
}

function walk(n: Node, visit: (parent: Node, child: Node) => void, seen = new Set<Node>()) {
  if (seen.has(n)) return;
  seen.add(n);
  for (const c of n.children) {
    visit(n, c);
    walk(c, visit, seen);
  }
}

function treeHas(n: Node, agent: string, seen = new Set<Node>()): boolean {
  if (seen.has(n)) return false;
  seen.add(n);
  return n.agent_name === agent || n.children.some((c) => treeHas(c, agent, seen));
}

/** Tool calls made by the chains' invocations, as Sankey edges agent → tool. */
function chainToolEdges(trees: ChainTree[], uses: ToolUse[]) {
  const depthOf = new Map<string, number>();
  for (const t of trees) {
    depthOf.set(t.root.invocation_id, 1);
    walk(t.root, (_p, c) => depthOf.set(c.invocation_id, c.depth));
  }
  const edges = new Map<string, { source: string; source_depth: number; target: string; kind: 'tool'; count: number; failures: number }>();
  for (const u of uses) {
    const depth = depthOf.get(u.invocation_id);
    if (depth === undefined) continue; // an invocation of a tree the filters left out, or beyond the sample
    const k = `${u.agent_name}@${depth}>${u.tool_name}`;
    const e = edges.get(k) ?? { source: u.agent_name, source_depth: depth, target: u.tool_name, kind: 'tool' as const, count: 0, failures: 0 };
    e.count += u.calls;
    e.failures += u.failures;
    edges.set(k, e);
  }
  return [...edges.values()];
}

export function registerChainRoutes(env: PluginEnv) {
  env.route<CommonQuery & { agent?: string }>({
    method: 'GET',
    path: '/chains',
    permission: PERMISSION,
    cache: REMEMBER,
    summary: 'Agent chains (parent → child invocation trees): depth, fan-out, critical-path latency, where chains fail, and Sankey edges',
    description:
      'Trees are built from the invocations of the range that have a parent or a child (raw events); an invocation whose parent lies ' +
      `before \`from\` starts its own tree. At most ${MAX_NODES} invocations are read (the newest; \`sampled\` says so). ` +
      'A chain\'s latency is the wall time from its root\'s start to the last end in the tree; the critical path follows, from the root, ' +
      'the child that ends last. Latency quantiles here are exact nearest-rank over the chains analysed. `failure_points` names, for each failed ' +
      'chain, the shallowest failing invocation. Filters apply to each chain\'s root (`status` to the chain: failure = any invocation failed); ' +
      '`agent` keeps chains in which that agent appears. `edges` are parent agent → child agent and agent → tool (with the parent\'s depth, ' +
      'so a Sankey stays acyclic).',
    schema: {
      querystring: querySchema({ agent: { type: 'string', minLength: 1, maxLength: 200 } }),
      response: {
        200: objectOf({
          range: rangeSchema,
          sampled: { type: 'boolean' },
          chains: { type: 'integer' },
          failed_chains: { type: 'integer' },
          depth: objectOf({ max: { type: 'integer' }, mean: { type: ['number', 'null'] }, distribution: arrayOf({ depth: { type: 'integer' }, chains: { type: 'integer' } }) }),
          fan_out: objectOf({ max: { type: 'integer' }, mean: { type: ['number', 'null'] } }),
          critical_path: objectOf({ p50_ms: { type: ['number', 'null'] }, p95_ms: { type: ['number', 'null'] }, max_ms: { type: ['number', 'null'] } }),
          top_paths: arrayOf({ path: { type: 'array', items: { type: 'string' } }, chains: { type: 'integer' }, failed: { type: 'integer' }, p95_ms: { type: ['number', 'null'] } }),
          failure_points: arrayOf({ agent_name: { type: 'string' }, depth: { type: 'integer' }, chains: { type: 'integer' }, share: { type: 'number' } }),
          edges: arrayOf({
            source: { type: 'string' },
            source_depth: { type: 'integer' },
            target: { type: 'string' },
            kind: { type: 'string', enum: ['agent', 'tool'] },
            count: { type: 'integer' },
            failures: { type: 'integer' },
          }),
        }),
      },
    },
    async handler(req, ctx) {
      const { range, filters } = parseCommon(req.query);
      return { range: rangeView(range), ...(await chainAnalysis(ctx, range.from, range.to, filters, req.query.agent)) };
    },
  });
}
