import { useState } from 'react';
import { Button, defineWidget, formatters, useWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { learningPath } from '../../widgets.ts';

interface Step { id: string; title: string; kind: string; url: string | null; why: string[]; raised_why?: string[]; status: 'open' | 'followed' | 'dismissed'; assigned_day: string }

/** The signed-in user's suggested next steps; opening or finishing one is recorded. */
function LearningPath({ context }: WidgetProps) {
  const ctx = useWidget();
  const f = formatters(context.locale, context.tz);
  const q = useWidgetData<{ steps: Step[] }>('/learning-path', {}, { withContext: false, live: ['flags'], isEmpty: (d) => !d.steps.length });
  const [busy, setBusy] = useState<string | null>(null);
  const act = async (id: string, action: 'follow' | 'dismiss') => {
    setBusy(id);
    try {
      await ctx.request(`/learning-path/${id}/${action}`, { method: 'POST', body: {} });
      q.refetch();
    } finally {
      setBusy(null);
    }
  };
  return (
    <WidgetState query={q} emptyText="Nothing to suggest: you are making good use of your AI tools.">
      {(d) => (
        <ol style={{ margin: 0, paddingLeft: 18, overflow: 'auto', height: '100%' }}>
          {d.steps.map((s) => (
            <li key={s.id} style={{ marginBottom: 8, opacity: s.status === 'open' ? 1 : 0.6 }}>
              {s.url ? <a href={s.url} target="_blank" rel="noreferrer" onClick={() => s.status === 'open' && void act(s.id, 'follow')}>{s.title}</a> : s.title}{' '}
              <span style={{ fontSize: '.75rem', color: 'var(--muted, #5f6b7a)' }}>{s.kind}{s.status !== 'open' ? ` · ${s.status}` : ''}</span>
              <div style={{ fontSize: '.8rem', color: 'var(--muted, #5f6b7a)' }}>
                {s.why.length || !s.raised_why?.length ? `Why: ${s.why.join('; ')}` : `Suggested on ${f.date(s.assigned_day)}: ${s.raised_why.join('; ')}`}
              </div>
              {s.status === 'open' && (
                <span style={{ display: 'inline-flex', gap: 6, marginTop: 4 }}>
                  <Button disabled={busy === s.id} onClick={() => void act(s.id, 'follow')} aria-label={`Done: ${s.title}`}>Done</Button>
                  <Button variant="quiet" disabled={busy === s.id} onClick={() => void act(s.id, 'dismiss')} aria-label={`Not for me: ${s.title}`}>Not for me</Button>
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </WidgetState>
  );
}

export default defineWidget({ component: LearningPath, declaration: learningPath });
