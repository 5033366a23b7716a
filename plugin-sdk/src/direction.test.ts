import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The SDK sits below the kernel: the kernel and the test harness
// (@orrery/backend-test-utils) import the SDK, never the other way round.
const SELF = fileURLToPath(import.meta.url);
const SDK = resolve(dirname(SELF), '..');
const KERNEL_SPECIFIER = /^(@orrery\/(core|backend-test-utils)(\/.*)?|(\.\.\/)+core(\/.*)?)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'dist') return [];
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx|mjs|js)$/.test(e.name) ? [p] : [];
  });
}

/** every module specifier a file names: static imports, re-exports, dynamic imports and require */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const re of [/\bfrom\s+['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\s+['"]([^'"]+)['"]/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g]) {
    for (const m of text.matchAll(re)) found.push(m[1]!);
  }
  return found;
}

describe('package direction', () => {
  it('finds imports of every form (the check itself works)', () => {
    const sample = "import { a } from '@orrery/core';\nexport * from \"../../core/src/kernel.ts\";\nconst k = await import('@orrery/backend-test-utils');\nimport '@orrery/core/side-effect';";
    expect(specifiers(sample).filter((s) => KERNEL_SPECIFIER.test(s)).sort()).toEqual(['../../core/src/kernel.ts', '@orrery/backend-test-utils', '@orrery/core', '@orrery/core/side-effect']);
    expect(KERNEL_SPECIFIER.test('@orrery/plugin-sdk')).toBe(false);
    expect(KERNEL_SPECIFIER.test('./core.ts')).toBe(false);
  });

  it('no file of the SDK imports the kernel or the test harness', () => {
    // this file names the forbidden packages in its sample, so it is the one file left out
    const files = sourceFiles(SDK).filter((f) => f !== SELF);
    expect(files.length).toBeGreaterThan(20);
    const offending = files.flatMap((f) =>
      specifiers(readFileSync(f, 'utf8'))
        .filter((s) => KERNEL_SPECIFIER.test(s))
        .map((s) => `${relative(SDK, f)} imports ${s}`),
    );
    expect(offending).toEqual([]);
  });
});
