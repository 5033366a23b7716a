/**
 * Deterministic, sticky, weighted assignment: the same experiment key and unit
 * always land in the same variant, on the server and in an offline client,
 * without storing anything. The unit's bucket is the first 52 bits of
 * SHA-256("<key>/<unit>") as a fraction of [0, 1); variants take consecutive
 * slices of that interval in declaration order, sized by their weights.
 *
 * This file depends on nothing but `node:crypto` so that an event client can
 * import it (or reimplement it from this comment) and assign offline, then
 * send the exposures it recorded.
 */
import { createHash } from 'node:crypto';

export interface WeightedVariant {
  key: string;
  weight: number;
}

/** The unit's position in [0, 1) for this experiment. */
export function bucketOf(experimentKey: string, unitId: string): number {
  const digest = createHash('sha256').update(`${experimentKey}/${unitId}`).digest();
  // 52 bits fit a double exactly: 6 bytes and 4 bits
  const hi = digest.readUIntBE(0, 6); // 48 bits
  const lo = digest[6]! >>> 4; // 4 more
  return (hi * 16 + lo) / 2 ** 52;
}

/** The variant of a unit: the slice of [0, 1) its bucket falls in. */
export function assignVariant(experimentKey: string, unitId: string, variants: readonly WeightedVariant[]): string {
  const total = variants.reduce((a, v) => a + v.weight, 0);
  const b = bucketOf(experimentKey, unitId) * total;
  let edge = 0;
  for (const v of variants) {
    edge += v.weight;
    if (b < edge) return v.key;
  }
  // only reachable through rounding at the very top of the interval
  return variants[variants.length - 1]!.key;
}

/** Departments and/or roles an experiment is for; either left out (or empty) does not narrow. */
export interface Audience {
  departments?: string[];
  roles?: string[];
}

/**
 * Whether a person is in an audience: one of its roles (when it names roles) and
 * a member of one of its departments (when it names departments). A client that
 * assigns offline applies this before assigning, with the person's role and
 * departments as the directory gives them; units outside are not exposed.
 */
export function inAudience(audience: Audience | undefined, person: { role: string; departments: readonly string[] }): boolean {
  if (audience?.roles?.length && !audience.roles.includes(person.role)) return false;
  if (audience?.departments?.length && !person.departments.some((d) => audience.departments!.includes(d))) return false;
  return true;
}
