import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { Badge } from './components.tsx';

describe('Badge', () => {
  it('writes the word itself, in the tone asked (neutral by default)', () => {
    expect(renderToStaticMarkup(<Badge tone="bad">Firing</Badge>)).toBe('<span class="orrery-badge orrery-badge--bad">Firing</span>');
    expect(renderToStaticMarkup(<Badge>Stopped</Badge>)).toBe('<span class="orrery-badge orrery-badge--neutral">Stopped</span>');
    expect(renderToStaticMarkup(<Badge tone="warn" title="no events for 10 minutes">No data</Badge>)).toContain('title="no events for 10 minutes"');
  });
});
