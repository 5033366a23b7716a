import { describe, expect, it } from 'vitest';
import { listOf, stepsDoneOnServer, stepState, type ServerFacts } from './facts.ts';
import type { StepId } from './progress.ts';
import { STEPS } from './steps.ts';

/** The rule each step is held to, written out again: what would make an Admin call it done. */
function reference(f: ServerFacts): StepId[] {
  const out: StepId[] = [];
  if (f.departments !== undefined && f.departments >= 1) out.push('departments');
  if (f.adoptionCustomized === true) out.push('adoption');
  if (f.providers !== undefined && f.providers >= 1) out.push('sso');
  if ((f.hookTokens !== undefined && f.hookTokens >= 1) || (f.agentsSending !== undefined && f.agentsSending >= 1)) out.push('hook');
  if ((f.members !== undefined && f.members >= 2) || (f.invitations !== undefined && f.invitations >= 1)) out.push('people');
  return out;
}

describe('setup steps done on the server', () => {
  it('follows each step’s fact, and an unreadable fact never counts as done', () => {
    // every combination of unknown / none / one / several for each fact
    const counts = [undefined, 0, 1, 3];
    let seed = 7;
    const pick = <T,>(xs: T[]) => xs[(seed = (seed * 48271) % 2147483647) % xs.length]!;
    for (let i = 0; i < 500; i++) {
      const f: ServerFacts = {
        departments: pick(counts), adoptionCustomized: pick([undefined, false, true]), providers: pick(counts),
        hookTokens: pick(counts), agentsSending: pick(counts), members: pick(counts), invitations: pick(counts),
      };
      expect([...stepsDoneOnServer(f)].sort(), JSON.stringify(f)).toEqual(reference(f).sort());
    }
    expect(stepsDoneOnServer({}).size).toBe(0);
    // the Admin alone is not a team
    expect(stepsDoneOnServer({ members: 1 }).has('people')).toBe(false);
  });

  it('a step is done on the server or in the wizard; otherwise the wizard’s record stands', () => {
    const onServer = new Set<StepId>(['departments', 'hook']);
    const progress = { steps: { adoption: 'done', sso: 'skipped', hook: 'skipped' } as const };
    expect(STEPS.map((x) => stepState(x.id, progress, onServer))).toEqual(['done', 'done', 'skipped', 'done', undefined]);
  });

  it('names what is left as a sentence', () => {
    expect(listOf([])).toBe('');
    expect(listOf(['single sign-on'])).toBe('single sign-on');
    expect(listOf(['adoption thresholds', 'single sign-on'])).toBe('adoption thresholds and single sign-on');
    expect(listOf(['a', 'b', 'c'])).toBe('a, b and c');
  });
});
