import { defineWidget, Stat, useWidget, useWidgetData, WidgetState, type WidgetProps } from '@orrery/plugin-sdk/frontend';
import type { OrgUsage } from './api.ts';
import { usageLimits } from '../../widgets.ts';

type NoOptions = Record<string, never>;

const STATUS: Record<OrgUsage['status'], string> = {
  ok: 'Within the limits of your tier.',
  warning: 'You have used 80% or more of a limit of your tier.',
  over_soft_limit: 'You are over a limit of your tier: events are still accepted up to 20% more.',
  over_limit: 'You have used your tier and its 20% overage: new events are refused until the month ends or your tier changes.',
};

/** Bytes in binary units (KiB, MiB, GiB, TiB), as storage limits are set. */
function formatBytes(b: number, locale: string) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: b < 10 && i > 0 ? 1 : 0 }).format(b)} ${units[i]}`;
}

function Bar({ label, used, limit, soft, format }: { label: string; used: number; limit: number; soft?: number; format: (n: number) => string }) {
  const share = limit > 0 ? used / limit : 0;
  const tone = share >= 1 ? 'var(--orrery-danger, #b42318)' : share >= 0.8 ? 'var(--orrery-warning, #b54708)' : 'var(--orrery-accent, #2563eb)';
  return (
    <div>
      <div style={{ display: 'flex', justifyContent: 'space-between', fontSize: 13 }}>
        <span>{label}</span>
        <span>
          {format(used)} of {format(limit)}
          {soft !== undefined ? ` (refused from ${format(soft)})` : ''}
        </span>
      </div>
      <div role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={limit} aria-valuenow={used} aria-valuetext={`${Math.round(share * 100)}% of the limit`} style={{ height: 8, background: 'var(--orrery-muted-bg, #eee)', borderRadius: 4 }}>
        <div style={{ width: `${Math.min(100, share * 100)}%`, height: '100%', background: tone, borderRadius: 4 }} />
      </div>
    </div>
  );
}

function UsageLimits(_props: WidgetProps<NoOptions>) {
  const w = useWidget();
  const q = useWidgetData<OrgUsage>('/usage', {}, { withContext: false, isEmpty: () => false });
  const n = new Intl.NumberFormat(w.locale);
  const bytes = (b: number) => formatBytes(b, w.locale);
  // the period is a calendar month in UTC (API.md), so it is named as such, not shifted into the user's zone
  const month = new Intl.DateTimeFormat(w.locale, { timeZone: 'UTC', month: 'long', year: 'numeric' });
  return (
    <WidgetState query={q} emptyText="No usage yet this month.">
      {(u) => (
        <div style={{ display: 'flex', flexDirection: 'column', gap: 10 }}>
          <p role="status" className={u.status === 'ok' ? 'small' : 'orrery-state orrery-state--error'}>
            <strong>Tier {u.tier}.</strong> {STATUS[u.status]}
          </p>
          <Bar label="Events this month" used={u.events.used} limit={u.events.limit} soft={u.events.soft_limit} format={(x) => n.format(x)} />
          <Bar label="Storage" used={u.storage_bytes.used} limit={u.storage_bytes.limit} format={bytes} />
          <Bar label="Members" used={u.users.used} limit={u.users.limit} format={(x) => n.format(x)} />
          <div style={{ display: 'flex', gap: 16, flexWrap: 'wrap' }}>
            <Stat label="API calls this month" value={u.api_calls?.used ?? null} />
            <Stat label="Events refused" value={u.refused_events} />
          </div>
          <p className="small">Counted for {month.format(new Date(u.period.from))} (calendar month in UTC).</p>
        </div>
      )}
    </WidgetState>
  );
}

export default defineWidget<NoOptions>({ component: UsageLimits, declaration: usageLimits });
