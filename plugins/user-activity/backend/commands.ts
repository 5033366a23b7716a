/**
 * Slash-command analytics: common sequences (n-grams within a session),
 * repetitive patterns that suggest an automation, and each command's adoption
 * across departments week by week.
 */
import { bucketExpr, bucketIso, checkBuckets, type TenantContext } from '@orrery/plugin-sdk';
import { departments, round, where, type Filters } from './scope.ts';
import { usageAnswer, usageQuery, type UsageRow } from './usage.ts';

/** Commands of each session in time order (ties broken by event_id, so repeated runs are stable). */
const SESSION_COMMANDS = (whereSql: string) => `
  SELECT user_id, session_id, arrayMap(x -> x.3, arraySort(x -> (x.1, x.2), groupArray((timestamp, event_id, command_name)))) AS cmds
    FROM {db}.events
   WHERE ${whereSql} AND event_type = 'command' AND command_name != '' AND session_id != ''
   GROUP BY user_id, session_id`;

/** The n-grams of a session's commands; `n` names the query parameter that holds n. */
const ngrams = (n = 'n') => `arrayMap(i -> arraySlice(cmds, i, {${n}:UInt8}), range(1, toUInt64(greatest(length(cmds) - {${n}:UInt8} + 2, 1))))`;
const NGRAMS = ngrams();

/** The most frequent n-command sequences run inside one session. */
export async function sequences(ctx: TenantContext, f: Filters, n: number, limit: number) {
  const w = where(f);
  const rows = await ctx.analytics.query<{ seq: string[]; occurrences: number; sessions: number; users: number }>(
    `SELECT seq, count() AS occurrences, uniqExact((user_id, session_id)) AS sessions, uniqExact(user_id) AS users
       FROM (${SESSION_COMMANDS(w.sql)})
      ARRAY JOIN ${NGRAMS} AS seq
      WHERE length(seq) = {n:UInt8}
      GROUP BY seq ORDER BY occurrences DESC, users DESC, seq LIMIT {limit:UInt32}`,
    { ...w.params, n, limit },
  );
  return rows.map((r) => ({ sequence: r.seq, occurrences: Number(r.occurrences), sessions: Number(r.sessions), users: Number(r.users) }));
}

/**
 * Repetitive patterns: a sequence of n commands that one user runs in at least
 * `minSessions` different sessions is work they do by hand again and again — a
 * candidate for a custom command or workflow. A sequence of one command
 * repeated (`/test /test /test`) counts the same way. Ranked by the users who
 * repeat it, then by the sessions it fills.
 */
export async function repetitivePatterns(ctx: TenantContext, f: Filters, n: number, minSessions: number, limit: number) {
  const w = where(f);
  const rows = await ctx.analytics.query<{ seq: string[]; users: number; sessions: number; occurrences: number }>(
    `SELECT seq, count() AS users, sum(s) AS sessions, sum(o) AS occurrences
       FROM (
         SELECT user_id, seq, uniqExact(session_id) AS s, count() AS o
           FROM (${SESSION_COMMANDS(w.sql)})
          ARRAY JOIN ${NGRAMS} AS seq
          WHERE length(seq) = {n:UInt8}
          GROUP BY user_id, seq
         HAVING s >= {min_sessions:UInt32})
      GROUP BY seq ORDER BY users DESC, sessions DESC, seq LIMIT {limit:UInt32}`,
    { ...w.params, n, min_sessions: minSessions, limit },
  );
  return rows.map((r) => patternAnswer(r, n));
}

function patternAnswer(r: { seq: string[]; users: number; sessions: number; occurrences: number }, n: number) {
  const same = new Set(r.seq).size === 1;
  return {
    sequence: r.seq,
    users: Number(r.users),
    sessions: Number(r.sessions),
    occurrences: Number(r.occurrences),
    kind: same ? ('repeated_command' as const) : ('repeated_sequence' as const),
    suggestion: same
      ? `${r.seq[0]} is run ${n} times in a row by ${r.users} user(s) in ${r.sessions} sessions: a loop or a watch mode may replace it`
      : `${r.seq.join(' → ')} is run by hand by ${r.users} user(s) in ${r.sessions} sessions: a candidate for one custom command or workflow`,
  };
}

export interface OverviewOptions {
  limit: number;
  seqN: number;
  seqLimit: number;
  patternN: number;
  minSessions: number;
  patternLimit: number;
}

/** One row per (n, sequence) of the overview: the sequence's figures, the pattern's, and its rank in each list. */
type GramRow = [n: number, seq: string[], occurrences: number, sessions: number, users: number, pUsers: number, pSessions: number, pOccurrences: number, seqRank: number, patternRank: number];

/**
 * What the command-usage widget shows — the top commands, the common
 * sequences and the repetitive patterns — in one query. The three used to be
 * three requests and four scans; a dashboard's requests share the server, so
 * their sum is what a page load waits for.
 *
 * Sequences and patterns come from one pass over the sessions: n-grams are
 * counted per user first, which gives both lists — a sequence's sessions and
 * users are sums over its users (a session belongs to one user), a pattern's
 * the same sums over the users who repeat it in at least `minSessions`
 * sessions. Each list is ranked as its own route ranks it, so the answers are
 * those of `/commands`, `/commands/sequences` and `/commands/patterns`.
 */
export async function commandOverview(ctx: TenantContext, f: Filters, o: OverviewOptions) {
  const grams = o.seqN === o.patternN ? ngrams('seq_n') : `arrayConcat(${ngrams('seq_n')}, ${ngrams('pattern_n')})`;
  const gramsWith = `(SELECT groupArray((n, seq, occurrences, sessions, users, p_users, p_sessions, p_occurrences, seq_rank, pattern_rank)) FROM (
       SELECT *,
              row_number() OVER (PARTITION BY n ORDER BY occurrences DESC, users DESC, seq) AS seq_rank,
              row_number() OVER (PARTITION BY n ORDER BY p_users DESC, p_sessions DESC, seq) AS pattern_rank
         FROM (
           SELECT n, seq, sum(o) AS occurrences, sum(s) AS sessions, count() AS users,
                  countIf(s >= {min_sessions:UInt32}) AS p_users, sumIf(s, s >= {min_sessions:UInt32}) AS p_sessions, sumIf(o, s >= {min_sessions:UInt32}) AS p_occurrences
             FROM (
               SELECT user_id, length(seq) AS n, seq, uniqExact(session_id) AS s, count() AS o
                 FROM (${SESSION_COMMANDS(where(f).sql)})
                ARRAY JOIN ${grams} AS seq
                WHERE length(seq) IN ({seq_n:UInt8}, {pattern_n:UInt8})
                GROUP BY user_id, seq)
            GROUP BY n, seq))
      WHERE (n = {seq_n:UInt8} AND seq_rank <= {seq_limit:UInt32})
         OR (n = {pattern_n:UInt8} AND p_users > 0 AND pattern_rank <= {pattern_limit:UInt32})) AS grams_of_sessions`;
  const q = usageQuery(f, 'command', gramsWith, 'any(grams_of_sessions) AS grams');
  const rows = await ctx.analytics.query<UsageRow & { grams: GramRow[] }>(q.sql, {
    ...q.params,
    seq_n: o.seqN,
    seq_limit: o.seqLimit,
    pattern_n: o.patternN,
    min_sessions: o.minSessions,
    pattern_limit: o.patternLimit,
  });
  const all = (rows[0]?.grams ?? []).map(([n, seq, occurrences, sessions, users, pUsers, pSessions, pOccurrences, seqRank, patternRank]) => ({
    n: Number(n),
    seq,
    occurrences: Number(occurrences),
    sessions: Number(sessions),
    users: Number(users),
    pattern: { seq, users: Number(pUsers), sessions: Number(pSessions), occurrences: Number(pOccurrences) },
    seqRank: Number(seqRank),
    patternRank: Number(patternRank),
  }));
  const seqs = all.filter((g) => g.n === o.seqN && g.seqRank <= o.seqLimit).sort((a, b) => a.seqRank - b.seqRank);
  const pats = all.filter((g) => g.n === o.patternN && g.pattern.users > 0 && g.patternRank <= o.patternLimit).sort((a, b) => a.patternRank - b.patternRank);
  return {
    ...usageAnswer('command', rows, o.limit),
    sequences: { n: o.seqN, sequences: seqs.map((g) => ({ sequence: g.seq, occurrences: g.occurrences, sessions: g.sessions, users: g.users })) },
    patterns: { n: o.patternN, min_sessions: o.minSessions, patterns: pats.map((g) => patternAnswer(g.pattern, o.patternN)) },
  };
}

/**
 * Adoption of commands across departments, week by week: for each command and
 * department, the users who ran it that week, the share of the department's
 * active users that is, and the cumulative adopters since the first week.
 */
export async function commandAdoption(ctx: TenantContext, f: Filters, commands: string[] | null, limit: number) {
  checkBuckets(f.range, 'week');
  const w = where(f, "department_id != ''");
  const week = bucketExpr('timestamp', 'week');
  let names = commands;
  if (!names) {
    const top = await ctx.analytics.query<{ name: string }>(
      `SELECT command_name AS name FROM {db}.events WHERE ${w.sql} AND event_type = 'command' AND command_name != ''
        GROUP BY name ORDER BY count() DESC, name LIMIT {limit:UInt32}`,
      { ...w.params, limit },
    );
    names = top.map((t) => t.name);
  }
  if (!names.length) return { commands: [], departments: [] };
  const active = await ctx.analytics.query<{ department_id: string; week: string; users: number }>(
    `SELECT department_id, ${week} AS week, uniqExact(user_id) AS users FROM {db}.events WHERE ${w.sql} GROUP BY department_id, week`,
    w.params,
  );
  const used = await ctx.analytics.query<{ command: string; department_id: string; week: string; users: number; first_users: number }>(
    `SELECT command, department_id, week, uniqExact(user_id) AS users, uniqExactIf(user_id, week = first_week) AS first_users
       FROM (
         SELECT command_name AS command, department_id, user_id, ${week} AS week,
                min(${week}) OVER (PARTITION BY command_name, department_id, user_id) AS first_week
           FROM {db}.events WHERE ${w.sql} AND event_type = 'command' AND command_name IN {names:Array(String)})
      GROUP BY command, department_id, week ORDER BY command, department_id, week`,
    { ...w.params, names },
  );
  const activeKey = new Map(active.map((a) => [`${a.department_id}|${a.week}`, Number(a.users)]));
  const deptNames = new Map((await departments(ctx)).map((d) => [d.id, d.name]));
  const out = new Map<string, Map<string, Array<{ week: string; users: number; share_of_active: number; cumulative_adopters: number }>>>();
  const cumulative = new Map<string, number>();
  for (const r of used) {
    const key = `${r.command}|${r.department_id}`;
    const cum = (cumulative.get(key) ?? 0) + Number(r.first_users);
    cumulative.set(key, cum);
    const byDept = out.get(r.command) ?? new Map();
    out.set(r.command, byDept);
    const series = byDept.get(r.department_id) ?? [];
    byDept.set(r.department_id, series);
    const act = activeKey.get(`${r.department_id}|${r.week}`) ?? 0;
    series.push({ week: bucketIso(r.week, f.range.tz), users: Number(r.users), share_of_active: act ? round(Number(r.users) / act, 4) : 0, cumulative_adopters: cum });
  }
  return {
    commands: names.map((c) => ({
      command: c,
      departments: [...(out.get(c) ?? new Map()).entries()].map(([department_id, series]) => ({ department_id, name: deptNames.get(department_id) ?? null, series })),
    })),
  };
}
