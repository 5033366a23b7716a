import { defineWidget, Heatmap, SankeyChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { deptName, type FlowLink, type Names } from './api.ts';
import { knowledgeFlow } from '../../widgets.ts';

interface Options { view: 'sankey' | 'matrix' }

/**
 * Knowledge flow as a Sankey (or, by option, a matrix): the author's department on the left, the reuser's on the
 * right (a department reusing its own work links to itself across the two sides).
 */
function KnowledgeFlow({ options }: WidgetProps<Options>) {
  const q = useWidgetData<{ links: FlowLink[]; suppressed_links: number; min_group_size: number; names: Names }>('/flow', {}, {
    isEmpty: (d) => d.links.length === 0,
  });
  return (
    <WidgetState query={q} emptyText="No artifact was reused by someone other than its author in this time range.">
      {(d) => (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
          <div style={{ flex: 1, minHeight: 160 }}>
            {options.view === 'matrix' ? <Matrix links={d.links} names={d.names} /> : (
              <SankeyChart
                title="Knowledge flow between departments"
                links={d.links.map((l) => ({ source: `${deptName(d.names, l.from_department_id)} (author)`, target: `${deptName(d.names, l.to_department_id)} (reuser)`, value: l.reuses }))}
              />
            )}
          </div>
          {d.suppressed_links > 0 && (
            <p style={{ fontSize: '.8rem', margin: 0 }}>{d.suppressed_links} links with fewer than {d.min_group_size} reusers are withheld.</p>
          )}
        </div>
      )}
    </WidgetState>
  );
}

/** Rows: the author's department; columns: the reuser's; cells: reuses. */
function Matrix({ links, names }: { links: FlowLink[]; names: Names }) {
  const from = [...new Set(links.map((l) => l.from_department_id))].sort();
  const to = [...new Set(links.map((l) => l.to_department_id))].sort();
  const z = from.map((f) => to.map((t) => links.find((l) => l.from_department_id === f && l.to_department_id === t)?.reuses ?? null));
  return (
    <Heatmap
      title="Knowledge flow matrix (author department × reuser department)"
      x={to.map((id) => deptName(names, id))}
      y={from.map((id) => deptName(names, id))}
      z={z}
      xKey="reuser department"
      yKey="author department"
    />
  );
}

export default defineWidget<Options>({ component: KnowledgeFlow, declaration: knowledgeFlow });
