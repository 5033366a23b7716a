/**
 * Per-org adoption settings: targets of the score's normalisation, every
 * trigger threshold, notification channels, privacy, expertise criteria and
 * ROI rates. Stored with the kernel's per-org plugin settings, so an Admin's
 * change applies at the next scoring run without a restart. Defaults live here
 * only; stored settings hold just what an Admin changed.
 */
import { badRequest, type TenantContext } from '@orrery/plugin-sdk';

export const TRIGGERS = [
  'low_score',
  'bottom_of_department',
  'score_drop',
  'error_rate_24h',
  'low_usage',
  'limited_commands',
  'error_rate',
  'workflow_failures',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

export const USAGE_BASELINES = ['org_mean', 'org_median', 'department_mean', 'department_median'] as const;
export type UsageBaseline = (typeof USAGE_BASELINES)[number];

export interface AdoptionSettings {
  /** trailing window (days, ending at the scored instant) the score reads */
  windowDays: number;
  /** what counts as "full marks" in the normalisation */
  targets: { activeDays: number; capabilities: number };
  thresholds: {
    lowScore: number;
    bottomPercent: number;
    /** the bottom-of-department trigger only applies to departments with at least this many scored users */
    bottomMinDepartmentSize: number;
    scoreDropPercent: number;
    errorRate24h: number;
    errorRate24hMinAttempts: number;
    lowUsagePercentBelowAverage: number;
    /** what "usage" is compared with: the mean or median events per active user of the org or of the user's department */
    usageBaseline: UsageBaseline;
    minDistinctCommands: number;
    errorRate: number;
    errorRateMinAttempts: number;
    workflowFailures: number;
  };
  enabledTriggers: Trigger[];
  notify: { channels: Array<'in_app' | 'email' | 'slack'>; user: boolean; managers: boolean };
  privacy: { individualAccess: 'admins' | 'managers' | 'everyone'; minGroupSize: number };
  expertise: { scoreOver: number; consecutiveDays: number; successfulWorkflows: number; successfulFeatures: number };
  effectivenessDays: number;
  roi: { hourlyRate: number; minutesSavedPerSuccess: number; errorCost: number };
}

export const DEFAULTS: AdoptionSettings = {
  windowDays: 14,
  targets: { activeDays: 10, capabilities: 8 },
  thresholds: {
    lowScore: 10,
    bottomPercent: 10,
    bottomMinDepartmentSize: 5,
    scoreDropPercent: 15,
    errorRate24h: 0.3,
    errorRate24hMinAttempts: 3,
    lowUsagePercentBelowAverage: 10,
    usageBaseline: 'org_mean',
    minDistinctCommands: 2,
    errorRate: 0.1,
    errorRateMinAttempts: 10,
    workflowFailures: 3,
  },
  enabledTriggers: [...TRIGGERS],
  notify: { channels: ['in_app', 'email', 'slack'], user: true, managers: true },
  privacy: { individualAccess: 'managers', minGroupSize: 5 },
  expertise: { scoreOver: 70, consecutiveDays: 7, successfulWorkflows: 10, successfulFeatures: 5 },
  effectivenessDays: 14,
  roi: { hourlyRate: 75, minutesSavedPerSuccess: 10, errorCost: 500 },
};

const num = (min: number, max: number) => ({ type: 'number', minimum: min, maximum: max });
const int = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max });

/** JSON schema of a settings change (every key optional: it is merged over the current settings). */
export const settingsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    windowDays: int(1, 90),
    targets: { type: 'object', additionalProperties: false, properties: { activeDays: int(1, 90), capabilities: int(1, 200) } },
    thresholds: {
      type: 'object',
      additionalProperties: false,
      properties: {
        lowScore: num(0, 100),
        bottomPercent: num(0, 100),
        bottomMinDepartmentSize: int(2, 100000),
        scoreDropPercent: num(0, 100),
        errorRate24h: num(0, 1),
        errorRate24hMinAttempts: int(1, 100000),
        lowUsagePercentBelowAverage: num(0, 100),
        usageBaseline: { type: 'string', enum: [...USAGE_BASELINES] },
        minDistinctCommands: int(0, 1000),
        errorRate: num(0, 1),
        errorRateMinAttempts: int(1, 100000),
        workflowFailures: int(1, 100000),
      },
    },
    enabledTriggers: { type: 'array', uniqueItems: true, items: { type: 'string', enum: [...TRIGGERS] } },
    notify: {
      type: 'object',
      additionalProperties: false,
      properties: {
        channels: { type: 'array', uniqueItems: true, items: { type: 'string', enum: ['in_app', 'email', 'slack'] } },
        user: { type: 'boolean' },
        managers: { type: 'boolean' },
      },
    },
    privacy: {
      type: 'object',
      additionalProperties: false,
      properties: { individualAccess: { type: 'string', enum: ['admins', 'managers', 'everyone'] }, minGroupSize: int(1, 1000) },
    },
    expertise: {
      type: 'object',
      additionalProperties: false,
      properties: { scoreOver: num(0, 100), consecutiveDays: int(1, 90), successfulWorkflows: int(1, 100000), successfulFeatures: int(1, 1000) },
    },
    effectivenessDays: int(1, 365),
    roi: { type: 'object', additionalProperties: false, properties: { hourlyRate: num(0, 100000), minutesSavedPerSuccess: num(0, 10000), errorCost: num(0, 10000000) } },
  },
} as const;

type Partial2<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : Partial<T[K]>) : T[K] };

export function merge(base: AdoptionSettings, change: Partial2<AdoptionSettings>): AdoptionSettings {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(change)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = { ...(out[k] as object), ...v };
    else if (v !== undefined) out[k] = v;
  }
  return out as unknown as AdoptionSettings;
}

export async function loadSettings(ctx: TenantContext): Promise<AdoptionSettings> {
  return merge(DEFAULTS, await ctx.settings.get<Partial2<AdoptionSettings>>());
}

/** The settings in force, and whether an Admin ever saved one (otherwise every value is a default): one read. */
export async function loadSettingsState(ctx: TenantContext): Promise<{ settings: AdoptionSettings; customized: boolean }> {
  const stored = await ctx.settings.get<Partial2<AdoptionSettings>>();
  return { settings: merge(DEFAULTS, stored), customized: Boolean(stored && Object.keys(stored).length) };
}

export async function saveSettings(ctx: TenantContext, change: Partial2<AdoptionSettings>): Promise<AdoptionSettings> {
  const stored = await ctx.settings.get<Partial2<AdoptionSettings>>();
  const next = merge(merge(DEFAULTS, stored), change);
  if (next.targets.activeDays > next.windowDays) throw badRequest(`targets.activeDays (${next.targets.activeDays}) cannot exceed windowDays (${next.windowDays})`, { field: 'targets.activeDays' });
  const storedNext = merge(stored as AdoptionSettings, change) as unknown as Record<string, unknown>;
  await ctx.settings.set(storedNext);
  await ctx.audit({ action: 'settings.update', before: stored, after: storedNext });
  return next;
}
