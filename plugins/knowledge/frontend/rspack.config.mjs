import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/widgets.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'knowledge',
  root: import.meta.dirname,
  exposes: {
    './knowledge-sharing': './src/KnowledgeSharing.tsx',
    './experts': './src/Experts.tsx',
    './knowledge-flow': './src/KnowledgeFlow.tsx',
  },
});
