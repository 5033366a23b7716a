import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';

export default createRemoteConfig({
  name: 'dashboards',
  root: import.meta.dirname,
  exposes: {
    './welcome': './src/Welcome.tsx',
    './live-activity': './src/LiveActivity.tsx',
  },
});
