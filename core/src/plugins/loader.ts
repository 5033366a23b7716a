import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import semver from 'semver';
import { SDK_VERSION, ROLES, TIME_RANGE_PRESETS, defineRollup, type PluginDeclaration, type RouteDecl, type JobDecl, type EventHandlerDecl, type BusSubscriptionDecl, type DemoDataDecl } from '@orrery/plugin-sdk';

/** A declaration the loader accepted, with what its register step declared. */
export interface LoadedPlugin {
  decl: PluginDeclaration;
  routes: RouteDecl[];
  jobs: JobDecl[];
  handlers: EventHandlerDecl[];
  /** bus subscriptions (`env.onBus`) */
  busHandlers: BusSubscriptionDecl[];
  /** demo data seeders (`env.onDemoData`) */
  demoSeeders: DemoDataDecl[];
  /** where the plugin came from (folder or module) */
  source: string;
}

export interface RefusedPlugin {
  id: string;
  source: string;
  error: string;
}

/** Folders holding a plugin: `plugins/*` of the repository plus any configured paths. */
export function discoverPluginFolders(roots: string[]): string[] {
  const out: string[] = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    if (existsSync(join(root, 'package.json')) && isPluginPackage(root)) {
      out.push(root);
      continue;
    }
    for (const name of readdirSync(root).sort()) {
      const dir = join(root, name);
      if (existsSync(join(dir, 'package.json')) && isPluginPackage(dir)) out.push(dir);
    }
  }
  return out;
}

function isPluginPackage(dir: string) {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return !!pkg.orrery?.backend;
  } catch {
    return false;
  }
}

/** Imports a plugin folder's declaration: package.json `orrery.backend` names the module. */
export async function importPlugin(dir: string): Promise<unknown> {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const entry = resolve(dir, pkg.orrery.backend);
  const mod = await import(pathToFileURL(entry).href);
  const decl = mod.default ?? mod.plugin;
  if (decl && typeof decl === 'object' && !decl.root) return { ...decl, root: dir };
  return decl;
}

const ID = /^[a-z][a-z0-9-]{1,62}$/;
const PREFIX = /^[a-z][a-z0-9-]*(\/[a-z][a-z0-9-]*)*$/;
const RESERVED_PREFIXES = ['auth', 'me', 'tokens', 'orgs', 'events', 'plugins', 'admin', 'docs'];

/**
 * `admin/<routePrefix>` (and below it) belongs to the plugin of that prefix: the seeds put a
 * feature's Admin actions there (e.g. `POST /api/v1/admin/alerts/test`), while the rest of
 * `admin/` stays the kernel's.
 */
function ownAdminPrefix(x: string, routePrefix: unknown): boolean {
  return typeof routePrefix === 'string' && (x === `admin/${routePrefix}` || x.startsWith(`admin/${routePrefix}/`));
}

/**
 * Checks a declaration and runs its register step. Every problem is reported
 * in one message naming the plugin and the field, so an author can fix it in
 * one go; a refused plugin never takes the others down.
 */
export function checkDeclaration(raw: unknown, source: string, taken: { ids: Set<string>; prefixes: Map<string, string> }): LoadedPlugin {
  const problems: string[] = [];
  const d = raw as PluginDeclaration;
  if (!d || typeof d !== 'object') throw new Error(`${source}: does not export a plugin declaration (use definePlugin)`);
  const id = typeof d.id === 'string' ? d.id : '(no id)';
  if (!ID.test(d.id ?? '')) problems.push('id must be lower-case letters, digits and dashes');
  else if (taken.ids.has(d.id)) problems.push(`id "${d.id}" is used by another plugin`);
  if (typeof d.version !== 'string' || !semver.valid(d.version)) problems.push('version must be a semver version');
  if (typeof d.sdk !== 'string' || !semver.validRange(d.sdk)) problems.push('sdk must be a semver range');
  else if (!semver.satisfies(SDK_VERSION, d.sdk)) problems.push(`was built for SDK ${d.sdk}, this platform has SDK ${SDK_VERSION}`);
  if (typeof d.title !== 'string' || !d.title) problems.push('title is required');
  if (typeof d.routePrefix !== 'string' || !PREFIX.test(d.routePrefix)) problems.push('routePrefix must be a path like "agents"');
  else if (RESERVED_PREFIXES.includes(d.routePrefix.split('/')[0]!)) problems.push(`routePrefix "${d.routePrefix}" is reserved by the kernel`);
  else if (taken.prefixes.has(d.routePrefix)) problems.push(`routePrefix "${d.routePrefix}" is already mounted by ${taken.prefixes.get(d.routePrefix)}`);
  const extraPrefixes = d.extraRoutePrefixes ?? [];
  if (!Array.isArray(extraPrefixes)) problems.push('extraRoutePrefixes must be a list of paths');
  else
    for (const x of extraPrefixes) {
      if (typeof x !== 'string' || !PREFIX.test(x)) problems.push(`extraRoutePrefixes: "${x}" must be a path like "metrics/dau"`);
      else if (RESERVED_PREFIXES.includes(x.split('/')[0]!) && !ownAdminPrefix(x, d.routePrefix)) problems.push(`extraRoutePrefixes: "${x}" is reserved by the kernel`);
      else if (taken.prefixes.has(x)) problems.push(`extraRoutePrefixes: "${x}" is already mounted by ${taken.prefixes.get(x)}`);
      else if (x === d.routePrefix || extraPrefixes.indexOf(x) !== extraPrefixes.lastIndexOf(x)) problems.push(`extraRoutePrefixes: "${x}" is listed twice`);
    }
  if (!d.permissions || typeof d.permissions !== 'object') problems.push('permissions must map names to roles');
  else
    for (const [name, roles] of Object.entries(d.permissions)) {
      if (!Array.isArray(roles) || roles.some((r) => !ROLES.includes(r))) problems.push(`permission "${name}" must list roles from ${ROLES.join(', ')}`);
    }
  if (typeof d.register !== 'function') problems.push('register(env) is required');
  problems.push(...contractProblems(d));
  if (typeof d.root === 'string') problems.push(...kernelReachInSource(d.root));
  for (const w of d.frontend?.widgets ?? []) {
    if (!w.id || !w.title) problems.push('every widget needs id and title');
    if (!['S', 'M', 'L', 'F'].includes(w.defaultSize)) problems.push(`widget "${w.id}" defaultSize must be S, M, L or F`);
    for (const r of w.suggestedFor ?? []) {
      if (!w.roles?.includes(r)) problems.push(`widget "${w.id}" is suggested for ${r}, who may not use it (roles: ${(w.roles ?? []).join(', ') || 'none'})`);
    }
    if (w.defaultTimeRange !== undefined && !(TIME_RANGE_PRESETS as readonly string[]).includes(w.defaultTimeRange)) {
      problems.push(`widget "${w.id}" defaultTimeRange must be one of ${TIME_RANGE_PRESETS.join(', ')}`);
    }
  }
  const pageIds = new Set<string>();
  for (const pg of d.frontend?.pages ?? []) {
    if (!pg.id || !/^[a-z0-9][a-z0-9-]*$/.test(pg.id)) problems.push(`page "${pg.id}" needs a URL-safe id ([a-z0-9-])`);
    if (!pg.title) problems.push(`page "${pg.id}" needs a title`);
    if (pageIds.has(pg.id)) problems.push(`page "${pg.id}" is declared twice`);
    pageIds.add(pg.id);
    if (!Array.isArray(pg.roles) || pg.roles.some((r) => !ROLES.includes(r))) problems.push(`page "${pg.id}" must list roles from ${ROLES.join(', ')}`);
  }
  if (d.rollups !== undefined && !Array.isArray(d.rollups)) problems.push('rollups must be a list of defineRollup(...) declarations');
  for (const [i, r] of (Array.isArray(d.rollups) ? d.rollups : []).entries()) {
    // defineRollup checks the cascade; a hand-written object is checked the same way here
    try {
      defineRollup(r);
    } catch (err) {
      problems.push(`rollups[${i}]: ${(err as Error).message}`);
    }
    if (d.rollups!.findIndex((x) => x.name === r.name) !== i) problems.push(`rollups: "${r.name}" is declared twice`);
  }
  if (problems.length) throw new Error(`plugin ${id} (${source}) refused: ${problems.join('; ')}`);

  const routes: RouteDecl[] = [];
  const jobs: JobDecl[] = [];
  const handlers: EventHandlerDecl[] = [];
  const busHandlers: BusSubscriptionDecl[] = [];
  const demoSeeders: DemoDataDecl[] = [];
  try {
    d.register({
      route: (r) => void routes.push(r as RouteDecl),
      job: (j) => void jobs.push(j),
      onEvents: (h) => void handlers.push(h),
      onBus: (b) => void busHandlers.push(b),
      onDemoData: (x) => void demoSeeders.push(x),
    });
  } catch (err) {
    throw new Error(`plugin ${id} (${source}) refused: register() threw: ${(err as Error).message}`, { cause: err });
  }
  const declared = new Set([...Object.keys(d.permissions), 'public', 'authenticated']);
  for (const r of routes) {
    if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method)) problems.push(`route ${r.path}: method ${r.method} is not supported`);
    if (typeof r.path !== 'string' || !r.path.startsWith('/')) problems.push(`route ${r.path}: path must start with /`);
    if (!declared.has(r.permission)) problems.push(`route ${r.method} ${r.path}: permission "${r.permission}" is not declared in permissions`);
    if (typeof r.handler !== 'function') problems.push(`route ${r.method} ${r.path}: handler is missing`);
    if (!r.summary) problems.push(`route ${r.method} ${r.path}: summary is required (it documents the route)`);
    if (r.prefix !== undefined && r.prefix !== d.routePrefix && !(Array.isArray(extraPrefixes) && extraPrefixes.includes(r.prefix)))
      problems.push(`route ${r.method} ${r.path}: prefix "${r.prefix}" is neither routePrefix nor one of extraRoutePrefixes`);
  }
  for (const j of jobs) if (!(j.everySeconds >= 1)) problems.push(`job ${j.name}: everySeconds must be at least 1`);
  for (const [i, b] of busHandlers.entries()) {
    if (!Array.isArray(b.topics) || !b.topics.length || b.topics.some((t) => typeof t !== 'string' || !t || (t.includes('*') && !t.endsWith('*'))))
      problems.push(`onBus[${i}]: topics must be a non-empty list of topic names or prefixes ending in *`);
    if (typeof b.handle !== 'function') problems.push(`onBus[${i}]: handle is missing`);
  }
  for (const [i, x] of demoSeeders.entries()) if (typeof x.run !== 'function' || !x.description) problems.push(`onDemoData[${i}]: description and run are required`);
  if (problems.length) throw new Error(`plugin ${id} (${source}) refused: ${problems.join('; ')}`);
  taken.ids.add(d.id);
  taken.prefixes.set(d.routePrefix, d.id);
  for (const x of extraPrefixes) taken.prefixes.set(x, d.id);
  return { decl: d, routes, jobs, handlers, busHandlers, demoSeeders, source };
}

/** `provides` and `needs` are lists built with the SDK's `provide` and `need`. */
function contractProblems(d: PluginDeclaration): string[] {
  const problems: string[] = [];
  const refOk = (r: unknown): r is { id: string; version: string } => !!r && typeof (r as any).id === 'string' && ID.test((r as any).id) && typeof (r as any).version === 'string';
  if (d.provides !== undefined && !Array.isArray(d.provides)) problems.push('provides must be a list of provide(ref, factory)');
  const seen = new Set<string>();
  for (const s of Array.isArray(d.provides) ? d.provides : []) {
    if (!refOk(s?.ref) || !semver.valid(s.ref.version)) problems.push('provides: every entry needs a ref made with createServiceRef (an id and a semver version)');
    else if (typeof s.factory !== 'function') problems.push(`provides "${s.ref.id}": factory must be a function of the tenant context`);
    else if (seen.has(s.ref.id)) problems.push(`provides "${s.ref.id}" twice`);
    else seen.add(s.ref.id);
  }
  if (d.needs !== undefined && !Array.isArray(d.needs)) problems.push('needs must be a list of need(ref, range)');
  for (const n of Array.isArray(d.needs) ? d.needs : []) {
    if (!refOk(n?.ref)) problems.push('needs: every entry needs a ref made with createServiceRef');
    else if (typeof n.range !== 'string' || !semver.validRange(n.range)) problems.push(`needs "${n.ref.id}": range must be a semver range (got ${JSON.stringify(n.range)})`);
    else if (n.from !== undefined && (typeof n.from !== 'string' || !ID.test(n.from))) problems.push(`needs "${n.ref.id}": from must be a plugin id`);
  }
  return problems;
}

/**
 * What in a plugin's backend code reaches past the SDK into the kernel: raw knex on the
 * tenant database, the `public` schema (users, memberships, settings), the kernel's
 * modules. The tenant database refuses it at run time too; this refuses it at load, so
 * the author hears of it before any request.
 */
const REACH: Array<[RegExp, string]> = [
  [/\.db\.knex\b/, 'uses ctx.db.knex (raw knex is not part of the SDK: use ctx.db.table / ctx.db.raw, and ctx.directory for people)'],
  [/withSchema\(\s*['"`]public['"`]\s*\)/, "reads the kernel's public schema (use ctx.directory)"],
  [/['"`][^'"`\n]*\bpublic\s*\.\s*"?(users|memberships|orgs|plugin_settings|api_tokens|refresh_tokens|job_runs|invitations|user_identities)\b/, "names a kernel table of the public schema (use ctx.directory)"],
  [/from\s+['"](@orrery\/core|[./]+\/core\/)[^'"]*['"]/, 'imports the kernel (plugins import @orrery/plugin-sdk only)'],
];

export function kernelReachInSource(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|tsx|js|mjs)$/.test(name) && !/\.test\.|\.d\.ts$/.test(name)) {
        const text = readFileSync(path, 'utf8');
        for (const [re, why] of REACH) {
          const m = re.exec(text);
          if (m) out.push(`${path.slice(root.length + 1)}:${text.slice(0, m.index).split('\n').length} ${why}`);
        }
      }
    }
  };
  walk(join(root, 'backend'));
  return out;
}
