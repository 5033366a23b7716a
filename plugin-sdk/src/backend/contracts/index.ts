export * from './metrics.ts';
export * from './exports.ts';
export * from './cohorts.ts';
export * from './directory.ts';
export * from './metricsQuery.ts';
export * from './trends.ts';
export * from './scores.ts';
