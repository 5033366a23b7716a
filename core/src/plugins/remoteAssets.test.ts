import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { widgetAssets } from './remoteAssets.ts';

const dirs: string[] = [];
const dist = () => {
  const d = mkdtempSync(join(tmpdir(), 'orrery-remote-assets-'));
  dirs.push(d);
  return d;
};
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('widgetAssets', () => {
  it('lists the files of each widget under the plugin URL', () => {
    const d = dist();
    writeFileSync(join(d, 'widget-assets.json'), JSON.stringify({ leaderboard: ['a.1.js', 'a.1.css'], 'cost-tokens': ['b.2.js'] }));
    expect(widgetAssets(d, '/plugins/p/')).toEqual({ leaderboard: ['/plugins/p/a.1.js', '/plugins/p/a.1.css'], 'cost-tokens': ['/plugins/p/b.2.js'] });
  });

  it('reads the manifest again after a rebuild, and drops names that could leave the folder', () => {
    const d = dist();
    const file = join(d, 'widget-assets.json');
    writeFileSync(file, JSON.stringify({ w: ['old.js'] }));
    expect(widgetAssets(d, '/plugins/p/')).toEqual({ w: ['/plugins/p/old.js'] });
    writeFileSync(file, JSON.stringify({ w: ['new.js', '../secret.js', 'https://elsewhere/x.js', 42], odd: 'not a list' }));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(widgetAssets(d, '/plugins/p/')).toEqual({ w: ['/plugins/p/new.js'] });
  });

  it('gives no hints for a remote without the list or with a broken one', () => {
    const d = dist();
    expect(widgetAssets(d, '/plugins/p/')).toEqual({});
    writeFileSync(join(d, 'widget-assets.json'), '{ not json');
    expect(widgetAssets(d, '/plugins/p/')).toEqual({});
  });
});
