import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

export default createRemoteConfig({
  name: 'adoption',
  root: import.meta.dirname,
  exposes: {
    './adoption-heatmap': './src/AdoptionHeatmap.tsx',
    './intervention-alerts': './src/InterventionAlerts.tsx',
    './learning-path': './src/LearningPath.tsx',
    './adoption-score': './src/AdoptionScore.tsx',
    './roi': './src/Roi.tsx',
  },
});
