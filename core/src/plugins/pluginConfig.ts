import AjvModule from 'ajv';
import { describeConfigError } from '@orrery/config';
import type { Internals } from '../internals.ts';
import type { LoadedPlugin } from './loader.ts';

const Ajv = (AjvModule as any).default ?? AjvModule;

/** Validates the plugin's slice of app-config.yaml against its schema, filling defaults. */
export function pluginConfig(config: Internals['config'], p: LoadedPlugin): Record<string, unknown> {
  const slice = structuredClone(config.plugins?.[p.decl.id] ?? {});
  if (!p.decl.configSchema) return slice;
  const validate = new Ajv({ useDefaults: true }).compile(p.decl.configSchema);
  if (!validate(slice)) throw new Error(describeConfigError(validate.errors![0], `plugins/${p.decl.id}`));
  return slice;
}
