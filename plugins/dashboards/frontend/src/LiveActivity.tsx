import { useEffect, useMemo, useState } from 'react';
import { defineWidget, formatters, TimeSeriesChart, useRealtime, useWidgetData, type BusMessage, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import { liveActivity } from '../../widgets.ts';
import { describeTypes, LIVE_WINDOW_MINUTES, liveView, type StreamEntry } from './liveWindow.ts';

interface Options { keep: number }

/** What the kernel publishes on `events.committed`: a coalesced summary per scope. */
interface Committed {
  count: number;
  types: Record<string, number>;
  agents: string[];
  last_at: string;
  committed_at: string;
}

/** `GET /live/recent`: the last minutes by event time, and the newest event of the scope. */
interface Recent {
  minutes: StreamEntry[];
  last_event_at: string | null;
}

/** how often the window moves on with the clock when nothing arrives */
const TICK_MS = 15_000;

function LiveActivity({ context, options }: WidgetProps<Options>) {
  const [live, setLive] = useState<StreamEntry[]>([]);
  const [now, setNow] = useState(() => Date.now());
  const fmt = formatters(context.locale, context.tz);
  const dept = context.department?.id;

  const recent = useWidgetData<Recent>('/live/recent', { minutes: LIVE_WINDOW_MINUTES, ...(dept ? { department_id: dept } : {}) }, { withContext: false });
  // when the history was answered: live messages before it are already in its counts
  const [loadedAt, setLoadedAt] = useState(0);
  useEffect(() => {
    if (recent.data) setLoadedAt(Date.now());
  }, [recent.data]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(t);
  }, []);

  useRealtime<Committed>('events.committed', (_latest, batch) => {
    // every event is published once per scope (org, department, user): read exactly one
    // scope so nothing is counted twice
    const mine = batch.filter((m: BusMessage<Committed>) => (dept ? m.scope.kind === 'department' && m.scope.id === dept : m.scope.kind === 'org'));
    if (!mine.length) return;
    setNow(Date.now());
    const entries = mine.map((m) => ({ at: m.at, count: m.payload.count, types: m.payload.types, agents: m.payload.agents })).reverse();
    setLive((l) => [...entries, ...l].slice(0, Math.max(5, options.keep ?? 30)));
  }, { throttleMs: 500 });

  const view = useMemo(() => liveView(recent.data?.minutes ?? [], live, now, loadedAt), [recent.data, live, now, loadedAt]);
  const series = useMemo(() => [{ name: 'events', points: view.points }], [view.points]);
  const where = context.department ? ` in ${context.department.name}` : '';

  if (recent.loading && !live.length) return <p style={{ color: 'var(--muted, #5f6b7a)', margin: 0 }}>Loading the last minutes…</p>;

  return (
    <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
      <div aria-live="polite" data-testid="live-count">
        <span style={{ fontSize: '1.8rem', fontWeight: 600 }}>{fmt.number(view.total)}</span>{' '}
        <span style={{ color: 'var(--muted, #5f6b7a)' }}>{view.total === 1 ? 'event' : 'events'} in the last {LIVE_WINDOW_MINUTES} minutes{where}</span>
      </div>
      {view.total === 0 ? (
        <p style={{ color: 'var(--muted, #5f6b7a)', margin: 0 }}>
          Waiting for events… {recent.data?.last_event_at ? <>The last one arrived <time dateTime={recent.data.last_event_at} title={fmt.dateTime(recent.data.last_event_at)}>{fmt.relative(recent.data.last_event_at, new Date(now))}</time>. </> : null}
          Send one with a hook token and it shows up here.
        </p>
      ) : (
        <>
          <div style={{ flex: 1, minHeight: 100 }}>
            <TimeSeriesChart title="Events per minute" summary={`${fmt.number(view.total)} events over the last ${LIVE_WINDOW_MINUTES} minutes${where}`} series={series} kind="bar" hideToolbar={false} />
          </div>
          <ul style={{ listStyle: 'none', margin: 0, padding: 0, fontSize: '.85rem', maxHeight: 96, overflow: 'auto' }} aria-label="Latest events">
            {view.latest.slice(0, 5).map((m, i) => (
              <li key={`${m.at}-${i}`}>
                <time dateTime={m.at}>{fmt.dateTime(m.at)}</time> · {describeTypes(m.types)}
                {m.agents.length ? ` · ${m.agents.slice(0, 3).join(', ')}` : ''}
              </li>
            ))}
          </ul>
        </>
      )}
      {recent.error ? <p role="alert" style={{ margin: 0, fontSize: '.85rem' }}>The last minutes could not be loaded ({recent.error.message}); new events still show up here.</p> : null}
    </div>
  );
}

export default defineWidget<Options>({ component: LiveActivity, declaration: liveActivity });
