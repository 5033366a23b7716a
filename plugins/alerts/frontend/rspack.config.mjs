import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';

export default createRemoteConfig({
  name: 'alerts',
  root: import.meta.dirname,
  exposes: { './notes': './src/Notes.tsx' },
});
