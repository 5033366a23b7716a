export * from './backend/types.ts';
export { definePlugin } from './backend/definePlugin.ts';
export { SDK_VERSION } from './version.ts';
export * from './backend/timeRange.ts';
export * from './backend/rollups.ts';
export * from './events/catalog.ts';
export * from './backend/services.ts';
export * from './backend/contracts/index.ts';
export * from './backend/rollupsDecl.ts';
