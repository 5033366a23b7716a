import type { StepId } from './progress.ts';

/**
 * The setup wizard's steps, in the order an Admin needs things. Kept apart from the step
 * forms so the dashboard's banner and the settings page can name them without loading them.
 * `short` names what is left in a sentence ("Still to do: single sign-on and people").
 */
export interface StepInfo { id: StepId; title: string; short: string; intro: string }

export const STEPS: StepInfo[] = [
  { id: 'departments', title: 'Departments', short: 'departments', intro: 'Group people the way your organization works. Dashboards, defaults and Managers’ rights follow departments.' },
  { id: 'adoption', title: 'Adoption thresholds', short: 'adoption thresholds', intro: 'Decide when someone counts as an active adopter and when they are flagged for support.' },
  { id: 'sso', title: 'Single sign-on', short: 'single sign-on', intro: 'Let people sign in with your identity provider instead of a password.' },
  { id: 'hook', title: 'Hook and test event', short: 'a hook and a test event', intro: 'Agents and editors send events with a hook token. Create one, install it, and watch a test event arrive.' },
  { id: 'people', title: 'People and roles', short: 'inviting people', intro: 'Invite your team and give each person a role: Admin, Manager or Developer.' },
];
