/**
 * Version of the plugin contract. Plugins declare the range they were built for.
 * 2.0.0: `TenantDatabase.knex` is gone (the kernel's tables are out of reach; `ctx.db.raw`,
 * `ctx.directory`), plugins provide and need services (`provides`, `needs`).
 * 2.1.0: a widget may declare the range it starts with (`defaultTimeRange`); a plugin may seed
 * its own examples into a new demo org (`env.onDemoData`). A plugin that calls `onDemoData`
 * declares `^2.1.0`: hosts of 2.0 do not offer it.
 * 2.2.0: a route's request has `signal`, aborted when the client leaves or the platform stops
 * (a stream that waits between chunks stops at once). A plugin that reads it declares `^2.2.0`.
 */
export const SDK_VERSION = '2.2.0';
