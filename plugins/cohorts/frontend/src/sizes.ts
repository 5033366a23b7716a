/** A saved cohort's sizes over a range, as `GET /cohorts/sizes` answers them. */
export interface SizePoint { at: string; size: number }

/** A cohort's size holds until the next change: the last one is drawn on to the end of the range. */
export function stepsToEnd(points: readonly SizePoint[], to: string): Array<{ t: string; v: number }> {
  const drawn = points.map((p) => ({ t: p.at, v: p.size }));
  const last = drawn.at(-1);
  return last && Date.parse(last.t) < Date.parse(to) ? [...drawn, { t: to, v: last.v }] : drawn;
}
