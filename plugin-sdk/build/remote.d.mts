/** Types of remote.mjs for TypeScript callers (tests, scripts). */
export function exposesOf(file: string): Record<string, string>;
export function createRemoteConfig(o: {
  name: string;
  root: string;
  widgets?: string;
  exposes?: Record<string, string>;
  outDir?: string;
  mode?: 'production' | 'development';
}): Record<string, unknown>;
