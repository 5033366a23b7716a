import { randomUUID } from 'node:crypto';
import type { KernelModule } from '../../types.ts';
import { kernelModules } from '../../modules.ts';
import { ingestionModule } from '../index.ts';

/** The ingestion module, unless the kernel's module list already carries it. */
export const extraModules = (): KernelModule[] => (kernelModules.some((m) => m.name === 'ingestion') ? [] : [ingestionModule]);

export function invocation(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: randomUUID(),
    event_type: 'agent_invocation',
    timestamp: new Date().toISOString(),
    department_id: 'eng',
    user_id: 'u-1',
    session_id: 's-1',
    agent_name: 'code-reviewer',
    agent_version: '1.4.0',
    invocation_id: randomUUID(),
    model_used: 'claude-sonnet-4-5',
    input_tokens: 1000,
    output_tokens: 200,
    execution_time_ms: 900,
    status: 'success',
    ...over,
  };
}
