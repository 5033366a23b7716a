// The event catalogue is part of the plugin contract: it lives in the SDK so that
// plugins validate fields against the same table ingestion does.
export * from '@orrery/plugin-sdk/events';
