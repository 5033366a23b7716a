import { BarChart, defineWidget, Stat, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { change, LIVE, type Metrics } from './api.ts';
import { costTokens } from '../../widgets.ts';

interface Options { by: 'agent' | 'model' | 'department'; measure: 'cost_usd' | 'tokens' }
type Group = Metrics & { value: string; previous: Metrics | null };

/** Cost (or tokens in and out) split by agent, model or department, with the change against the previous period. */
function CostTokens({ options }: WidgetProps<Options>) {
  const q = useWidgetData<{ groups: Group[] }>('/breakdown', { by: options.by, compare: 'previous_period', measures: 'counts' }, LIVE);
  return (
    <WidgetState query={q}>
      {({ groups }) => {
        const cost = groups.reduce((a, g) => a + g.cost_usd, 0);
        const before = groups.reduce((a, g) => a + (g.previous?.cost_usd ?? 0), 0);
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <Stat label="Cost in range" value={cost} format="currency" delta={change(cost, before)} deltaGoodWhen="down" />
            <div style={{ flex: 1, minHeight: 120 }}>
              <BarChart
                title={`${options.measure === 'cost_usd' ? 'Cost' : 'Tokens'} by ${options.by}`}
                horizontal
                stacked={options.measure === 'tokens'}
                format={options.measure === 'cost_usd' ? 'currency' : 'compact'}
                categories={groups.map((g) => g.value || '(none)')}
                categoryKey={options.by}
                series={
                  options.measure === 'cost_usd'
                    ? [{ name: 'cost', values: groups.map((g) => g.cost_usd) }]
                    : [
                        { name: 'input tokens', values: groups.map((g) => g.input_tokens) },
                        { name: 'output tokens', values: groups.map((g) => g.output_tokens) },
                      ]
                }
              />
            </div>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<Options>({ component: CostTokens, declaration: costTokens });
