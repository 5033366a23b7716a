export { appConfigSchema, type AppConfig } from './schema.ts';
export { loadConfig, validateConfig, substitute, ConfigError, describe as describeConfigError, type LoadOptions } from './load.ts';
