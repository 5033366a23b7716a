/**
 * Which setup steps count as done: what the server holds (read by `serverState.ts`) and
 * what this browser's wizard recorded. Pure, so the rules are tested on their own.
 */
import type { SetupProgress, StepId, StepState } from './progress.ts';

/** What the server holds, as counts and flags; `undefined` = could not be read. */
export interface ServerFacts {
  departments?: number;
  /** an adoption settings route answered `customized: true` */
  adoptionCustomized?: boolean;
  providers?: number;
  hookTokens?: number;
  /** agents the org has received events from */
  agentsSending?: number;
  members?: number;
  invitations?: number;
}

/** The steps the facts show as done (a step absent here is not known to be done). */
export function stepsDoneOnServer(f: ServerFacts): Set<StepId> {
  const done = new Set<StepId>();
  if ((f.departments ?? 0) > 0) done.add('departments');
  if (f.adoptionCustomized) done.add('adoption');
  if ((f.providers ?? 0) > 0) done.add('sso');
  // the step's point is events arriving with a hook token: either is proof enough
  if ((f.hookTokens ?? 0) > 0 || (f.agentsSending ?? 0) > 0) done.add('hook');
  // the Admin alone is not a team
  if ((f.members ?? 0) > 1 || (f.invitations ?? 0) > 0) done.add('people');
  return done;
}

/** A step's state: done on the server or in the wizard, else what the wizard recorded. */
export function stepState(id: StepId, progress: SetupProgress, onServer: Set<StepId>): StepState | undefined {
  return onServer.has(id) || progress.steps[id] === 'done' ? 'done' : progress.steps[id];
}

/** "a", "a and b", "a, b and c" */
export function listOf(items: string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
