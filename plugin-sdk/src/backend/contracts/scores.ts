/**
 * User scores: one number per user and day on a fixed scale (the adoption plugin's
 * 0–100 adoption score is the first). Cohorts select users by a score band through it
 * without reading the provider's tables.
 */
import { createServiceRef } from '../services.ts';

export interface UserScore {
  userId: string;
  score: number;
  /** the UTC day (YYYY-MM-DD) the score is of */
  day: string;
}

export interface UserScoreService {
  /** what the score is, e.g. "Adoption score" */
  readonly title: string;
  /** the scale: every score is within [min, max] */
  readonly min: number;
  readonly max: number;
  /**
   * The scores of the latest scored day at or before `day` (UTC, YYYY-MM-DD): one per
   * scored user, optionally only of `userIds`. Empty when nothing was scored by then.
   */
  scores(q: { day: string; userIds?: readonly string[] }): Promise<UserScore[]>;
}

export const userScoreRef = createServiceRef<UserScoreService>({
  id: 'user-score',
  version: '1.0.0',
  multiple: false,
  description: 'a per-user score by day on a fixed scale (the adoption score)',
});
