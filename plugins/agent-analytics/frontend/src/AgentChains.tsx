import { defineWidget, SankeyChart, Stat, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { LIVE } from './api.ts';
import { agentChains } from '../../widgets.ts';

interface Options { agent?: string; showTools: boolean }
interface Chains {
  chains: number;
  failed_chains: number;
  sampled: boolean;
  depth: { max: number };
  fan_out: { max: number };
  critical_path: { p95_ms: number | null };
  failure_points: Array<{ agent_name: string; depth: number; chains: number; share: number }>;
  edges: Array<{ source: string; source_depth: number; target: string; kind: 'agent' | 'tool'; count: number }>;
}

/**
 * The chains of at most the last 3 days of the dashboard's range are analysed.
 * The route reads every chain invocation of its range from raw events and
 * builds the trees in the server, so its cost grows with the range: on the
 * demo month the default dashboard's week took 40 ms of server time alone,
 * 3 days 26 ms, and every widget of a page load shares the same cores. The
 * structure the Sankey shows (which agent calls which, and which tools) was
 * the same. The stats say when the range was shortened.
 */
const CHAIN_WINDOW_MS = 3 * 86_400_000;

function chainWindow(range: { from: string; to: string }): { from: string } | null {
  const from = Date.parse(range.from);
  const to = Date.parse(range.to);
  if (!Number.isFinite(from) || !Number.isFinite(to) || to - from <= CHAIN_WINDOW_MS) return null;
  return { from: new Date(to - CHAIN_WINDOW_MS).toISOString() };
}

/** Sankey of parent → child agents (and tools). Nodes carry their depth so a planner calling a planner stays acyclic. */
function AgentChains({ context, options }: WidgetProps<Options>) {
  const last = chainWindow(context.timeRange);
  const q = useWidgetData<Chains>('/chains', { agent: options.agent || undefined, ...last }, { ...LIVE, isEmpty: (d) => d.chains === 0 });
  const scope = last ? ', last 3 days' : '';
  return (
    <WidgetState query={q} emptyText={last ? 'No agent called another agent in the last 3 days of this time range.' : 'No agent called another agent in this time range.'}>
      {(d) => {
        const links = d.edges
          .filter((e) => options.showTools || e.kind === 'agent')
          .map((e) => ({
            source: `${e.source} ·${e.source_depth}`,
            target: e.kind === 'agent' ? `${e.target} ·${e.source_depth + 1}` : `⚙ ${e.target}`,
            value: e.count,
          }));
        const worst = d.failure_points[0];
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <div style={{ display: 'flex', gap: 20, flexWrap: 'wrap' }}>
              <Stat label={d.sampled ? `Chains (sampled${scope})` : last ? 'Chains (last 3 days)' : 'Chains'} value={d.chains} format="compact" />
              <Stat label="Failed" value={d.chains ? d.failed_chains / d.chains : null} format="percent" />
              <Stat label="Max depth" value={d.depth.max} />
              <Stat label="Max fan-out" value={d.fan_out.max} />
              <Stat label="Critical path p95" value={d.critical_path.p95_ms} format="duration" />
            </div>
            {worst && <p style={{ margin: 0, fontSize: '.85rem' }}>Chains fail most often at {worst.agent_name} (depth {worst.depth}): {Math.round(worst.share * 100)}% of failed chains.</p>}
            <div style={{ flex: 1, minHeight: 160 }}>
              <SankeyChart title="Agent chains" links={links} />
            </div>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: AgentChains, declaration: agentChains });
