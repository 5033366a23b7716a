import { describe, expect, it } from 'vitest';
import { kernelReach } from './database.ts';

describe("the tenant database's guard on raw SQL", () => {
  const schema = 'org_acme';
  it("lets a plugin's own queries through, qualified with its schema or not", () => {
    for (const [sql, b] of [
      ['select * from ??.adoption_scores sc cross join lateral jsonb_array_elements_text(sc.departments) as dept(id) where sc.day >= ?', [schema, '2026-01-01']],
      ["to_char(day, 'YYYY-MM-DD') as day", []],
      ['UPDATE ??.adoption_flags AS f SET x = 1 FROM (VALUES (?, ?)) AS v(id, t) WHERE f.id = v.id', [schema, 'a', 'b']],
      ['exists (select 1 from ??.adoption_assignments a where a.flag_id = f.id)', [schema]],
      ["select 'from public.users is only text' as note from my_table", []],
    ] as Array<[string, unknown[]]>)
      expect(kernelReach(sql, b, schema), sql).toBeNull();
  });

  it("refuses other schemas and the kernel's tables, however they are named", () => {
    for (const [sql, b] of [
      ['select email from public.users', []],
      ['select email from "public"."users"', []],
      ['select email from ??.users', ['public']],
      ['select * from ??', ['public.memberships']],
      ['select * from ??.my_table', ['org_other']],
      ['select * from department_members', []],
      ['select * from ??.departments join x on true', [schema]],
      ['insert into audit_log (action) values (?)', ['x']],
      ['select * from ingestion_quarantine', []],
    ] as Array<[string, unknown[]]>)
      expect(kernelReach(sql, b, schema), sql).not.toBeNull();
  });
});
