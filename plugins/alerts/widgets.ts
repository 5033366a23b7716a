/**
 * The plugin's widget, declared once as plain data: the backend's manifest lists it,
 * `defineWidget({ declaration })` takes its options version and defaults from here, and
 * the remote build exposes `module` as `./<id>` (frontend/rspack.config.mjs reads this file).
 */
import type { PageDecl, WidgetDecl } from '@orrery/plugin-sdk/contract';

export const firing = {
  id: 'firing',
  module: './src/FiringAlerts.tsx',
  title: 'Firing alerts',
  description: 'Alert instances firing now, with their value, since when, and whether acknowledged or silenced',
  defaultSize: 'M',
  roles: ['Admin', 'Manager', 'Developer'],
  suggestedFor: ['Admin'],
  /** the bus topic the tick job publishes on when instances change (backend/engine.ts) */
  topics: ['firing'],
  optionsVersion: 1,
  optionsSchema: { type: 'object', properties: { showSilenced: { type: 'boolean', default: true, title: 'Show silenced alerts' } } },
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [firing];


const WRITERS: PageDecl['roles'] = ['Admin', 'Manager'];
const EVERYONE: PageDecl['roles'] = ['Admin', 'Manager', 'Developer'];

/** Alert rules with their state (`/p/alerts/rules?state=firing`). */
export const rulesPage = {
  id: 'rules',
  module: './src/pages/RulesPage.tsx',
  title: 'Alert rules',
  description: 'Every alert rule with its state, what it watches, and links to edit it and to its history',
  roles: EVERYONE,
  nav: true,
  optionsSchema: { type: 'object', properties: { state: { type: 'string', default: '' } } },
} satisfies PageDecl;

/** The rule editor with a live preview of the metric and the threshold (`/p/alerts/rule?id=…`; no id: a new rule). */
export const rulePage = {
  id: 'rule',
  module: './src/pages/RuleEditorPage.tsx',
  title: 'Alert rule',
  description: 'Create or edit an alert rule; the chart shows the metric and the threshold as you type',
  roles: WRITERS,
  optionsSchema: { type: 'object', properties: { id: { type: 'string', default: '' }, template: { type: 'string', default: '' } } },
} satisfies PageDecl;

export const contactPointsPage = {
  id: 'contact-points',
  module: './src/pages/ContactPointsPage.tsx',
  title: 'Contact points',
  description: 'Where alert notifications go: webhooks, Slack, email, in-app and on-call rotations, with message templates and a test button',
  roles: WRITERS,
  nav: true,
  optionsSchema: { type: 'object', properties: {} },
} satisfies PageDecl;

export const silencesPage = {
  id: 'silences',
  module: './src/pages/SilencesPage.tsx',
  title: 'Silences',
  description: 'Silence matching alerts for a while: evaluation goes on, notifications stop',
  roles: WRITERS,
  nav: true,
  optionsSchema: { type: 'object', properties: {} },
} satisfies PageDecl;

/** The notification policy: the root's receiver, grouping and timings, and the child routes. */
export const policyPage = {
  id: 'policy',
  module: './src/pages/PolicyPage.tsx',
  title: 'Notification policy',
  description: 'Which contact point hears which alerts, how they are grouped, how often they repeat, and who is escalated to',
  roles: WRITERS,
  nav: true,
  optionsSchema: { type: 'object', properties: {} },
} satisfies PageDecl;

/** Recurring windows (nights, weekends, holidays) in a zone when the routes that name them send nothing. */
export const muteTimingsPage = {
  id: 'mute-timings',
  module: './src/pages/MuteTimingsPage.tsx',
  title: 'Mute timings',
  description: 'Recurring windows in a time zone (weekdays, times, days, months) when the policy routes that name them send nothing, and which routes use each',
  roles: WRITERS,
  nav: true,
  optionsSchema: { type: 'object', properties: {} },
} satisfies PageDecl;

/** State changes and notifications as a timeline (`/p/alerts/history?rule_id=…`). */
export const historyPage = {
  id: 'history',
  module: './src/pages/HistoryPage.tsx',
  title: 'Alert history',
  description: 'State changes, acknowledgements and notifications sent, newest first, in the selected time range',
  roles: EVERYONE,
  nav: true,
  optionsSchema: { type: 'object', properties: { rule_id: { type: 'string', default: '' } } },
} satisfies PageDecl;

export const pages: PageDecl[] = [rulesPage, rulePage, contactPointsPage, policyPage, muteTimingsPage, silencesPage, historyPage];
