/**
 * Version of the plugin contract. Plugins declare the range they were built for.
 * 2.0.0: `TenantDatabase.knex` is gone (the kernel's tables are out of reach; `ctx.db.raw`,
 * `ctx.directory`), plugins provide and need services (`provides`, `needs`).
 */
export const SDK_VERSION = '2.0.0';
