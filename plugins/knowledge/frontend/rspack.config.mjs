import { createRemoteConfig } from '@orrery/plugin-sdk/build/remote.mjs';

export default createRemoteConfig({
  name: 'knowledge',
  root: import.meta.dirname,
  exposes: { './notes': './src/Notes.tsx' },
});
