import { defineWidget, Stat, TimeSeriesChart, useWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import type { CapacityAnswer, SeriesAnswer, SystemStats } from './api.ts';
import { platformHealth } from '../../widgets.ts';

type NoOptions = Record<string, never>;

function PlatformHealth(_props: WidgetProps<NoOptions>) {
  const w = useWidget();
  const stats = useWidgetData<SystemStats>('/stats', {}, { withContext: false, isEmpty: () => false });
  // minutes for up to two days, hours up to two months, days beyond (the route answers at most 5000 buckets)
  const spanMs = new Date(w.timeRange.to).getTime() - new Date(w.timeRange.from).getTime();
  const step = spanMs <= 2 * 86_400_000 ? 'minute' : spanMs <= 60 * 86_400_000 ? 'hour' : 'day';
  const latency = useWidgetData<SeriesAnswer>('/series', { series: 'http_p95_ms', scope: 'platform', step }, { isEmpty: (d) => d.keys.length === 0, enabled: !stats.error });
  const capacity = useWidgetData<CapacityAnswer>('/capacity', { days: 90 }, { withContext: false, isEmpty: (d) => d.history.every((h) => !h.events), enabled: !stats.error });
  const n = new Intl.NumberFormat(w.locale, { maximumFractionDigits: 1 });
  if (stats.error && /operator/i.test(stats.error.message))
    return <p className="orrery-state orrery-state--empty">Only the platform operator sees the platform's health. Your organization's usage is in the Usage &amp; limits widget.</p>;
  return (
    <WidgetState query={stats}>
      {(s) => {
        const node = s.nodes[0];
        return (
          <div style={{ display: 'flex', flexDirection: 'column', height: '100%', gap: 8 }}>
            <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap' }}>
              <Stat label="CPU" value={node?.cpu_ratio ?? null} format="percent" />
              <Stat label="Memory (MB)" value={node ? node.rss_bytes / 2 ** 20 : null} />
              <Stat label="Event-loop p99 (ms)" value={node?.event_loop_p99_ms ?? null} />
              <Stat label="Ingestion backlog" value={s.ingestion.backlog_rows} />
              <Stat label="Rollup lag (s)" value={s.rollups.lag_ms === null ? null : s.rollups.lag_ms / 1000} />
              <Stat label="Answer cache hits" value={s.caches.answers.hit_ratio} format="percent" />
              <Stat label="Sockets" value={s.sockets.connected} />
            </div>
            <table className="orrery-table small">
              <caption className="sr-only">Stores and their probe times</caption>
              <thead>
                <tr><th scope="col">Store</th><th scope="col">Mode</th><th scope="col">State</th><th scope="col">Probe (ms)</th></tr>
              </thead>
              <tbody>
                {s.stores.map((x) => (
                  <tr key={x.name}><th scope="row">{x.name}</th><td>{x.mode}</td><td>{x.ok ? 'answers' : 'not answering'}</td><td>{x.probe_ms === null ? '—' : n.format(x.probe_ms)}</td></tr>
                ))}
              </tbody>
            </table>
            {s.jobs.some((j) => j.failing) ? (
              <p role="alert" className="orrery-state orrery-state--error">
                Failing jobs: {s.jobs.filter((j) => j.failing).map((j) => `${j.job} (${j.failing})`).join(', ')}
              </p>
            ) : null}
            <div style={{ flex: 1, minHeight: 180 }}>
              <WidgetState query={capacity} emptyText="No events came in through the ingestion routes in the last 30 days: nothing to project yet.">
                {(c) => (
                  <div style={{ display: 'flex', flexDirection: 'column', height: '100%' }}>
                  <Stat label="Ingestion capacity used in 90 days" value={c.projection.at(-1)?.capacity_ratio ?? null} format="percent" />
                  <div style={{ flex: 1, minHeight: 120 }}>
                  <TimeSeriesChart
                    title={`Events per day: last 30 days and the next 90 (${c.model === 'linear' ? 'straight-line projection' : c.model.replace('trends:', 'forecast: ')})`}
                    summary={c.first_day_over_capacity ? `The projection reaches the ingestion capacity on ${c.first_day_over_capacity}.` : `The projection stays under the ingestion capacity (${n.format(c.capacity_events_per_day)} events a day) for the next 90 days.`}
                    format="compact"
                    series={[
                      { name: 'events', points: c.history.map((h) => ({ t: h.day, v: h.events })) },
                      { name: 'projected', points: c.projection.map((p) => ({ t: p.day, v: p.events })) },
                    ]}
                  />
                  </div>
                  </div>
                )}
              </WidgetState>
            </div>
            <div style={{ flex: 1, minHeight: 140 }}>
              <WidgetState query={latency} emptyText="No latency sampled in this time range yet: the sampler writes every 10 seconds.">
                {(l) => (
                  <TimeSeriesChart
                    title="p95 answer time per plugin (ms)"
                    format="number"
                    yTitle="ms"
                    series={l.keys.filter((k) => k.key.startsWith('plugin:') && k.key !== 'plugin:none' && k.key !== 'plugin:static').map((k) => ({ name: k.key.slice(7), points: k.points.map((p) => ({ t: p.bucket, v: p.value })) }))}
                  />
                )}
              </WidgetState>
            </div>
          </div>
        );
      }}
    </WidgetState>
  );
}

export default defineWidget<NoOptions>({ component: PlatformHealth, declaration: platformHealth });
