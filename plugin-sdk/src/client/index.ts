/**
 * `@orrery/plugin-sdk/client`: the event client for agent hosts. See
 * plugin-sdk/examples/send-events.ts for a runnable example.
 */
export { EventClient, createEventClient, backoffDelay, type EventClientOptions, type EventClientStats } from './client.ts';
export type * from './events.ts';
