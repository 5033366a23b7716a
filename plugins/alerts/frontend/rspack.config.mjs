import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/index.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'alerts',
  root: import.meta.dirname,
  exposes: { './firing': './src/FiringAlerts.tsx' },
});
