import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

export default createRemoteConfig({
  name: 'user_activity',
  root: import.meta.dirname,
  exposes: {
    './user-ranking': './src/UserRanking.tsx',
    './team-comparison': './src/TeamComparison.tsx',
    './command-usage': './src/CommandUsage.tsx',
    './activity-heatmap': './src/ActivityHeatmap.tsx',
  },
});
