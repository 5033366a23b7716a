/**
 * The plugin's widgets, each declared once as plain data: the backend's manifest lists them,
 * each widget's `defineWidget({ declaration })` takes its options version and defaults from
 * here, and the remote build exposes `module` as `./<id>` (frontend/rspack.config.mjs).
 */
import type { WidgetDecl } from '@orrery/plugin-sdk/contract';

const none = { type: 'object', properties: {} };

export const knowledgeSharing = {
  id: 'knowledge-sharing',
  module: './src/KnowledgeSharing.tsx',
  title: 'Knowledge sharing',
  description: 'Artifacts created, annotated and reused over time, with the reuse rate and the cross-department reuse rate',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager', 'Developer'],
  optionsSchema: none,
  optionsVersion: 1,
} satisfies WidgetDecl;

export const experts = {
  id: 'experts',
  module: './src/Experts.tsx',
  title: 'Experts',
  description: 'Authors whose artifacts are reused most widely, with their most reused artifacts as evidence',
  defaultSize: 'M',
  minSize: { w: 3, h: 3 },
  roles: ['Admin', 'Manager'],
  optionsSchema: {
    type: 'object',
    properties: {
      agent_name: { type: 'string', title: 'Only artifacts of this agent' },
      artifact_type: { type: 'string', title: 'Only artifacts of this type' },
    },
  },
  optionsVersion: 1,
} satisfies WidgetDecl;

export const knowledgeFlow = {
  id: 'knowledge-flow',
  module: './src/KnowledgeFlow.tsx',
  title: 'Knowledge flow',
  description: "Reuse from the author's department to the reuser's department, as a Sankey or a matrix",
  defaultSize: 'L',
  minSize: { w: 4, h: 3 },
  roles: ['Admin', 'Manager'],
  optionsSchema: { type: 'object', properties: { view: { type: 'string', enum: ['sankey', 'matrix'], default: 'sankey', title: 'Show as' } } },
  optionsVersion: 1,
} satisfies WidgetDecl;

export const widgets: WidgetDecl[] = [knowledgeSharing, experts, knowledgeFlow];
