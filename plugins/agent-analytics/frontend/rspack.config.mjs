import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/widgets.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'agent_analytics',
  root: import.meta.dirname,
  exposes: {
    './agent-usage': './src/AgentUsage.tsx',
    './error-trends': './src/ErrorTrends.tsx',
    './latency': './src/Latency.tsx',
    './cost-tokens': './src/CostTokens.tsx',
    './agent-chains': './src/AgentChains.tsx',
    './leaderboard': './src/Leaderboard.tsx',
    './recommendations': './src/Recommendations.tsx',
  },
});
