import { defineWidget, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { exportPage } from '../../widgets.ts';
import { ExportData, type Options } from './ExportData.tsx';

/**
 * The export form as a page: the same download and background export as the widget, with
 * the choices in the URL (`/p/exports/data?format=json&eventType=agent_invocation`), so a
 * link hands someone the very export to run.
 */
function ExportPage({ context, options }: WidgetProps<Options>) {
  const set = (patch: Partial<Options>) => context.setOptions({ ...options, ...patch });
  return (
    <section aria-labelledby="export-choices" style={{ maxWidth: 640 }}>
      <h2 id="export-choices" className="sr-only">What to export</h2>
      <p className="small">
        Everything in the selected time range{context.department ? ` for ${context.department.name}` : ''}, streamed with no row cap.
      </p>
      <div style={{ display: 'grid', gap: 12, gridTemplateColumns: 'repeat(auto-fit, minmax(180px, 1fr))', marginBottom: 16 }}>
        <label style={{ display: 'grid', gap: 4 }}>
          Event type (empty: all)
          <input value={options.eventType} onChange={(e) => set({ eventType: e.target.value.trim() })} placeholder="agent_invocation" />
        </label>
        <label style={{ display: 'grid', gap: 4 }}>
          Format
          <select value={options.format} onChange={(e) => set({ format: e.target.value as Options['format'] })}>
            <option value="csv">CSV</option>
            <option value="json">JSON</option>
            <option value="ndjson">NDJSON</option>
          </select>
        </label>
        <label style={{ display: 'grid', gap: 4 }}>
          Fields (comma-separated; empty: all)
          <input value={options.fields} onChange={(e) => set({ fields: e.target.value })} placeholder="event_id,timestamp,user_id" />
        </label>
      </div>
      <ExportData context={context} options={options} />
    </section>
  );
}

export default defineWidget<Options>({ component: ExportPage, declaration: exportPage });
