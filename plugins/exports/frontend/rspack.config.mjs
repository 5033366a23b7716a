import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// One exposed module per widget declared in backend/widgets.ts: `./<widget id>`.
export default createRemoteConfig({
  name: 'exports',
  root: import.meta.dirname,
  exposes: {
    './export-data': './src/ExportData.tsx',
  },
});
