import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/widgets.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'funnels',
  root: import.meta.dirname,
  exposes: {
    './workflow-adoption': './src/WorkflowAdoption.tsx',
    './funnel': './src/Funnel.tsx',
    './paths': './src/Paths.tsx',
    './time-to-convert': './src/TimeToConvert.tsx',
  },
});
