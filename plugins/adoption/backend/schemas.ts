/**
 * Response schemas of the adoption routes (documented in the served OpenAPI). Every
 * object lists its fields and lets further ones through, so a field added later is not
 * dropped when fastify serializes the answer.
 */
import { KINDS } from './score.ts';
import { TRIGGERS, USAGE_BASELINES } from './settings.ts';

const open = (properties: Record<string, unknown> = {}, required: string[] = []) => ({ type: 'object', additionalProperties: true, properties, required });
const str = { type: 'string' };
const nstr = { type: ['string', 'null'] };
const num = { type: 'number' };
const nnum = { type: ['number', 'null'] };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const arr = (items: unknown) => ({ type: 'array', items });
const any = {};
const kind = { type: 'string', enum: [...KINDS] };
const level = { type: 'string', enum: ['high', 'medium', 'low'] };
export const byKind = open(Object.fromEntries(KINDS.map((k) => [k, int])), [...KINDS]);

export const signal = open({ trigger: { type: 'string', enum: [...TRIGGERS] }, value: num, threshold: num, baseline: { type: 'string', enum: [...USAGE_BASELINES] }, baseline_events: num, department_id: str });
const weights = open({ frequency: num, diversity: num, success: num, workflow: num });
const scoreParts = { score: num, frequency: num, diversity: num, success: num, workflow: num, percentile: nnum };
const suppressed = { suppressed: bool, reason: str };

export const scoresAnswer = open({ day: str, weights, users: arr(open({ user_id: str, email: nstr, display_name: nstr, departments: arr(str), ...scoreParts })) }, ['day', 'users']);

const flagSummary = open({ id: str, status: str, triggers: arr(str), signals: arr(signal), raised_day: str, resolved_day: nstr, kind: { type: ['string', 'null'] }, severity: nnum, pending: nstr });
export const userAnswer = open(
  {
    user: open({ id: str, email: nstr, display_name: nstr, departments: arr(str) }),
    weights,
    history: arr(open({ day: str, ...scoreParts, features: any })),
    peers: arr(open({ department_id: str, name: nstr, series: arr(open({ day: str, score: num, users: int, suppressed: bool })) })),
    flag: { anyOf: [{ type: 'null' }, flagSummary] },
    expertise: { anyOf: [{ type: 'null' }, open({ day: str, reasons: arr(any) })] },
    learning_path: arr(open({ id: str, flag_id: str, key: str, title: str, kind: str, url: nstr, status: str, why: arr(str), assigned_day: str })),
  },
  ['user', 'history'],
);

const rollupCell = open({ users: int, score: nnum, median: nnum, flagged: int, flagged_share: num, ...suppressed });
export const departmentsAnswer = open({ day: str, org: rollupCell, departments: arr(open({ department_id: str, name: nstr, users: int, score: num, median: nnum, flagged: int, flagged_share: num, ...suppressed })) }, ['day', 'org', 'departments']);

export const heatmapAnswer = open(
  { from: str, to: str, cells: arr(open({ department_id: str, name: nstr, week: str, users: int, score: num, flagged_share: num, flagged: int, by_kind: byKind, ...suppressed })) },
  ['from', 'to', 'cells'],
);

export const flag = open({
  id: str,
  user_id: str,
  email: nstr,
  display_name: nstr,
  status: str,
  kind,
  kinds: arr(kind),
  severity: num,
  level,
  pending: { type: ['string', 'null'], enum: ['backfill', 'thresholds', null] },
  triggers: arr(str),
  signals: arr(signal),
  latest_triggers: { type: ['array', 'null'], items: str },
  latest_signals: { type: ['array', 'null'], items: signal },
  departments: arr(str),
  notifications: { type: ['array', 'null'], items: any },
  raised_at: any,
  raised_day: str,
  resolved_day: nstr,
  why: arr(str),
  raised_why: arr(str),
});
export const flagsAnswer = open({ total: int, offset: int, limit: int, sort: str, by_kind: byKind, pending: int, flags: arr(flag) }, ['total', 'flags', 'by_kind']);

/**
 * `summary` and `rows` follow the portal's settings-preview convention (a settings route's
 * `POST …/preview` answers them and the settings form shows them as the Admin types).
 */
const previewRow = open({ label: str, current: int, next: int }, ['label', 'current', 'next']);
export const previewAnswer = open(
  { day: str, people: int, flagged: int, by_kind: byKind, current: open({ flagged: int, by_kind: byKind }), summary: str, rows: arr(previewRow) },
  ['people', 'flagged', 'by_kind', 'summary', 'rows'],
);
export const confirmAnswer = open({ confirmed: int, notified: int }, ['confirmed', 'notified']);

const settings = open({ windowDays: int, targets: open(), thresholds: open({ usageBaseline: { type: 'string', enum: [...USAGE_BASELINES] } }), enabledTriggers: arr(str), notify: open(), privacy: open(), expertise: open(), effectivenessDays: int, roi: open() });
/** `follow_up`: what the Admin should do next, as the portal's settings form shows it (a message and a link). */
const followUp = open({ message: str, href: str, label: str }, ['message', 'href', 'label']);
export const settingsAnswer = open({ settings, customized: bool, triggers: arr(str), kinds: arr(kind), reevaluated: open({ raised: int, resolved: int, held: int }), follow_up: followUp }, ['settings']);

const intervention = open({ id: str, key: str, title: str, kind: str, url: nstr, description: nstr, triggers: arr(str), enabled: bool, position: int });
export const interventionsAnswer = open({ interventions: arr(intervention) }, ['interventions']);
export const interventionAnswer = intervention;
export const learningPathAnswer = open({ steps: arr(open({ id: str, flag_id: str, key: str, title: str, kind: str, url: nstr, description: nstr, status: str, why: arr(str), raised_why: arr(str), assigned_day: str, flag_status: str, shown_at: any, followed_at: any, dismissed_at: any })) }, ['steps']);
export const okAnswer = open({ ok: bool }, ['ok']);
const effGroup = open({ flagged: int, recovered: int, rate: nnum, median_days_to_recover: nnum });
const byIntervention = open({ intervention_id: str, key: str, title: str, users: int, assigned: int, shown: int, followed: int, dismissed: int, resolved: int, effectiveness: nnum, lift: nnum, ...suppressed });
export const effectivenessAnswer = open({ from: str, to: str, within_days: int, followed: effGroup, not_followed: effGroup, lift: nnum, by_intervention: arr(byIntervention) }, ['followed', 'not_followed']);
export const expertiseAnswer = open({ experts: arr(open({ user_id: str, email: nstr, display_name: nstr, day: str, reasons: arr(any) })) }, ['experts']);
export const reportAnswer = open(
  {
    period: str,
    from: str,
    to: str,
    flags_raised: int,
    by_signal: open(),
    by_kind: byKind,
    by_department: arr(open({ department_id: nstr, name: nstr, department_size: int, flagged_users: int, by_signal: open(), by_kind: byKind, ...suppressed })),
    flagged_share: arr(open({ day: str, scored: int, flagged: int, share: num })),
    effectiveness: effectivenessAnswer,
    users: arr(open({ flag_id: str, user_id: str, email: nstr, display_name: nstr, status: str, kind, severity: num, level, raised_day: str, resolved_day: nstr, triggers: arr(str), signals: arr(signal), departments: arr(str) })),
  },
  ['from', 'to', 'flags_raised'],
);
export const roiAnswer = open(
  {
    from: str,
    to: str,
    bucket: str,
    rates: open(),
    totals: open({ hours_saved: num, errors_avoided: num, value_usd: num, cost_usd: num }),
    series: arr(open({ start: str, week: str, active_users: int, hours_saved: num, time_value_usd: num, errors_avoided: num, errors_value_usd: num, value_usd: num, cost_usd: num, roi: nnum })),
  },
  ['series'],
);
export const rescoreAnswer = open({ days: arr(open({ day: str, scored: int, raised: int, updated: int, resolved: int, notified: int, held: int, experts: int, ms: open() })) }, ['days']);
export const statusAnswer = open({ dirty_users: int, last_computed_at: any, pending_flags: int }, ['dirty_users']);
