import { BarChart, defineWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';

interface Options { limit: number }
interface Top { items: Array<{ name: string; uses: number; users: number }> }
interface Patterns { patterns: Array<{ sequence: string[]; users: number; sessions: number; suggestion: string }> }
interface Sequences { sequences: Array<{ sequence: string[]; occurrences: number }> }

function CommandUsage({ options }: WidgetProps<Options>) {
  const top = useWidgetData<Top>('/commands', { limit: options.limit }, { isEmpty: (d) => !d.items.length });
  const seq = useWidgetData<Sequences>('/commands/sequences', { n: 2, limit: 5 });
  const pat = useWidgetData<Patterns>('/commands/patterns', { n: 3, min_sessions: 3, limit: 5 });
  return (
    <div style={{ display: 'grid', gridTemplateColumns: '3fr 2fr', gap: 12, height: '100%' }}>
      <WidgetState query={top} emptyText="No slash commands in this range.">
        {(d) => <BarChart title="Most used slash commands" horizontal categories={d.items.map((i) => i.name)} series={[{ name: 'uses', values: d.items.map((i) => i.uses) }, { name: 'users', values: d.items.map((i) => i.users) }]} categoryKey="command" />}
      </WidgetState>
      <div style={{ overflow: 'auto', fontSize: '.85rem' }}>
        <h4 style={{ margin: '0 0 4px' }}>Common sequences</h4>
        <ol style={{ margin: 0, paddingLeft: 18 }}>{(seq.data?.sequences ?? []).map((s) => <li key={s.sequence.join()}>{s.sequence.join(' → ')} ({s.occurrences})</li>)}</ol>
        <h4 style={{ margin: '8px 0 4px' }}>Worth automating</h4>
        {pat.data?.patterns.length ? (
          <ul style={{ margin: 0, paddingLeft: 18 }}>{pat.data.patterns.map((p) => <li key={p.sequence.join()}>{p.suggestion}</li>)}</ul>
        ) : (
          <p style={{ margin: 0, color: 'var(--muted, #5f6b7a)' }}>No repeated command sequences yet.</p>
        )}
      </div>
    </div>
  );
}

export default defineWidget<Options>({ component: CommandUsage, defaults: { limit: 10 }, optionsVersion: 1 });
