/**
 * Random events for the export tests, with the text that breaks naive CSV
 * writers (commas, quotes, CR/LF, emoji, CJK, cells that look like formulas)
 * and numbers of every sign. Deterministic per seed (fast-check samples).
 */
import fc from 'fast-check';

export const TRICKY = [
  'plain',
  'comma, inside',
  'a "quoted" word',
  '"starts with a quote',
  'line\nbreak',
  'crlf\r\nbreak',
  'emoji 🚀🔥 and 👩‍💻',
  '日本語のテキスト',
  '中文，逗号',
  '=SUM(A1:A9)',
  '+1 555 0100',
  '-5',
  '@cmd',
  '\tleading tab',
  '\rleading cr',
  'trailing space ',
  '',
  "'already quoted",
];

export interface SentEvent {
  event_id: string;
  event_type: string;
  action: string;
  timestamp: string;
  department_id: string;
  user_id: string;
  agent_name: string;
  error_message: string;
  comment: string;
  metric_name: string;
  metric_value: number;
  lines_changed: number;
  cost_usd: number;
  execution_time_ms: number;
  input_tokens: number;
  tools_used: string[];
  [k: string]: unknown;
}

/** The exported columns the tests ask for, with how each one is compared. */
export const FIELDS = {
  event_id: 'text',
  event_type: 'text',
  action: 'text',
  timestamp: 'time',
  department_id: 'text',
  user_id: 'text',
  agent_name: 'text',
  error_message: 'text',
  comment: 'text',
  metric_name: 'text',
  metric_value: 'number',
  lines_changed: 'number',
  cost_usd: 'number',
  execution_time_ms: 'number',
  input_tokens: 'number',
  tools_used: 'list',
} as const;

export function generate(opts: { seed: number; n: number; start: number; days: number; departments: string[]; prefix: string }): SentEvent[] {
  const text = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ unit: 'grapheme', maxLength: 12 }), fc.string({ maxLength: 8 }));
  const label = fc.oneof(fc.constantFrom(...TRICKY.filter((t) => t.length < 40)), fc.string({ unit: 'grapheme-ascii', maxLength: 10 }));
  const base = fc.record({
    kind: fc.constantFrom('agent_invocation', 'system_metric', 'feedback'),
    // a few shared instants: equal timestamps make the event id the tie-breaker of the paging key
    at: fc.oneof({ arbitrary: fc.noBias(fc.integer({ min: 0, max: opts.days * 86_400_000 - 1 })), weight: 9 }, { arbitrary: fc.constantFrom(6 * 3_600_000, 30 * 3_600_000), weight: 1 }),
    dept: fc.constantFrom(...opts.departments),
    user: fc.constantFrom('u-1', 'u-2', 'u-3', 'ü-ñ'),
    t1: text,
    t2: text,
    l1: label,
    tools: fc.array(label, { maxLength: 3 }),
    num: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }),
    int: fc.integer({ min: -100_000, max: 100_000 }),
    cost: fc.integer({ min: 0, max: 5_000_000_000 }),
    ms: fc.double({ min: 0, max: 60_000, noNaN: true, noDefaultInfinity: true }),
    tokens: fc.integer({ min: 0, max: 2_000_000 }),
  });
  const samples = fc.sample(base, { seed: opts.seed, numRuns: opts.n });
  return samples.map((s, i) => {
    const e: SentEvent = {
      event_id: `${opts.prefix}-${String(i).padStart(5, '0')}`,
      event_type: s.kind,
      action: '',
      timestamp: new Date(opts.start + s.at).toISOString(),
      department_id: s.dept,
      user_id: s.user,
      agent_name: '',
      error_message: '',
      comment: '',
      metric_name: '',
      metric_value: 0,
      lines_changed: 0,
      cost_usd: 0,
      execution_time_ms: 0,
      input_tokens: 0,
      tools_used: [],
    };
    if (s.kind === 'agent_invocation') {
      Object.assign(e, { agent_name: s.l1, error_message: s.t1, status: 'failure', tools_used: s.tools, cost_usd: s.cost / 1e9, execution_time_ms: s.ms, input_tokens: s.tokens });
    } else if (s.kind === 'system_metric') {
      // -0 travels as 0 in JSON: the event sent holds what went over the wire
      Object.assign(e, { metric_name: s.l1, metric_value: s.num + 0, lines_changed: s.int });
    } else {
      Object.assign(e, { action: 'rating', rating: 1 + (Math.abs(s.int) % 5), comment: s.t2, agent_name: s.l1 });
    }
    return e;
  });
}

/** What API.md says a text cell becomes in CSV. */
export const guarded = (s: string) => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

/** The export's order: the events table's sort key within the org. */
export const byKey = (a: SentEvent, b: SentEvent) =>
  a.event_type < b.event_type ? -1 : a.event_type > b.event_type ? 1 : a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
