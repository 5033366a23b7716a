import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/widgets.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'experiments',
  root: import.meta.dirname,
  exposes: { './ab-test-results': './src/AbTestResults.tsx' },
});
