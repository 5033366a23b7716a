/**
 * Random knowledge events and the brute-force answers to every route, computed
 * here in plain TypeScript from the events sent, never with the plugin's SQL.
 */
import { rng } from '@orrery/backend-test-utils/random';

/** the shared seeded generator, re-exported for this plugin's tests */
export { rng };

export interface Ev {
  event_id: string;
  event_type: 'knowledge_artifact' | 'agent_invocation';
  action?: 'created' | 'annotated' | 'reused';
  timestamp: string;
  user_id: string;
  department_id: string;
  session_id: string;
  artifact_id?: string;
  artifact_type?: string;
  agent_name: string;
  status?: 'success' | 'failure';
  invocation_id?: string;
}

export const START = Date.parse('2026-05-04T00:00:00.000Z');
export const DAY = 86_400_000;
export const HOUR = 3_600_000;
export const TYPES = ['prompt', 'snippet', 'document'];
export const AGENTS = ['reviewer', 'coder', 'writer'];

/**
 * `users` map a user id to their home department. Reuses happen before and after
 * creation, by the author too, sometimes on an event of another department; some
 * artifacts get a second, later `created` event by someone else; some reused ids
 * were never created; successful invocations follow some reuses within the hour.
 */
export function generate(seed: number, users: Record<string, string>, opts: { artifacts: number; days: number; prefix: string }): Ev[] {
  const r = rng(seed);
  const pick = <T,>(xs: T[]) => xs[Math.floor(r() * xs.length)]!;
  const ids = Object.keys(users);
  const depts = [...new Set(Object.values(users))];
  const out: Ev[] = [];
  let k = 0;
  const id = () => `${opts.prefix}-${seed}-${k++}`;
  const at = (ms: number) => new Date(Math.round(ms)).toISOString();
  const span = opts.days * DAY;
  const ev = (e: Omit<Ev, 'event_id' | 'session_id'>): Ev => ({ event_id: id(), session_id: `s-${e.user_id}`, ...e });
  for (let i = 0; i < opts.artifacts; i++) {
    const art = `art-${i}`; // same ids in every org: another org's must never count
    const author = pick(ids);
    const created = START + r() * span;
    const type = pick(TYPES);
    const agent = pick(AGENTS);
    out.push(ev({ event_type: 'knowledge_artifact', action: 'created', timestamp: at(created), user_id: author, department_id: users[author]!, artifact_id: art, artifact_type: type, agent_name: agent }));
    if (r() < 0.15) {
      const u = pick(ids);
      out.push(ev({ event_type: 'knowledge_artifact', action: 'created', timestamp: at(created + 1 + r() * DAY), user_id: u, department_id: users[u]!, artifact_id: art, artifact_type: pick(TYPES), agent_name: pick(AGENTS) }));
    }
    for (let j = Math.floor(r() * 3); j > 0; j--) {
      const u = pick(ids);
      out.push(ev({ event_type: 'knowledge_artifact', action: 'annotated', timestamp: at(created + r() * 3 * DAY), user_id: u, department_id: users[u]!, artifact_id: art, artifact_type: type, agent_name: agent }));
    }
    const popularity = r() < 0.3 ? 0 : Math.floor(r() * 8);
    for (let j = 0; j < popularity; j++) {
      const u = r() < 0.12 ? author : pick(ids);
      const when = created + (r() < 0.1 ? -r() * 2 * DAY : r() * 6 * DAY);
      const dept = r() < 0.15 ? pick(depts) : users[u]!;
      out.push(ev({ event_type: 'knowledge_artifact', action: 'reused', timestamp: at(when), user_id: u, department_id: dept, artifact_id: art, artifact_type: type, agent_name: pick(AGENTS) }));
      if (r() < 0.5) {
        const gap = r() < 0.8 ? 1 + r() * 70 * 60_000 : 1 + r() * 5 * HOUR;
        out.push(ev({ event_type: 'agent_invocation', timestamp: at(when + gap), user_id: u, department_id: users[u]!, agent_name: agent, status: r() < 0.7 ? 'success' : 'failure', invocation_id: id() }));
      }
    }
  }
  // never-created artifacts that are reused, and background invocations for the transfer figures
  for (let i = 0; i < 5; i++) {
    const u = pick(ids);
    out.push(ev({ event_type: 'knowledge_artifact', action: 'reused', timestamp: at(START + r() * span), user_id: u, department_id: users[u]!, artifact_id: `orphan-${i}`, artifact_type: 'prompt', agent_name: 'coder' }));
  }
  for (let i = 0; i < opts.artifacts * 6; i++) {
    const u = pick(ids);
    out.push(ev({ event_type: 'agent_invocation', timestamp: at(START - 30 * DAY + r() * (span + 60 * DAY)), user_id: u, department_id: users[u]!, agent_name: pick(AGENTS), status: r() < 0.75 ? 'success' : 'failure', invocation_id: id() }));
  }
  return out;
}

const t = (e: Ev) => Date.parse(e.timestamp);
const inR = (e: Ev, from: number, to: number) => t(e) >= from && t(e) < to;

export interface Artifact { id: string; author: string; dept: string; created: number; type: string; agent: string }

export function authors(evs: Ev[]): Map<string, Artifact> {
  const m = new Map<string, Artifact>();
  for (const e of evs) {
    if (e.event_type !== 'knowledge_artifact' || e.action !== 'created') continue;
    const cur = m.get(e.artifact_id!);
    if (!cur || t(e) < cur.created) m.set(e.artifact_id!, { id: e.artifact_id!, author: e.user_id, dept: e.department_id, created: t(e), type: e.artifact_type!, agent: e.agent_name });
  }
  return m;
}

const ka = (evs: Ev[]) => evs.filter((e) => e.event_type === 'knowledge_artifact');
/** reuse events in [from, to) by someone other than the author, with the artifact */
function reusesByOthers(evs: Ev[], from: number, to: number) {
  const a = authors(evs);
  return ka(evs)
    .filter((e) => e.action === 'reused' && inR(e, from, to) && a.has(e.artifact_id!) && a.get(e.artifact_id!)!.author !== e.user_id)
    .map((e) => ({ e, art: a.get(e.artifact_id!)! }));
}

export function summary(evs: Ev[], from: number, to: number, dept?: string) {
  const mine = ka(evs).filter((e) => inR(e, from, to) && (!dept || e.department_id === dept));
  const count = (a: string) => mine.filter((e) => e.action === a).length;
  const arts = [...authors(evs).values()].filter((a) => a.created >= from && a.created < to && (!dept || a.dept === dept));
  const reuses = ka(evs).filter((e) => e.action === 'reused');
  let other = 0;
  let cross = 0;
  for (const a of arts) {
    const later = reuses.filter((e) => e.artifact_id === a.id && e.user_id !== a.author && t(e) > a.created);
    if (later.length) other++;
    if (later.some((e) => e.department_id !== a.dept)) cross++;
  }
  return {
    created: count('created'),
    annotated: count('annotated'),
    reused: count('reused'),
    users: new Set(mine.map((e) => e.user_id)).size,
    artifacts_created: arts.length,
    reused_by_others: other,
    reused_cross_department: cross,
    reuse_rate: arts.length ? other / arts.length : null,
    cross_department_reuse_rate: arts.length ? cross / arts.length : null,
  };
}

export function experts(evs: Ev[], from: number, to: number, f: { agent?: string; type?: string; dept?: string; visible?: (user: string) => boolean } = {}) {
  const by = new Map<string, { arts: Set<string>; reusers: Set<string>; reuses: number; depts: Set<string> }>();
  for (const { e, art } of reusesByOthers(evs, from, to)) {
    if (f.agent && art.agent !== f.agent) continue;
    if (f.type && art.type !== f.type) continue;
    if (f.dept && art.dept !== f.dept) continue;
    if (f.visible && !f.visible(art.author)) continue;
    const x = by.get(art.author) ?? { arts: new Set(), reusers: new Set(), reuses: 0, depts: new Set() };
    x.arts.add(art.id);
    x.reusers.add(e.user_id);
    x.depts.add(e.department_id);
    x.reuses++;
    by.set(art.author, x);
  }
  return [...by.entries()]
    .map(([user_id, x]) => ({ user_id, artifacts: x.arts.size, reusers: x.reusers.size, reuses: x.reuses, departments_reached: x.depts.size }))
    .sort((a, b) => b.reusers - a.reusers || b.reuses - a.reuses || (a.user_id < b.user_id ? -1 : 1));
}

export function flow(evs: Ev[], from: number, to: number) {
  const by = new Map<string, { from_department_id: string; to_department_id: string; reuses: number; reusers: Set<string>; authors: Set<string> }>();
  for (const { e, art } of reusesByOthers(evs, from, to)) {
    const k = `${art.dept}→${e.department_id}`;
    const x = by.get(k) ?? { from_department_id: art.dept, to_department_id: e.department_id, reuses: 0, reusers: new Set(), authors: new Set() };
    x.reuses++;
    x.reusers.add(e.user_id);
    x.authors.add(art.author);
    by.set(k, x);
  }
  return [...by.values()]
    .map((x) => ({ from_department_id: x.from_department_id, to_department_id: x.to_department_id, reuses: x.reuses, reusers: x.reusers.size, authors: x.authors.size }))
    .sort((a, b) => b.reuses - a.reuses || a.from_department_id.localeCompare(b.from_department_id) || a.to_department_id.localeCompare(b.to_department_id));
}

export function topArtifacts(evs: Ev[], from: number, to: number) {
  const ok = evs.filter((e) => e.event_type === 'agent_invocation' && e.status === 'success');
  const by = new Map<string, { art: Artifact; reusers: Set<string>; depts: Set<string>; reuses: number; successful: number }>();
  for (const { e, art } of reusesByOthers(evs, from, to)) {
    const x = by.get(art.id) ?? { art, reusers: new Set(), depts: new Set(), reuses: 0, successful: 0 };
    x.reusers.add(e.user_id);
    x.depts.add(e.department_id);
    x.reuses++;
    if (ok.some((i) => i.user_id === e.user_id && t(i) > t(e) && t(i) <= t(e) + HOUR)) x.successful++;
    by.set(art.id, x);
  }
  return [...by.values()].map((x) => ({
    artifact_id: x.art.id, author_id: x.art.author, department_id: x.art.dept, artifact_type: x.art.type, agent_name: x.art.agent,
    reusers: x.reusers.size, departments_reached: x.depts.size, reuses: x.reuses, successful_reuses: x.successful,
  }));
}

export function network(evs: Ev[], from: number, to: number, visible: (user: string) => boolean = () => true) {
  const by = new Map<string, { author_id: string; reuser_id: string; reuses: number; arts: Set<string> }>();
  for (const { e, art } of reusesByOthers(evs, from, to)) {
    if (!visible(art.author) || !visible(e.user_id)) continue;
    const k = `${art.author}→${e.user_id}`;
    const x = by.get(k) ?? { author_id: art.author, reuser_id: e.user_id, reuses: 0, arts: new Set() };
    x.reuses++;
    x.arts.add(art.id);
    by.set(k, x);
  }
  return [...by.values()].map((x) => ({ author_id: x.author_id, reuser_id: x.reuser_id, reuses: x.reuses, artifacts: x.arts.size }));
}

export function timelineByDepartmentDay(evs: Ev[], from: number, to: number) {
  const by = new Map<string, { bucket: string; group: string; created: number; annotated: number; reused: number; users: Set<string> }>();
  for (const e of ka(evs).filter((e) => inR(e, from, to))) {
    const bucket = new Date(Math.floor(t(e) / DAY) * DAY).toISOString();
    const k = `${bucket}|${e.department_id}`;
    const x = by.get(k) ?? { bucket, group: e.department_id, created: 0, annotated: 0, reused: 0, users: new Set() };
    x[e.action!]++;
    x.users.add(e.user_id);
    by.set(k, x);
  }
  return [...by.values()].map(({ users, ...x }) => ({ ...x, users: users.size })).sort((a, b) => a.bucket.localeCompare(b.bucket) || a.group.localeCompare(b.group));
}

/** each source department's first reuse by each person (by someone not the author, on an event of another department) */
export function firstCrossDepartmentReuses(evs: Ev[]): Array<{ src: string; reuser: string; at: number }> {
  const a = authors(evs);
  const first = new Map<string, { src: string; reuser: string; at: number }>();
  for (const e of ka(evs)) {
    if (e.action !== 'reused') continue;
    const art = a.get(e.artifact_id!);
    if (!art || art.author === e.user_id || art.dept === e.department_id) continue;
    const k = `${art.dept}|${e.user_id}`;
    const cur = first.get(k);
    if (!cur || t(e) < cur.at) first.set(k, { src: art.dept, reuser: e.user_id, at: t(e) });
  }
  return [...first.values()];
}

export function transfer(evs: Ev[], from: number, to: number, weeks: number) {
  const first = firstCrossDepartmentReuses(evs);
  const W = weeks * 7 * DAY;
  const inv = evs.filter((e) => e.event_type === 'agent_invocation');
  const out = new Map<string, { reusers: number; both: number; bi: number; bo: number; ai: number; ao: number }>();
  for (const f of first) {
    if (f.at < from || f.at >= to) continue;
    const mine = inv.filter((i) => i.user_id === f.reuser);
    const before = mine.filter((i) => t(i) >= f.at - W && t(i) < f.at);
    const after = mine.filter((i) => t(i) >= f.at && t(i) < f.at + W);
    const x = out.get(f.src) ?? { reusers: 0, both: 0, bi: 0, bo: 0, ai: 0, ao: 0 };
    x.reusers++;
    if (before.length && after.length) x.both++;
    x.bi += before.length;
    x.bo += before.filter((i) => i.status === 'success').length;
    x.ai += after.length;
    x.ao += after.filter((i) => i.status === 'success').length;
    out.set(f.src, x);
  }
  return new Map([...out.entries()].map(([k, x]) => [k, {
    from_department_id: k, reusers: x.reusers, reusers_with_both: x.both, invocations_before: x.bi, invocations_after: x.ai,
    success_rate_before: x.bi ? x.bo / x.bi : null, success_rate_after: x.ai ? x.ao / x.ai : null,
  }]));
}
