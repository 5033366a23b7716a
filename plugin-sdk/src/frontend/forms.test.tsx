import { describe, expect, it } from 'vitest';
import { renderToStaticMarkup } from 'react-dom/server';
import { ActionStatus, Field, ListInput } from './forms.tsx';

describe('form pieces', () => {
  it('a field labels its control and describes it by its hint', () => {
    const html = renderToStaticMarkup(<Field label="Interval" hint="At least 10 s"><input type="number" /></Field>);
    const id = /<label for="([^"]+)">Interval<\/label>/.exec(html)?.[1];
    expect(id).toBeTruthy();
    expect(html).toContain(`<input type="number" id="${id}" aria-describedby="${id}-hint"`);
    expect(html).toContain(`<span id="${id}-hint" class="small">At least 10 s</span>`);
  });

  it('a field without a hint adds no description', () => {
    expect(renderToStaticMarkup(<Field label="Name"><input /></Field>)).not.toContain('aria-describedby');
  });

  it('a list input shows its list as comma-separated text', () => {
    const html = renderToStaticMarkup(<ListInput value={['team', 'severity']} onChange={() => {}} />);
    expect(html).toContain('value="team, severity"');
    expect(renderToStaticMarkup(<ListInput value={undefined} onChange={() => {}} />)).toContain('value=""');
  });

  it('an action status announces errors as alerts and results politely', () => {
    const html = renderToStaticMarkup(<ActionStatus error="interval: must be at least 10" done={null} />);
    expect(html).toContain('aria-live="polite"');
    expect(html).toContain('role="alert"');
    expect(html).toContain('interval: must be at least 10');
    expect(renderToStaticMarkup(<ActionStatus error={null} done="Saved" />)).not.toContain('role="alert"');
  });
});
