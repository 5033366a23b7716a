import type { WidgetDecl } from '@orrery/plugin-sdk';

const none = { type: 'object', properties: {} };

/** One exposed federated module per widget: `./<id>` (frontend/rspack.config.mjs). */
export const widgets: WidgetDecl[] = [
  {
    id: 'knowledge-sharing',
    title: 'Knowledge sharing',
    description: 'Artifacts created, annotated and reused over time, with the reuse rate and the cross-department reuse rate',
    defaultSize: 'M',
    minSize: { w: 3, h: 3 },
    roles: ['Admin', 'Manager', 'Developer'],
    suggestedFor: ['Admin', 'Manager', 'Developer'],
    optionsSchema: none,
    optionsVersion: 1,
  },
  {
    id: 'experts',
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
  },
  {
    id: 'knowledge-flow',
    title: 'Knowledge flow',
    description: "Reuse from the author's department to the reuser's department, as a Sankey or a matrix",
    defaultSize: 'L',
    minSize: { w: 4, h: 3 },
    roles: ['Admin', 'Manager'],
    optionsSchema: { type: 'object', properties: { view: { type: 'string', enum: ['sankey', 'matrix'], default: 'sankey', title: 'Show as' } } },
    optionsVersion: 1,
  },
];
