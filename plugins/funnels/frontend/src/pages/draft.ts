/**
 * The funnel editor's draft: what the form edits, and the saved definition it becomes. Kept
 * apart from the page so the conversion is tested without a browser (test/draft.test.ts).
 */
import { EVENT_TYPES } from '@orrery/plugin-sdk/events';

export interface StepDraft {
  event_type: string;
  /** '' = any action */
  action: string;
  /** `field=value, field=a|b`, as typed */
  where: string;
}
export interface Draft {
  name: string;
  steps: StepDraft[];
  window: number;
  unit: 'minutes' | 'hours' | 'days';
  order: 'ordered' | 'strict' | 'unordered';
  count_by: 'user' | 'session';
}
export interface Definition {
  steps: Array<{ event_type: string; action?: string; where?: Record<string, string | string[]> }>;
  window_seconds?: number;
  order?: Draft['order'];
  count_by?: Draft['count_by'];
  [more: string]: unknown;
}

export const UNIT_SECONDS = { minutes: 60, hours: 3600, days: 86_400 } as const;
export const EVENT_TYPE_NAMES = EVENT_TYPES.map((t) => t.type);
/** the actions an event type allows (none: the type has no sub-kinds) */
export const actionsOf = (type: string): readonly string[] => EVENT_TYPES.find((t) => t.type === type)?.actions ?? [];

/** A filter the step's type can take, shown as the field's example: its first enum or label field. */
export function exampleFilter(type: string): string {
  const spec = EVENT_TYPES.find((t) => t.type === type);
  const [name, f] = Object.entries(spec?.fields ?? {}).find(([, f]) => f.kind === 'enum' || f.kind === 'label') ?? [];
  return name ? `${name}=${f?.values?.[0] ?? '…'}` : 'user_id=…';
}

export const BLANK: Draft = {
  name: '',
  steps: [
    { event_type: 'session', action: 'started', where: '' },
    { event_type: 'agent_invocation', action: '', where: '' },
  ],
  window: 1,
  unit: 'days',
  order: 'ordered',
  count_by: 'user',
};

/** `a=1, b=x|y` → `{a: "1", b: ["x", "y"]}`; pieces without `=` are left out */
export function parseWhere(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const part of text.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const key = part.slice(0, i).trim();
    const values = part.slice(i + 1).split('|').map((v) => v.trim()).filter(Boolean);
    if (key && values.length) out[key] = values.length === 1 ? values[0]! : values;
  }
  return out;
}
export const whereText = (w?: Record<string, unknown>) => Object.entries(w ?? {}).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`).join(', ');

/** The largest unit the window is a whole number of. */
function windowOf(seconds: number): Pick<Draft, 'window' | 'unit'> {
  for (const unit of ['days', 'hours', 'minutes'] as const) if (seconds % UNIT_SECONDS[unit] === 0) return { window: seconds / UNIT_SECONDS[unit], unit };
  return { window: Math.max(1, Math.round(seconds / 60)), unit: 'minutes' };
}

/** A saved funnel as the form shows it (the API's default window when it has none). */
export function toDraft(name: string, d: Definition): Draft {
  return {
    name,
    steps: d.steps.map((s) => {
      const { action, ...rest } = s.where ?? {};
      return { event_type: s.event_type, action: s.action ?? (typeof action === 'string' ? action : ''), where: whereText(rest) };
    }),
    ...windowOf(d.window_seconds ?? 14 * 86_400),
    order: d.order ?? 'ordered',
    count_by: d.count_by ?? 'user',
  };
}

/**
 * The definition the API takes. `base` is the saved definition being edited: what the form
 * does not show (a breakdown, exclusions, per-step windows) is kept as it was.
 */
export function toDefinition(d: Draft, base: Definition | null = null): Definition {
  const { steps: _s, window_seconds: _w, order: _o, count_by: _c, ...kept } = base ?? { steps: [] };
  return {
    ...kept,
    steps: d.steps.map((s) => {
      const where = parseWhere(s.where);
      return { event_type: s.event_type, ...(s.action ? { action: s.action } : {}), ...(Object.keys(where).length ? { where } : {}) };
    }),
    window_seconds: Math.round(d.window * UNIT_SECONDS[d.unit]),
    order: d.order,
    count_by: d.count_by,
  };
}
