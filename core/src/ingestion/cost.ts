/**
 * Model prices and cost at ingestion. An event with tokens and no `cost_usd`
 * gets a cost from the price table; a cost the caller sent always wins (they
 * may have negotiated prices or batch discounts we cannot see).
 *
 * Prices are USD per million tokens, per usage type. A row applies to models
 * whose name matches its glob pattern (case-insensitive, `*` = any run of
 * characters) from its effective date on, so a price change never rewrites the
 * cost of earlier events. Org rows beat defaults; among matches the most
 * specific pattern (most literal characters) wins, then the latest date.
 */

export interface ModelPrice {
  id?: string;
  model_pattern: string;
  /** ISO date (inclusive) from which the price applies */
  effective_from: string;
  input_per_mtok: number;
  output_per_mtok: number;
  cached_input_per_mtok: number;
  source?: 'default' | 'org';
}

/** List prices (USD / 1M tokens) shipped as defaults; orgs override through the API. */
export const DEFAULT_PRICES: readonly ModelPrice[] = [
  { model_pattern: 'claude-opus-4*', effective_from: '2025-05-22', input_per_mtok: 15, output_per_mtok: 75, cached_input_per_mtok: 1.5 },
  { model_pattern: 'claude-opus-4-5*', effective_from: '2025-11-24', input_per_mtok: 5, output_per_mtok: 25, cached_input_per_mtok: 0.5 },
  { model_pattern: 'claude-sonnet-4*', effective_from: '2025-05-22', input_per_mtok: 3, output_per_mtok: 15, cached_input_per_mtok: 0.3 },
  { model_pattern: 'claude-3-7-sonnet*', effective_from: '2025-02-24', input_per_mtok: 3, output_per_mtok: 15, cached_input_per_mtok: 0.3 },
  { model_pattern: 'claude-3-5-sonnet*', effective_from: '2024-06-20', input_per_mtok: 3, output_per_mtok: 15, cached_input_per_mtok: 0.3 },
  { model_pattern: 'claude-haiku-4-5*', effective_from: '2025-10-15', input_per_mtok: 1, output_per_mtok: 5, cached_input_per_mtok: 0.1 },
  { model_pattern: 'claude-3-5-haiku*', effective_from: '2024-10-22', input_per_mtok: 0.8, output_per_mtok: 4, cached_input_per_mtok: 0.08 },
  { model_pattern: 'gpt-4o*', effective_from: '2024-05-13', input_per_mtok: 2.5, output_per_mtok: 10, cached_input_per_mtok: 1.25 },
  { model_pattern: 'gpt-4o-mini*', effective_from: '2024-07-18', input_per_mtok: 0.15, output_per_mtok: 0.6, cached_input_per_mtok: 0.075 },
  { model_pattern: 'gpt-4.1*', effective_from: '2025-04-14', input_per_mtok: 2, output_per_mtok: 8, cached_input_per_mtok: 0.5 },
  { model_pattern: 'gpt-4.1-mini*', effective_from: '2025-04-14', input_per_mtok: 0.4, output_per_mtok: 1.6, cached_input_per_mtok: 0.1 },
  { model_pattern: 'gpt-5*', effective_from: '2025-08-07', input_per_mtok: 1.25, output_per_mtok: 10, cached_input_per_mtok: 0.125 },
  { model_pattern: 'gpt-5-mini*', effective_from: '2025-08-07', input_per_mtok: 0.25, output_per_mtok: 2, cached_input_per_mtok: 0.025 },
  { model_pattern: 'o3*', effective_from: '2025-06-10', input_per_mtok: 2, output_per_mtok: 8, cached_input_per_mtok: 0.5 },
  { model_pattern: 'o4-mini*', effective_from: '2025-04-16', input_per_mtok: 1.1, output_per_mtok: 4.4, cached_input_per_mtok: 0.275 },
  { model_pattern: 'gemini-2.5-pro*', effective_from: '2025-06-17', input_per_mtok: 1.25, output_per_mtok: 10, cached_input_per_mtok: 0.31 },
  { model_pattern: 'gemini-2.5-flash*', effective_from: '2025-06-17', input_per_mtok: 0.3, output_per_mtok: 2.5, cached_input_per_mtok: 0.075 },
].map((p) => ({ ...p, source: 'default' as const }));

interface CompiledPrice extends ModelPrice {
  re: RegExp;
  specificity: number;
  from: number;
}

/** A price table ready for lookups: defaults plus one org's overrides. */
export class PriceTable {
  private readonly rows: CompiledPrice[];
  private readonly memo = new Map<string, CompiledPrice[]>();

  constructor(orgPrices: readonly ModelPrice[] = [], defaults: readonly ModelPrice[] = DEFAULT_PRICES) {
    this.rows = [...defaults.map((p) => ({ ...p, source: p.source ?? 'default' })), ...orgPrices.map((p) => ({ ...p, source: 'org' as const }))].map((p) => ({
      ...p,
      re: globToRegExp(p.model_pattern),
      specificity: p.model_pattern.replace(/\*/g, '').length,
      from: Date.parse(p.effective_from),
    }));
  }

  /** The price that applies to `model` at `at` (ms), or null when no row matches. */
  lookup(model: string, at: number): ModelPrice | null {
    let candidates = this.memo.get(model);
    if (!candidates) {
      // sorted best-first once per model name; the date filter runs per event
      candidates = this.rows.filter((r) => r.re.test(model)).sort((a, b) =>
        (a.source === b.source ? 0 : a.source === 'org' ? -1 : 1) || b.specificity - a.specificity || b.from - a.from);
      if (this.memo.size > 10_000) this.memo.clear();
      this.memo.set(model, candidates);
    }
    for (const c of candidates) if (c.from <= at) return c;
    return null;
  }

  list(): ModelPrice[] {
    return this.rows.map(({ re: _re, specificity: _s, from: _f, ...p }) => p);
  }
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

export type CostSource = 'caller' | 'computed' | 'unpriced' | '';

/**
 * Sets `cost_usd` / `cost_source` on an event in place.
 * `input_tokens` includes cached input (GenAI conventions): the cached part is
 * priced at the cached rate and the rest at the input rate.
 */
export function applyCost(e: Record<string, unknown>, table: PriceTable, tsMs = Date.parse(e.timestamp as string)): CostSource {
  if (typeof e.cost_usd === 'number') return (e.cost_source = 'caller');
  const input = typeof e.input_tokens === 'number' ? e.input_tokens : 0;
  const output = typeof e.output_tokens === 'number' ? e.output_tokens : 0;
  const cached = typeof e.cached_input_tokens === 'number' ? e.cached_input_tokens : 0;
  if (input + output + cached === 0) return '';
  const model = typeof e.model_used === 'string' ? e.model_used : '';
  const price = model ? table.lookup(model, tsMs) : null;
  if (!price) return (e.cost_source = 'unpriced');
  const fresh = Math.max(0, input - cached);
  const usd = (fresh * price.input_per_mtok + cached * price.cached_input_per_mtok + output * price.output_per_mtok) / 1e6;
  e.cost_usd = Math.round(usd * 1e9) / 1e9;
  return (e.cost_source = 'computed');
}
