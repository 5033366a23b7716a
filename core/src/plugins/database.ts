/**
 * The database a plugin sees: its org's schema, its own tables. The kernel's
 * tables sit in the same schema (departments, audit log…) and in `public`
 * (users, memberships…); a plugin reads people through `ctx.directory`, so
 * naming a kernel table or another schema here is refused with an error that
 * says where to look instead.
 */
import type { Knex } from 'knex';
import type { TenantDatabase } from '@orrery/plugin-sdk';

/** Kernel tables in every org's schema (tenancy, notifications, ingestion). */
export const KERNEL_ORG_TABLES = ['departments', 'department_members', 'audit_log', 'org_settings', 'notifications'];
const KERNEL_ORG_PREFIXES = ['ingestion_', 'orrery_'];

export const isKernelTable = (name: string) => KERNEL_ORG_TABLES.includes(name) || KERNEL_ORG_PREFIXES.some((p) => name.startsWith(p));

export class KernelTableError extends Error {}

const refuse = (what: string) =>
  new KernelTableError(`${what}: a plugin reaches only its own tables in the org's schema (people and departments: ctx.directory)`);

/** a table named in SQL after FROM / JOIN / INTO / UPDATE, with its schema when qualified */
const TABLE_REF = /\b(?:from|join|into|update|table)\s+((?:"[^"]+"|[a-z_][a-z0-9_$]*)(?:\s*\.\s*(?:"[^"]+"|[a-z_][a-z0-9_$]*))?)/gi;
const unquote = (s: string) => s.replace(/"/g, '').trim();

/** Why a piece of SQL is refused, or null. `??` bindings are resolved first. */
export function kernelReach(sql: string, bindings: readonly unknown[], schema: string): string | null {
  let i = 0;
  // positional bindings: `??` identifiers are what knex will quote; `?` values never name tables
  const resolved = sql
    .replace(/\?\??/g, (m) => {
      const v = bindings[i++];
      return m === '??' ? `"${String(v).replace(/\./g, '"."')}"` : "''";
    })
    // text in quotes names nothing
    .replace(/'(?:[^']|'')*'/g, "''");
  for (const m of resolved.matchAll(TABLE_REF)) {
    const parts = m[1]!.split('.').map(unquote);
    const [sch, table] = parts.length === 2 ? parts : [null, parts[0]!];
    if (sch !== null && sch !== schema) return `SQL names ${sch}.${table}`;
    if (isKernelTable(table!)) return `SQL names the kernel's table ${table}`;
  }
  if (/\b(?:public|pg_catalog|information_schema)\s*\./i.test(resolved)) return 'SQL names another schema';
  return null;
}

export function pluginDatabase(knex: Knex, schema: string): TenantDatabase {
  return {
    schema,
    table(name: string) {
      if (name.includes('.')) throw refuse(`table "${name}" names a schema`);
      if (isKernelTable(name.split(/\s+as\s+/i)[0]!.trim())) throw refuse(`table "${name}" is the kernel's`);
      return knex.withSchema(schema).table(name);
    },
    raw(sql: string, bindings: readonly unknown[] = []) {
      const why = kernelReach(sql, bindings, schema);
      if (why) throw refuse(why);
      return knex.raw(sql, bindings as Knex.RawBinding[]);
    },
    transaction: (fn) => knex.transaction(fn),
  };
}
