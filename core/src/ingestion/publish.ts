/**
 * Realtime notice of committed events, coalesced. Widgets need to know that
 * something changed and roughly what, not every event: per org, committed
 * rows are summed into one message per scope (org, each department, each
 * user) and sent at most once per interval. The first batch after a quiet
 * period goes out at once (leading edge), so a lone event is visible
 * immediately; under a burst each scope gets ≤ 1000/intervalMs messages a
 * second whatever the event rate.
 */
import type { BusScope } from '@orrery/plugin-sdk';
import type { Bus } from '../types.ts';

export const COMMITTED_TOPIC = 'events.committed';

export interface CommittedSummary {
  count: number;
  types: Record<string, number>;
  agents: string[];
  /** latest event timestamp in the summary */
  last_at: string;
  /** when the newest row of the summary was committed */
  committed_at: string;
}

interface Acc {
  count: number;
  types: Record<string, number>;
  agents: Set<string>;
  last_at: string;
}

interface OrgState {
  org: Acc | null;
  departments: Map<string, Acc>;
  users: Map<string, Acc>;
  lastSent: number;
  timer: NodeJS.Timeout | null;
  committedAt: number;
}

export interface SummaryRow {
  event_type: string;
  timestamp: string;
  department_id?: unknown;
  user_id?: unknown;
  agent_name?: unknown;
}

const MAX_AGENTS = 50;

function add(acc: Acc | null | undefined, r: SummaryRow): Acc {
  const a = acc ?? { count: 0, types: {}, agents: new Set<string>(), last_at: '' };
  a.count++;
  a.types[r.event_type] = (a.types[r.event_type] ?? 0) + 1;
  if (typeof r.agent_name === 'string' && r.agent_name && a.agents.size < MAX_AGENTS) a.agents.add(r.agent_name);
  if (r.timestamp > a.last_at) a.last_at = r.timestamp;
  return a;
}

export class CoalescingPublisher {
  private orgs = new Map<string, OrgState>();
  /** messages sent, for the benchmark and /metrics */
  sent = 0;

  constructor(private readonly bus: Pick<Bus, 'publish'>, private readonly intervalMs: number, private readonly onError: (err: unknown) => void = () => {}) {}

  add(orgId: string, rows: readonly SummaryRow[]) {
    let s = this.orgs.get(orgId);
    if (!s) this.orgs.set(orgId, (s = { org: null, departments: new Map(), users: new Map(), lastSent: 0, timer: null, committedAt: 0 }));
    for (const r of rows) {
      s.org = add(s.org, r);
      if (typeof r.department_id === 'string' && r.department_id) s.departments.set(r.department_id, add(s.departments.get(r.department_id), r));
      if (typeof r.user_id === 'string' && r.user_id) s.users.set(r.user_id, add(s.users.get(r.user_id), r));
    }
    s.committedAt = Date.now();
    if (!s.timer) {
      const wait = Math.max(0, s.lastSent + this.intervalMs - Date.now());
      const state = s;
      if (wait === 0) this.flush(orgId, state);
      else state.timer = setTimeout(() => this.flush(orgId, state), wait);
    }
  }

  private flush(orgId: string, s: OrgState) {
    s.timer = null;
    s.lastSent = Date.now();
    const at = new Date(s.committedAt).toISOString();
    const send = (scope: BusScope, a: Acc) => {
      this.sent++;
      const payload: CommittedSummary = { count: a.count, types: a.types, agents: [...a.agents], last_at: a.last_at, committed_at: at };
      this.bus.publish(orgId, scope, COMMITTED_TOPIC, payload).catch(this.onError);
    };
    if (s.org) send({ kind: 'org' }, s.org);
    for (const [id, a] of s.departments) send({ kind: 'department', id }, a);
    for (const [id, a] of s.users) send({ kind: 'user', id }, a);
    s.org = null;
    s.departments = new Map();
    s.users = new Map();
  }

  /** Sends what is pending now (shutdown). */
  flushAll() {
    for (const [orgId, s] of this.orgs) {
      if (s.timer) clearTimeout(s.timer);
      if (s.org) this.flush(orgId, s);
    }
  }
}
