import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginDeclaration } from './types.ts';

/**
 * Declares a backend plugin. Pass `import.meta.url` of the declaring module as
 * `from` so the kernel can find the plugin's folder (migrations, frontend dist).
 */
export function definePlugin<TConfig = Record<string, unknown>>(
  decl: Omit<PluginDeclaration<TConfig>, 'root'> & { from?: string },
): PluginDeclaration<TConfig> {
  const { from, ...rest } = decl;
  const root = from ? dirname(dirname(fileURLToPath(from))) : undefined;
  return Object.freeze({ ...rest, root }) as PluginDeclaration<TConfig>;
}
