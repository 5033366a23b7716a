import { useMemo, useState } from 'react';
import { defineWidget, formatters, TimeSeriesChart, useRealtime, type BusMessage, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { liveActivity } from '../../widgets.ts';

interface Options { keep: number }

/** What the kernel publishes on `events.committed`: a coalesced summary per scope. */
interface Committed {
  count: number;
  types: Record<string, number>;
  agents: string[];
  last_at: string;
  committed_at: string;
}

const BUCKET_MS = 10_000;

function LiveActivity({ context, options }: WidgetProps<Options>) {
  const [log, setLog] = useState<Array<Committed & { at: string }>>([]);
  const fmt = formatters(context.locale, context.tz);
  const dept = context.department?.id;

  useRealtime<Committed>('events.committed', (_latest, batch) => {
    // every event is published once per scope (org, department, user): read exactly one
    // scope so nothing is counted twice
    const mine = batch.filter((m: BusMessage<Committed>) => (dept ? m.scope.kind === 'department' && m.scope.id === dept : m.scope.kind === 'org'));
    if (!mine.length) return;
    setLog((l) => [...mine.map((m) => ({ ...m.payload, at: m.at })).reverse(), ...l].slice(0, Math.max(5, options.keep ?? 30)));
  }, { throttleMs: 500 });

  const total = log.reduce((a, m) => a + m.count, 0);
  const series = useMemo(() => {
    const buckets = new Map<number, number>();
    for (const m of log) {
      const b = Math.floor(Date.parse(m.at) / BUCKET_MS) * BUCKET_MS;
      buckets.set(b, (buckets.get(b) ?? 0) + m.count);
    }
    const points = [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ t: new Date(t).toISOString(), v }));
    return [{ name: 'events', points }];
  }, [log]);

  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
      <div aria-live="polite" data-testid="live-count">
        <span style={{ fontSize: '1.8rem', fontWeight: 600 }}>{fmt.number(total)}</span>{' '}
        <span style={{ color: 'var(--muted, #5f6b7a)' }}>events since you opened this{context.department ? ` in ${context.department.name}` : ''}</span>
      </div>
      {log.length === 0 ? (
        <p style={{ color: 'var(--muted, #5f6b7a)', margin: 0 }}>Waiting for events… send one with a hook token and it shows up here.</p>
      ) : (
        <>
          <div style={{ flex: 1, minHeight: 100 }}>
            <TimeSeriesChart title="Events committed per 10 seconds" series={series} kind="bar" hideToolbar={false} />
          </div>
          <ul style={{ listStyle: 'none', margin: 0, padding: 0, fontSize: '.85rem', maxHeight: 96, overflow: 'auto' }} aria-label="Latest events">
            {log.slice(0, 5).map((m, i) => (
              <li key={`${m.at}-${i}`}>
                <time dateTime={m.at}>{fmt.dateTime(m.at)}</time> · {Object.entries(m.types).map(([t, n]) => `${n} ${t}`).join(', ')}
                {m.agents.length ? ` · ${m.agents.slice(0, 3).join(', ')}` : ''}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

export default defineWidget<Options>({ component: LiveActivity, declaration: liveActivity });
