/**
 * The funnel editor's draft: what the form edits, and the saved definition it becomes. Kept
 * apart from the page so the conversion is tested without a browser (test/draft.test.ts).
 */
import { EVENT_TYPE_BY_NAME, EVENT_TYPES, fieldsOf } from '@orrery/plugin-sdk/events';

export type Unit = 'seconds' | 'minutes' | 'hours' | 'days';
/** What an event must be to count (a step's or an exclusion's). */
export interface EventDraft {
  event_type: string;
  /** '' = any action */
  action: string;
  /** `field=value, field=a|b`, as typed */
  where: string;
}
export interface StepDraft extends EventDraft {
  /**
   * The most time allowed since the step before (steps after the first, in order only);
   * absent = only the conversion window. It moves with its step.
   */
  within?: { value: number; unit: Unit };
}
/** An event that, between two steps, takes the attempt out of the funnel. */
export interface ExclusionDraft extends EventDraft {
  from_step: number;
  to_step: number;
}
export interface Draft {
  name: string;
  steps: StepDraft[];
  window: number;
  unit: Unit;
  order: 'ordered' | 'strict' | 'unordered';
  count_by: 'user' | 'session';
  /** a field of the first step's event type; '' = no breakdown */
  breakdown: string;
  exclusions: ExclusionDraft[];
}
type StepDefinition = { event_type: string; action?: string; where?: Record<string, string | string[]> };
export interface Definition {
  steps: StepDefinition[];
  window_seconds?: number;
  step_windows_seconds?: Array<number | null>;
  order?: Draft['order'];
  count_by?: Draft['count_by'];
  breakdown?: string;
  exclusions?: Array<StepDefinition & { from_step: number; to_step: number }>;
  [more: string]: unknown;
}

/** the API's bound on exclusions per funnel */
export const MAX_EXCLUSIONS = 10;

export const UNIT_SECONDS = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 } as const;
export const EVENT_TYPE_NAMES = EVENT_TYPES.map((t) => t.type);
/** the actions an event type allows (none: the type has no sub-kinds) */
export const actionsOf = (type: string): readonly string[] => EVENT_TYPES.find((t) => t.type === type)?.actions ?? [];

/** A filter the step's type can take, shown as the field's example: its first enum or label field. */
export function exampleFilter(type: string): string {
  const spec = EVENT_TYPES.find((t) => t.type === type);
  const [name, f] = Object.entries(spec?.fields ?? {}).find(([, f]) => f.kind === 'enum' || f.kind === 'label') ?? [];
  return name ? `${name}=${f?.values?.[0] ?? '…'}` : 'user_id=…';
}

/**
 * The fields of an event type the form offers to break a funnel down by: its enums and labels
 * (status, agent, model…) and the department. The API also takes ids and numbers; a breakdown
 * by user id or token count is rarely what someone means, so the form leaves them out.
 */
export function breakdownFields(type: string): string[] {
  const spec = EVENT_TYPE_BY_NAME.get(type);
  if (!spec) return [];
  return Object.entries(fieldsOf(spec))
    .filter(([name, f]) => name === 'department_id' || (name !== 'event_type' && (f.kind === 'enum' || f.kind === 'label')))
    .map(([name]) => name);
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
  breakdown: '',
  exclusions: [],
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

/**
 * The largest unit the window is a whole number of: seconds when it is no whole minute (a
 * funnel saved through the API), so saving it from the form keeps it as it was.
 */
function windowOf(seconds: number): { window: number; unit: Unit } {
  for (const unit of ['days', 'hours', 'minutes'] as const) if (seconds % UNIT_SECONDS[unit] === 0) return { window: seconds / UNIT_SECONDS[unit], unit };
  return { window: Math.max(1, Math.round(seconds)), unit: 'seconds' };
}

/** `7200` → `2 hours`, `60` → `1 minute`: in the largest unit the time is a whole number of. */
export function durationWords(seconds: number): string {
  const { window, unit } = windowOf(seconds);
  return `${window} ${window === 1 ? unit.slice(0, -1) : unit}`;
}

/** A saved funnel as the form shows it (the API's default window when it has none). */
export function toDraft(name: string, d: Definition): Draft {
  return {
    name,
    steps: d.steps.map((s, i) => {
      const gap = i > 0 ? d.step_windows_seconds?.[i] : null;
      if (gap === null || gap === undefined) return stepDraft(s);
      const { window: value, unit } = windowOf(gap);
      return { ...stepDraft(s), within: { value, unit } };
    }),
    ...windowOf(d.window_seconds ?? 14 * 86_400),
    order: d.order ?? 'ordered',
    count_by: d.count_by ?? 'user',
    breakdown: d.breakdown ?? '',
    exclusions: (d.exclusions ?? []).map((x) => ({ ...stepDraft(x), from_step: x.from_step, to_step: x.to_step })),
  };
}

/** `where.action` is shown as the step's action */
function stepDraft(s: StepDefinition): EventDraft {
  const { action, ...rest } = s.where ?? {};
  return { event_type: s.event_type, action: s.action ?? (typeof action === 'string' ? action : ''), where: whereText(rest) };
}

function stepDefinition(s: EventDraft): StepDefinition {
  const where = parseWhere(s.where);
  return { event_type: s.event_type, ...(s.action ? { action: s.action } : {}), ...(Object.keys(where).length ? { where } : {}) };
}

/**
 * An exclusion's steps as the API takes them once steps were removed: `to_step` a step of the
 * funnel, `from_step` before it. A funnel of one step has no room for one (the API needs two).
 */
function fitExclusion(x: ExclusionDraft, steps: number) {
  const to = Math.max(1, Math.min(x.to_step, steps - 1));
  return { from_step: Math.max(0, Math.min(x.from_step, to - 1)), to_step: to };
}

/**
 * Per step, the seconds allowed since the step before, as the API takes them: entry 0 (the
 * first step has none) and steps without a window null, trailing nulls left out; none at all
 * when no step has one.
 */
function stepWindows(steps: StepDraft[]): Array<number | null> | undefined {
  const out = steps.map((s, i) => (i > 0 && s.within ? Math.max(1, Math.round(s.within.value * UNIT_SECONDS[s.within.unit])) : null));
  while (out.length && out.at(-1) === null) out.pop();
  return out.length ? out : undefined;
}

/**
 * The definition the API takes. `base` is the saved definition being edited: what the form
 * does not show is kept as it was. A breakdown is left out once the first
 * step's type changed to one the form does not offer it for; a saved one the form does not
 * offer (a user id, a count) is kept while the first step's type stays.
 */
export function toDefinition(d: Draft, base: Definition | null = null): Definition {
  const { steps: _s, window_seconds: _w, step_windows_seconds: _sw, order: _o, count_by: _c, breakdown: _b, exclusions: _x, ...kept } = base ?? { steps: [] };
  const first = d.steps[0]?.event_type ?? '';
  // per-step windows and exclusions need steps in order: set aside (kept in the draft) while the order is "any"
  const windows = d.order === 'unordered' ? undefined : stepWindows(d.steps);
  const breakdown = d.breakdown && (breakdownFields(first).includes(d.breakdown) || (d.breakdown === base?.breakdown && base.steps[0]?.event_type === first)) ? d.breakdown : '';
  return {
    ...kept,
    steps: d.steps.map(stepDefinition),
    window_seconds: Math.round(d.window * UNIT_SECONDS[d.unit]),
    ...(windows ? { step_windows_seconds: windows } : {}),
    order: d.order,
    count_by: d.count_by,
    ...(breakdown ? { breakdown } : {}),
    ...(d.exclusions.length && d.order !== 'unordered' ? { exclusions: d.exclusions.map((x) => ({ ...stepDefinition(x), ...fitExclusion(x, d.steps.length) })) } : {}),
  };
}

/**
 * What a saved definition adds to its steps, as short phrases for the list: its exclusions
 * (`name` reads a step, as the list shows steps) and its breakdown.
 */
export function extrasOf(d: Definition, name: (s: StepDefinition) => string): string[] {
  const out: string[] = [];
  d.step_windows_seconds?.forEach((w, i) => {
    if (i > 0 && i < d.steps.length && w !== null && w !== undefined) out.push(`step ${i + 1} within ${durationWords(w)} of step ${i}`);
  });
  out.push(...(d.exclusions ?? []).map((x) => `excluding ${name(x)} between steps ${x.from_step + 1} and ${x.to_step + 1}`));
  if (d.breakdown) out.push(`by ${d.breakdown === 'department_id' ? 'department' : d.breakdown}`);
  return out;
}
