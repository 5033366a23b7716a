import { defineWidget, SankeyChart, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { useRange, type FlowLink } from './api.ts';

/**
 * Knowledge flow as a Sankey: the author's department on the left, the reuser's on the
 * right (a department reusing its own work links to itself across the two sides).
 */
function KnowledgeFlow(_props: WidgetProps<Record<string, never>>) {
  const range = useRange();
  const q = useWidgetData<{ links: FlowLink[]; suppressed_links: number; min_group_size: number }>('/flow', range, {
    withContext: false,
    isEmpty: (d) => d.links.length === 0,
  });
  return (
    <WidgetState query={q} emptyText="No artifact was reused by someone other than its author in this time range.">
      {(d) => (
        <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
          <div style={{ flex: 1, minHeight: 160 }}>
            <SankeyChart
              title="Knowledge flow between departments"
              links={d.links.map((l) => ({ source: `${l.from_department_id || 'none'} (author)`, target: `${l.to_department_id || 'none'} (reuser)`, value: l.reuses }))}
            />
          </div>
          {d.suppressed_links > 0 && (
            <p style={{ fontSize: '.8rem', margin: 0 }}>{d.suppressed_links} links with fewer than {d.min_group_size} reusers are withheld.</p>
          )}
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<Record<string, never>>({ component: KnowledgeFlow, defaults: {}, optionsVersion: 1 });
