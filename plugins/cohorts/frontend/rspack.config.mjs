import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/widgets.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'cohorts',
  root: import.meta.dirname,
  exposes: {
    './retention-table': './src/RetentionTable.tsx',
    './retention-trend': './src/RetentionTrend.tsx',
    './at-risk': './src/AtRisk.tsx',
  },
});
