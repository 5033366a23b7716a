import { describe, expect, it } from 'vitest';
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe("the lint on plugins' code", () => {
  it("refuses raw knex and the kernel's public schema (inline disables ignored)", async () => {
    const eslint = new ESLint({ cwd: REPO, overrideConfig: { linterOptions: { noInlineConfig: true } } });
    const [result] = await eslint.lintFiles([resolve(REPO, 'core/test/fixtures/plugins/reaches-kernel/backend/index.ts')]);
    const messages = result!.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${m.line}: ${m.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^22: the public schema is the kernel's/),
      expect.stringMatching(/^22: raw knex is not part of the SDK/),
      expect.stringMatching(/^23: the public schema is the kernel's/),
    ]);
  });

  it('passes the third-party fixture that builds on other plugins, which imports the public SDK only', async () => {
    const file = resolve(REPO, 'core/test/fixtures/plugins/metric-consumer/backend/index.ts');
    const eslint = new ESLint({ cwd: REPO, overrideConfig: { linterOptions: { noInlineConfig: true } } });
    const [result] = await eslint.lintFiles([file]);
    expect(result!.messages.filter((m) => m.severity === 2).map((m) => `${m.line}: ${m.message}`)).toEqual([]);
    const imported = [...readFileSync(file, 'utf8').matchAll(/\bfrom\s+'([^']+)'|\bimport\s*\(\s*'([^']+)'\s*\)/g)].map((m) => m[1] ?? m[2]);
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((s) => !/^@orrery\/plugin-sdk(\/(contract|frontend|client))?$/.test(s!))).toEqual([]);
  });

  it("passes the first-party plugins' backends", async () => {
    const eslint = new ESLint({ cwd: REPO });
    const results = await eslint.lintFiles(['plugins/*/backend/**/*.ts'].map((g) => resolve(REPO, g)));
    expect(results.flatMap((r) => r.messages.filter((m) => m.severity === 2).map((m) => `${r.filePath}:${m.line} ${m.message}`))).toEqual([]);
  });
});
