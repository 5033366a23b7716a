import { useEffect, useState } from 'react';
import { defineWidget, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { openedPage } from '../../widgets.ts';

interface Options { t: string }

/**
 * Where a report's link lands (`/p/exports/opened?t=<run token>`): records that the signed-in
 * member opened that run (open tracking), then offers the dashboard the report was drawn from.
 */
function OpenedPage({ context, options }: WidgetProps<Options>) {
  const [state, setState] = useState<{ name?: string; error?: string } | null>(null);
  useEffect(() => {
    if (!options.t) {
      setState({ error: 'This link has no report token.' });
      return;
    }
    let alive = true;
    context.request<{ name: string }>('/api/v1/reports/opens', { method: 'POST', body: { token: options.t } }).then(
      (r) => alive && setState({ name: r.name }),
      (e: Error) => alive && setState({ error: e.message }),
    );
    return () => { alive = false; };
    // once per token
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [options.t]);
  return (
    <div role="status" aria-live="polite" style={{ display: 'grid', gap: 12, maxWidth: 640 }}>
      {!state && <p>Opening the report…</p>}
      {state?.name !== undefined && <p>You opened the report “{state.name}”. Its figures are live on your dashboard.</p>}
      {state?.error && <p>This report link could not be recorded: {state.error}</p>}
      <p><a href="/">Go to the dashboard</a></p>
    </div>
  );
}

export default defineWidget<Options>({ component: OpenedPage, declaration: openedPage });
