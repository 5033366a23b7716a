import { readFileSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { parse } from 'yaml';
import AjvModule from 'ajv';
import { appConfigSchema, type AppConfig } from './schema.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;

/** A config problem: one line that names the key and what was expected. */
export class ConfigError extends Error {}

/**
 * `${VAR}` and `${VAR:-default}` substitution (Backstage style). A key whose
 * whole value is an unset variable without a default is dropped, so the
 * schema's default applies.
 */
export function substitute(value: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Z0-9_]+)(?::-(.*))?\}$/.exec(value);
    if (whole) {
      const v = env[whole[1]!];
      if ((v === undefined || v === '') && whole[2] === undefined) return undefined;
      return coerce(v !== undefined && v !== '' ? v : whole[2]!);
    }
    return value.replace(/\$\{([A-Z0-9_]+)(?::-([^}]*))?\}/g, (_, name: string, def?: string) => {
      const v = env[name];
      return v !== undefined && v !== '' ? v : (def ?? '');
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, env)).filter((v) => v !== undefined);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, substitute(v, env)] as const)
        .filter(([, v]) => v !== undefined),
    );
  }
  return value;
}

/** A whole-value substitution keeps YAML's types: "7007" → 7007, "false" → false. */
function coerce(raw: string): unknown {
  if (/^-?\d+$/.test(raw)) return Number(raw);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  return raw;
}

/**
 * `ORRERY__SECTION__KEY=value` overrides any key (double underscore separates
 * levels), for settings that app-config.yaml does not template.
 */
function applyEnvOverrides(cfg: Record<string, any>, env: NodeJS.ProcessEnv) {
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('ORRERY__') || value === undefined) continue;
    const path = name.slice('ORRERY__'.length).split('__').map(camel);
    let node = cfg;
    for (const key of path.slice(0, -1)) node = node[key] ??= {};
    node[path.at(-1)!] = coerce(value);
  }
}
const camel = (s: string) => s.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export interface LoadOptions {
  /** path of app-config.yaml; default: $ORRERY_CONFIG or ./app-config.yaml */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** deep-merged over the file (tests use this) */
  overrides?: Record<string, unknown>;
}

export function loadConfig(opts: LoadOptions = {}): AppConfig & { configDir: string } {
  const env = opts.env ?? process.env;
  const file = resolve(opts.file ?? env.ORRERY_CONFIG ?? 'app-config.yaml');
  let raw: Record<string, any> = {};
  if (existsSync(file)) {
    try {
      raw = (parse(readFileSync(file, 'utf8')) as Record<string, any>) ?? {};
    } catch (err) {
      throw new ConfigError(`config: ${file} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const cfg = substitute(raw, env) as Record<string, any>;
  applyEnvOverrides(cfg, env);
  if (opts.overrides) deepMerge(cfg, opts.overrides);
  for (const k of ['server', 'storage', 'auth', 'bootstrap']) cfg[k] ??= {};
  validateConfig(cfg);
  return Object.assign(cfg as AppConfig, { configDir: dirname(file) });
}

export function validateConfig(cfg: unknown): asserts cfg is AppConfig {
  const ajv = new Ajv({ useDefaults: true, allErrors: false, coerceTypes: false, verbose: true });
  const validate = ajv.compile(appConfigSchema);
  if (!validate(cfg)) {
    throw new ConfigError(describe(validate.errors![0]));
  }
}

/** Turns an ajv error into `config key server.port: must be integer (got "abc")`. */
export function describe(e: { instancePath: string; message?: string; params?: any; data?: unknown }, prefix = ''): string {
  let key = (prefix + e.instancePath).replace(/^\//, '').replace(/\//g, '.');
  if (e.params?.additionalProperty) key = key ? `${key}.${e.params.additionalProperty}` : e.params.additionalProperty;
  if (e.params?.missingProperty) key = key ? `${key}.${e.params.missingProperty}` : e.params.missingProperty;
  const got = e.params?.additionalProperty ? 'is not a known setting' : `${e.message}${e.data !== undefined && typeof e.data !== 'object' ? ` (got ${JSON.stringify(e.data)})` : ''}`;
  return `config key ${key || '(root)'}: ${got}`;
}

function deepMerge(target: Record<string, any>, src: Record<string, any>) {
  for (const [k, v] of Object.entries(src)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object') deepMerge(target[k], v);
    else target[k] = v;
  }
}
