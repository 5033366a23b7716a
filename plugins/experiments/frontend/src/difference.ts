/**
 * A signed difference of means, to three significant digits below 100: a guardrail on the cost
 * of a call moves by fractions of a cent, which two decimals would write as "-0".
 */
const signedFormats = new Map<string, [Intl.NumberFormat, Intl.NumberFormat]>();
export function signedDifference(locale: string, v: number): string {
  let f = signedFormats.get(locale);
  if (!f) {
    f = [
      new Intl.NumberFormat(locale, { maximumSignificantDigits: 3, signDisplay: 'exceptZero' }),
      new Intl.NumberFormat(locale, { maximumFractionDigits: 0, signDisplay: 'exceptZero' }),
    ];
    signedFormats.set(locale, f);
  }
  return (Math.abs(v) < 100 ? f[0] : f[1]).format(v);
}


/** A mean (a latency, a cost per call) as precise as {@link signedDifference}, without a sign. */
export function meanValue(locale: string, v: number): string {
  const text = signedDifference(locale, Math.abs(v)).replace(/^\+/, '');
  return v < 0 ? `-${text}` : text;
}
