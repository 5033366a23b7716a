import { createRemoteConfig } from '../../../plugin-sdk/build/remote.mjs';

// Each widget declared in ../widgets.ts is exposed as `./<widget id>` from its `module`.
export default createRemoteConfig({
  name: 'executive',
  root: import.meta.dirname,
  widgets: '../widgets.ts',
});
