/**
 * Message templates of a contact point and on-call rotations: pure functions.
 *
 * A template is text with `{{ name }}` placeholders and one repeated section,
 * `{{#alerts}} … {{/alerts}}` (also `{{#firing}}` / `{{#resolved}}` for only those):
 *
 * - outside a section: `status`, `receiver`, `alertname`, `count_firing`, `count_resolved`,
 *   `groupLabels.<name>`, `commonLabels.<name>`;
 * - inside: `status`, `value`, `startsAt`, `endsAt`, `fingerprint`, `labels.<name>`, `annotations.<name>`.
 *
 * An unknown name is refused when the contact point is saved (a 400 naming the template),
 * so a typo is found before the first alert.
 */

export interface AlertBody {
  status: 'firing' | 'resolved';
  receiver: string;
  groupKey: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string>; values: { value: number | null }; startsAt: string | null; endsAt: string | null; fingerprint: string }>;
}

const TOP = new Set(['status', 'receiver', 'alertname', 'count_firing', 'count_resolved']);
const INNER = new Set(['status', 'value', 'startsAt', 'endsAt', 'fingerprint']);
const SECTION = /\{\{#(alerts|firing|resolved)\}\}([\s\S]*?)\{\{\/\1\}\}/g;
const VAR = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}/g;

/** The first problem of a template, or null. */
export function templateProblem(t: string): string | null {
  let badInner: string | null = null;
  const outside = t.replace(SECTION, (_, _k, inner: string) => {
    for (const m of inner.matchAll(VAR)) {
      const name = m[1]!;
      const [head] = name.split('.');
      if (!(INNER.has(name) || (name.includes('.') && (head === 'labels' || head === 'annotations')))) badInner ??= name;
    }
    return '';
  });
  if (badInner) return `unknown name "${badInner}" inside a section (known: ${[...INNER].join(', ')}, labels.<name>, annotations.<name>)`;
  if (/\{\{[#/]/.test(outside)) return 'a section is not closed, or is not alerts, firing or resolved';
  for (const m of outside.matchAll(VAR)) {
    const name = m[1]!;
    const [head] = name.split('.');
    if (!(TOP.has(name) || (name.includes('.') && (head === 'groupLabels' || head === 'commonLabels'))))
      return `unknown name "${name}" (known: ${[...TOP].join(', ')}, groupLabels.<name>, commonLabels.<name>, and the section {{#alerts}}…{{/alerts}})`;
  }
  const leftover = outside.replace(VAR, '');
  if (/\{\{|\}\}/.test(leftover)) return 'a placeholder is not closed or names nothing';
  return null;
}

const num = (v: number | null) => (v === null ? 'no data' : String(Math.round(v * 1e6) / 1e6));

export function renderMessage(t: string, body: AlertBody): string {
  const withSections = t.replace(SECTION, (_, kind: string, inner: string) =>
    body.alerts
      .filter((a) => kind === 'alerts' || a.status === kind)
      .map((a) =>
        inner.replace(VAR, (_m, name: string) => {
          const [head, key] = name.split('.') as [string, string | undefined];
          if (key !== undefined) return (head === 'labels' ? a.labels[key] : a.annotations[key]) ?? '';
          if (name === 'value') return num(a.values.value);
          return String((a as Record<string, unknown>)[name] ?? '');
        }),
      )
      .join(''),
  );
  return withSections.replace(VAR, (_m, name: string) => {
    const [head, key] = name.split('.') as [string, string | undefined];
    if (key !== undefined) return (head === 'groupLabels' ? body.groupLabels[key] : body.commonLabels[key]) ?? '';
    if (name === 'alertname') return body.commonLabels.alertname ?? body.groupLabels.alertname ?? '';
    if (name === 'count_firing') return String(body.alerts.filter((a) => a.status === 'firing').length);
    if (name === 'count_resolved') return String(body.alerts.filter((a) => a.status === 'resolved').length);
    return String((body as unknown as Record<string, unknown>)[name] ?? '');
  });
}

export interface Rotation {
  /** the people on call, in turn */
  user_ids: string[];
  /** the instant the first person's turn begins (ISO) */
  rotation_start: string;
  /** length of a turn in days (default 7: a weekly rotation) */
  period_days?: number;
}

/** Who is on call at `now`: turns of `period_days` from `rotation_start`, in order, round and round (also before the start). */
export function onCallUser(r: Rotation, now: Date): string {
  const period = (r.period_days ?? 7) * 86_400_000;
  const turn = Math.floor((now.getTime() - Date.parse(r.rotation_start)) / period);
  const n = r.user_ids.length;
  return r.user_ids[((turn % n) + n) % n]!;
}
