import { describe, it, expect } from 'vitest';
import { PriceTable, applyCost } from '../cost.ts';
import { maskPii, applyPrivacy, DEFAULT_PRIVACY } from '../privacy.ts';

describe('cost', () => {
  const at = '2026-01-10T00:00:00Z';
  it('prices input, cached input and output separately', () => {
    const e: Record<string, unknown> = { timestamp: at, model_used: 'claude-sonnet-4-5-20250929', input_tokens: 1_000_000, cached_input_tokens: 400_000, output_tokens: 100_000 };
    expect(applyCost(e, new PriceTable())).toBe('computed');
    // 600k * 3 + 400k * 0.3 + 100k * 15, per million
    expect(e.cost_usd).toBeCloseTo(1.8 + 0.12 + 1.5, 9);
  });
  it('keeps the caller cost', () => {
    const e: Record<string, unknown> = { timestamp: at, model_used: 'gpt-4o', input_tokens: 10, output_tokens: 10, cost_usd: 0.5 };
    expect(applyCost(e, new PriceTable())).toBe('caller');
    expect(e.cost_usd).toBe(0.5);
  });
  it('prefers the most specific pattern, org rows and effective dates', () => {
    const t = new PriceTable([{ model_pattern: 'gpt-4o*', effective_from: '2026-01-01', input_per_mtok: 1, output_per_mtok: 1, cached_input_per_mtok: 1 }]);
    expect(t.lookup('gpt-4o-mini', Date.parse(at))?.source).toBe('org');
    expect(t.lookup('gpt-4o-mini', Date.parse('2025-06-01'))?.input_per_mtok).toBe(0.15);
    expect(t.lookup('claude-opus-4-5', Date.parse(at))?.input_per_mtok).toBe(5);
    expect(t.lookup('claude-opus-4-5', Date.parse('2025-08-01'))?.input_per_mtok).toBe(15);
    const e: Record<string, unknown> = { timestamp: at, model_used: 'mystery', input_tokens: 5 };
    expect(applyCost(e, t)).toBe('unpriced');
  });
});

describe('privacy', () => {
  const all = DEFAULT_PRIVACY.mask;
  it('masks emails, phones, cards (Luhn) and API keys', () => {
    const s = maskPii('mail bob.smith@example.co.uk, call +1 415-555-0132, card 4111 1111 1111 1111, order 1234567890123, key sk-ant-REDACTEDabcdefghijklmnop, year 2026', all);
    expect(s).toContain('[REDACTED:email]');
    expect(s).toContain('[REDACTED:phone]');
    expect(s).toContain('[REDACTED:card]');
    expect(s).toContain('[REDACTED:api_key]');
    expect(s).not.toContain('4111');
    expect(s).toContain('year 2026');
  });
  it('drops or masks payloads per settings and records it', () => {
    const e: Record<string, unknown> = { input_payload: 'write to a@b.io', output_payload: 'ok' };
    expect(applyPrivacy(e, { ...DEFAULT_PRIVACY, payloads: 'mask' })).toEqual(['input_payload:pii_masked']);
    expect(e.input_payload).toBe('write to [REDACTED:email]');
    const d: Record<string, unknown> = { input_payload: 'x', output_payload: 'y' };
    applyPrivacy(d, { ...DEFAULT_PRIVACY, payloads: 'drop' });
    expect(d).toEqual({});
  });
});
