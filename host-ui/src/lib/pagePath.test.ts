import { describe, expect, it } from 'vitest';
import { optionsOfSearch, parsePagePath, searchOfOptions } from './pagePath.ts';
import { navPages, type PluginManifest } from './plugins.ts';

describe('plugin page paths', () => {
  it('reads the plugin and page ids from /p/<plugin>/<page> and nothing else', () => {
    expect(parsePagePath('/p/metrics/explorer')).toEqual({ pluginId: 'metrics', pageId: 'explorer' });
    expect(parsePagePath('/p/metrics/explorer/')).toEqual({ pluginId: 'metrics', pageId: 'explorer' });
    expect(parsePagePath('/p/metrics')).toBeNull();
    expect(parsePagePath('/p/a/b/c')).toBeNull();
    expect(parsePagePath('/settings')).toBeNull();
  });

  it('round-trips options through the query string, lists as repeated keys, empties left out', () => {
    const options = { format: 'json', eventType: 'agent_invocation', agents: ['planner', 'coder'], fields: '' };
    const search = searchOfOptions(options);
    expect(search).toBe('?format=json&eventType=agent_invocation&agents=planner&agents=coder');
    expect(optionsOfSearch(new URLSearchParams(search))).toEqual({ format: 'json', eventType: 'agent_invocation', agents: ['planner', 'coder'] });
    expect(searchOfOptions({})).toBe('');
    expect(searchOfOptions({ q: 'a b&c' })).toBe('?q=a+b%26c');
    expect(optionsOfSearch(new URLSearchParams('?q=a+b%26c'))).toEqual({ q: 'a b&c' });
  });

  it('lists nav pages of enabled plugins with a frontend only', () => {
    const plugin = (id: string, extra: Partial<PluginManifest>): PluginManifest => ({
      id, version: '1.0.0', title: id, description: '', enabled: true, routePrefix: id, remote: { name: id, entry: `/plugins/${id}/remoteEntry.js` }, widgets: [], ...extra,
    });
    const pages = navPages([
      plugin('a', { pages: [{ id: 'one', title: 'One', description: '', roles: ['Admin'], nav: true }, { id: 'hidden', title: 'Hidden', description: '', roles: ['Admin'] }] }),
      plugin('b', { enabled: false, pages: [{ id: 'two', title: 'Two', description: '', roles: ['Admin'], nav: true }] }),
      plugin('c', { remote: null, pages: [{ id: 'three', title: 'Three', description: '', roles: ['Admin'], nav: true }] }),
    ]);
    expect(pages.map((p) => p.path)).toEqual(['/p/a/one']);
  });
});
