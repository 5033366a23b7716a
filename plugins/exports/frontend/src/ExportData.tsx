import { useEffect, useRef, useState } from 'react';
import { Button, defineWidget, formatters, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { exportData } from '../../widgets.ts';

export interface Options { eventType: string; format: 'csv' | 'json' | 'ndjson'; fields: string }
interface Job { id: string; status: 'queued' | 'running' | 'done' | 'failed'; progress: number; rows: number; bytes: number; url: string | null; error: string | null }

/** The dashboard's range out as a file: at once (streamed), or as a background job with progress. */
export function ExportData({ context, options }: WidgetProps<Options>) {
  const fmt = formatters(context.locale, context.tz);
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); }, []);

  const query = {
    dataset: 'events',
    from: context.timeRange.from,
    to: context.timeRange.to,
    ...(options.eventType ? { event_type: options.eventType } : {}),
    ...(options.fields ? { fields: options.fields } : {}),
    ...(context.department ? { department_id: context.department.id } : {}),
  };

  const now = async () => {
    setError(null);
    setBusy(true);
    try {
      if (!context.download) throw new Error('this portal cannot save files from widgets');
      await context.download(options.format === 'csv' ? '/csv' : '/json', query);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const poll = async (id: string) => {
    try {
      const j = await context.request<Job>(`/jobs/${id}`);
      setJob(j);
      if (j.status === 'queued' || j.status === 'running') timer.current = setTimeout(() => void poll(id), 500);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const background = async () => {
    setError(null);
    try {
      const j = await context.request<Job>('/jobs', { method: 'POST', body: { ...query, format: options.format } });
      setJob(j);
      void poll(j.id);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="orrery-export" style={{ display: 'grid', gap: 8 }}>
      <p style={{ margin: 0 }}>
        {options.eventType || 'All events'} · {fmt.dateTime(context.timeRange.from)} – {fmt.dateTime(context.timeRange.to)} · {options.format.toUpperCase()}
      </p>
      <div style={{ display: 'flex', gap: 8, flexWrap: 'wrap' }}>
        <Button onClick={() => void now()} disabled={busy}>{busy ? 'Exporting…' : 'Download'}</Button>
        <Button onClick={() => void background()} disabled={job?.status === 'queued' || job?.status === 'running'}>Export in background</Button>
      </div>
      {job && (
        <div aria-live="polite">
          <progress max={1} value={job.progress} style={{ width: '100%' }} aria-label="Export progress" />
          <div>
            {job.status === 'failed' ? `Failed: ${job.error}` : `${job.status} · ${fmt.number(job.rows)} rows · ${fmt.number(Math.round(job.bytes / 1024))} KB`}
            {job.status === 'done' && context.download && (
              <> · <button type="button" className="orrery-link" onClick={() => void context.download!(`/jobs/${job.id}/download`).catch((e: Error) => setError(e.message))}>Save file</button></>
            )}
          </div>
        </div>
      )}
      {error && <p role="alert" className="orrery-state--error">{error}</p>}
    </div>
  );
}

export default defineWidget<Options>({ component: ExportData, declaration: exportData });
