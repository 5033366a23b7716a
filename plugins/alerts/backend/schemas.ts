/** JSON schema helpers shared by the routes. */
export const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } };
export const idAnswer = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };
export const okAnswer = { type: 'object', properties: { ok: { type: 'boolean' } } };
/** an object whose listed properties are documented; others pass through */
export const open = (properties: Record<string, unknown> = {}) => ({ type: 'object', additionalProperties: true, properties });
export const listOf = (key: string, item: Record<string, unknown>) => ({ type: 'object', properties: { [key]: { type: 'array', items: item } } });
export const labelsSchema = { type: 'object', maxProperties: 30, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,99}$' }, additionalProperties: { type: 'string', maxLength: 1000 } };
export const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);
