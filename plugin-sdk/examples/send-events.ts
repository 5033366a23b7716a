/**
 * Sending events from an agent host with `@orrery/plugin-sdk/client`.
 *
 *   # a hook token: in the portal (Settings → Tokens → kind "hook"), or
 *   #   curl -XPOST $ORRERY_URL/api/v1/tokens -H "authorization: Bearer $ACCESS" \
 *   #        -H 'content-type: application/json' -d '{"name":"my-agent","kind":"hook"}'
 *   ORRERY_URL=http://127.0.0.1:7007 ORRERY_HOOK_TOKEN=orr_hook_... npx tsx plugin-sdk/examples/send-events.ts
 *
 * What it shows: typed events, one client per process, a disk buffer (kill
 * the process mid-run and start it again: the unsent events go out then, with
 * the same event ids, so nothing is stored twice), and a clean shutdown.
 */
import { randomUUID } from 'node:crypto';
import { createEventClient } from '@orrery/plugin-sdk/client';

const url = process.env.ORRERY_URL ?? 'http://127.0.0.1:7007';
const token = process.env.ORRERY_HOOK_TOKEN;
if (!token) {
  console.error('set ORRERY_HOOK_TOKEN to a hook token (see the comment at the top of this file)');
  process.exit(1);
}

const client = createEventClient({
  url,
  token,
  bufferDir: process.env.ORRERY_BUFFER_DIR ?? '.orrery-buffer',
  batchSize: 500,
  flushIntervalMs: 500,
  onRejected: (event, error) => console.warn(`refused ${event.event_type} ${event.event_id}: ${error.message}`),
  onError: (err) => console.warn(`will retry: ${err.message}`),
});
if (client.pending) console.log(`resending ${client.pending} events left by an earlier run`);

const session = randomUUID();
const user = process.env.USER ?? 'dev-1';
client.track({ event_type: 'session', action: 'started', session_id: session, user_id: user, agent_name: 'example-agent', surface: 'cli' });

for (let i = 0; i < 20; i++) {
  const invocation = randomUUID();
  const started = Date.now();
  // ... the agent does its work here ...
  client.track({ event_type: 'tool_call', action: 'result', tool_name: 'grep', invocation_id: invocation, status: 'success', duration_ms: 12, user_id: user, session_id: session });
  client.track({
    event_type: 'agent_invocation',
    user_id: user,
    department_id: process.env.ORRERY_DEPARTMENT ?? 'engineering',
    session_id: session,
    agent_name: 'example-agent',
    agent_version: '0.1.0',
    invocation_id: invocation,
    model_used: 'claude-sonnet-4-5',
    input_tokens: 1200 + i,
    output_tokens: 300,
    execution_time_ms: Date.now() - started + 800,
    status: i % 10 === 9 ? 'failure' : 'success',
    ...(i % 10 === 9 ? { error_type: 'timeout', error_message: 'model call timed out' } : {}),
    tools_used: ['grep'],
    // cost_usd omitted: the server prices it from its model table
  });
}
client.track({ event_type: 'feedback', action: 'rating', rating: 5, user_id: user, session_id: session });
client.track({ event_type: 'session', action: 'ended', session_id: session, user_id: user, duration_ms: 60_000 });

await client.close(15_000);
console.log(client.stats, client.pending ? `${client.pending} events kept on disk for the next run` : 'all delivered');
