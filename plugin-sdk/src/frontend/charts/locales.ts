/** The languages plotly.js has month and day names for, as the chart kit registers them. */
export const PLOTLY_LOCALES = ['de', 'es', 'fr', 'it', 'ja', 'nl', 'pl', 'pt-br', 'sv', 'zh-cn'] as const;
export type PlotlyLocale = (typeof PLOTLY_LOCALES)[number];

/**
 * The plotly locale for a user's locale, if there is one: `de-CH` → `de`, `pt-BR` → `pt-br`,
 * `en-US` → none (English is built in). Plotly itself falls back from a region to its
 * language the same way, so the chart is configured with the user's locale as it is.
 */
export function plotlyLocaleFor(locale: string): PlotlyLocale | undefined {
  const l = locale.toLowerCase();
  const known = (x: string): x is PlotlyLocale => (PLOTLY_LOCALES as readonly string[]).includes(x);
  if (known(l)) return l;
  const lang = l.split('-')[0]!;
  return known(lang) ? lang : undefined;
}
