import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { Stat } from './components.tsx';
import { WidgetProvider } from './context.tsx';
import type { WidgetContext } from './types.ts';

const ctx = { locale: 'en-US', tz: 'UTC' } as unknown as WidgetContext;
const render = (delta: number | null, deltaGoodWhen: 'up' | 'down' = 'up') =>
  renderToStaticMarkup(<WidgetProvider value={ctx}><Stat label="AI spend" value={352.84} format="currency" delta={delta} deltaGoodWhen={deltaGoodWhen} /></WidgetProvider>);

describe('Stat', () => {
  it('marks a change good or bad by the direction that is better', () => {
    expect(render(0.12)).toMatch(/is-good.*▲.* 12(\.0)?%.*increase/);
    expect(render(0.12, 'down')).toMatch(/is-bad.*▲/);
    expect(render(-0.07, 'down')).toMatch(/is-good.*▼.* 7(\.0)?%.*decrease/);
  });

  it('shows a change that rounds to 0 % as no change, without an arrow or a colour', () => {
    for (const d of [0, 0.0002, -0.0004]) {
      const html = render(d, 'down');
      expect(html, String(d)).toContain('orrery-stat__delta is-flat');
      expect(html, String(d)).not.toMatch(/[▲▼]|is-good|is-bad/);
      expect(html, String(d)).toContain('0%<span class="orrery-sr-only"> change from the previous period</span>');
    }
    // the smallest change the percentage shows keeps its arrow
    expect(render(0.001, 'down')).toMatch(/is-bad.*▲/);
  });

  it('shows no change line without a previous period', () => {
    expect(render(null)).not.toContain('orrery-stat__delta');
  });
});
