import { BarChart, defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { commandUsage } from '../../widgets.ts';
import type { OverviewAnswer } from '../../answers.ts';

interface Options { limit: number }

function CommandUsage({ options }: WidgetProps<Options>) {
  // one request for the three lists: a dashboard's requests share the server, so
  // three round trips (and four scans) cost the whole page, not just this widget
  const q = useWidgetData<OverviewAnswer>(
    '/commands/overview',
    { limit: options.limit, seq_n: 2, seq_limit: 5, pattern_n: 3, min_sessions: 3, pattern_limit: 5 },
    { isEmpty: (d) => !d.items.length },
  );
  return (
    <div style={{ display: 'grid', gridTemplateColumns: '3fr 2fr', gap: 12, height: '100%' }}>
      <WidgetState query={q} emptyText="No slash commands in this range.">
        {(d) => <BarChart title="Most used slash commands" horizontal categories={d.items.map((i) => i.name)} series={[{ name: 'uses', values: d.items.map((i) => i.uses) }, { name: 'users', values: d.items.map((i) => i.users) }]} categoryKey="command" />}
      </WidgetState>
      <div style={{ overflow: 'auto', fontSize: '.85rem' }}>
        <h4 style={{ margin: '0 0 4px' }}>Common sequences</h4>
        <ol style={{ margin: 0, paddingLeft: 18 }}>{(q.data?.sequences.sequences ?? []).map((s) => <li key={s.sequence.join()}>{s.sequence.join(' → ')} ({s.occurrences})</li>)}</ol>
        <h4 style={{ margin: '8px 0 4px' }}>Worth automating</h4>
        {q.data?.patterns.patterns.length ? (
          <ul style={{ margin: 0, paddingLeft: 18 }}>{q.data.patterns.patterns.map((p) => <li key={p.sequence.join()}>{p.suggestion}</li>)}</ul>
        ) : (
          <p style={{ margin: 0, color: 'var(--muted, #5f6b7a)' }}>No repeated command sequences yet.</p>
        )}
      </div>
    </div>
  );
}

export default defineWidget<Options>({ component: CommandUsage, declaration: commandUsage, defaults: { limit: 10 } });
