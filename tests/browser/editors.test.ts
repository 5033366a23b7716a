/**
 * The funnel and cohort editors in Chromium, used as a person would: a funnel is built step by
 * step, its preview and its saved results agree with counts made here from the events sent,
 * it is listed and deleted; a cohort of rules and a cohort of a pasted list are saved with the
 * members the events sent say they should have. Both editors pass axe at serious level.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, shot, signedInPage, startPlatform, untilVisible, type Platform, explainFailures } from './harness.ts';

const HOUR = 3_600_000;

describe.skipIf(!hasChromium)('the funnel and cohort editors in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  explainFailures(() => ({ page, platform }));
  /** per user: opened at, reviewed at (if at all) */
  const plan: Array<{ user: string; open: number; review: number | null }> = [];

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launch();
    api = await apiLogin(platform);
    const me = await api<{ user: { id: string } }>('GET', '/api/v1/me');
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'editors browser hook', kind: 'hook' });
    // 24 users open something in the last two days; some review it within the hour, some hours later, some never
    const now = Date.now();
    for (let u = 0; u < 24; u++) {
      const open = now - 2 * HOUR - Math.floor(Math.random() * 40 * HOUR);
      const r = Math.random();
      plan.push({ user: `editor-u${u}`, open, review: r < 0.45 ? open + Math.floor(Math.random() * 55 * 60_000) + 60_000 : r < 0.75 ? open + 2 * HOUR : null });
    }
    const events = plan.flatMap((p) => [
      { event_id: crypto.randomUUID(), event_type: 'command', command_name: 'open', timestamp: new Date(p.open).toISOString(), user_id: p.user, session_id: `${p.user}-s`, department_id: 'eng' },
      ...(p.review === null ? [] : [{ event_id: crypto.randomUUID(), event_type: 'command', command_name: 'review', timestamp: new Date(p.review).toISOString(), user_id: p.user, session_id: `${p.user}-s`, department_id: 'eng' }]),
    ]);
    await api('POST', '/api/v1/events/batch', { events }, token);
    await untilVisible(api, events.map((e) => e.event_id));

    page = await signedInPage(browser, platform, { tourDismissedFor: [me.user.id], context: { viewport: { width: 1400, height: 1000 } } });
    page.on('dialog', (d) => void d.accept());
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('builds a funnel step by step; the preview and the saved results count what was sent', async () => {
    const reached = plan.length;
    const converted = plan.filter((p) => p.review !== null && p.review - p.open <= HOUR).length;
    await page.goto(`${platform.url}/p/funnels/funnel`);
    await page.getByLabel('Name').fill('Open to review');
    await page.getByRole('spinbutton', { name: 'Within', exact: true }).fill('1');
    await page.getByLabel('Unit', { exact: true }).selectOption('hours');
    for (const [i, name] of ['open', 'review'].entries()) {
      await page.getByLabel('Event type').nth(i).selectOption('command');
      await page.getByLabel('Only where').nth(i).fill(`command_name=${name}`);
    }
    // the preview follows the draft: its table (the chart's accessible data) counts the plan
    const rows = page.getByRole('figure', { name: 'Preview' }).locator('tbody tr');
    const cells = () => rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 3).map((c) => c.textContent).join('/')).join(' | '));
    await expect.poll(cells, { timeout: 20_000 }).toBe(`1. command open/${reached}/0 | 2. command review/${converted}/${reached - converted}`);
    expect(await axeSerious(page)).toEqual([]);
    // step 2 within 30 minutes of step 1: the preview counts only the quicker reviews
    const quick = plan.filter((p) => p.review !== null && p.review - p.open <= 30 * 60_000).length;
    await page.getByRole('spinbutton', { name: 'Within after step 1' }).fill('30');
    await page.getByLabel('Unit of the time after step 1').selectOption('minutes');
    await expect.poll(cells, { timeout: 20_000 }).toBe(`1. command open/${reached}/0 | 2. command review/${quick}/${reached - quick}`);
    await page.getByRole('button', { name: 'Save the funnel' }).click();
    await page.getByText(/Saved “Open to review”/).waitFor();
    await shot(page, 'funnel-editor');

    const { funnels } = await api<{ funnels: Array<{ id: number; name: string; definition: Record<string, unknown> }> }>('GET', '/api/v1/funnels/saved');
    const saved = funnels.find((f) => f.name === 'Open to review')!;
    expect(saved.definition).toMatchObject({ window_seconds: 3600, step_windows_seconds: [null, 1800], order: 'ordered', count_by: 'user', steps: [{ event_type: 'command', where: { command_name: 'open' } }, { event_type: 'command', where: { command_name: 'review' } }] });
    const from = new Date(Date.now() - 3 * 86_400_000).toISOString(), to = new Date(Date.now() + 60_000).toISOString();
    const results = await api<{ steps: Array<{ count: number }> }>('GET', `/api/v1/funnels/saved/${saved.id}/results?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(results.steps.map((s) => s.count)).toEqual([reached, quick]);
    // cleared again: only the funnel's hour counts
    await page.getByRole('spinbutton', { name: 'Within after step 1' }).fill('');
    await expect.poll(cells, { timeout: 20_000 }).toBe(`1. command open/${reached}/0 | 2. command review/${converted}/${reached - converted}`);
    // the editor's URL names the funnel: a reload shows it again
    expect(new URL(page.url()).searchParams.get('id')).toBe(String(saved.id));
    await page.reload();
    await expect.poll(() => page.getByLabel('Name').inputValue(), { timeout: 15_000 }).toBe('Open to review');

    // listed, then deleted from the list
    await page.getByRole('link', { name: 'All saved funnels' }).click();
    const table = page.getByRole('table', { name: 'Saved funnels' });
    await table.getByRole('row', { name: /Open to review/ }).waitFor();
    await expect.poll(async () => (await table.getByRole('row', { name: /Open to review/ }).textContent()) ?? '').toContain('command open → command review');
    expect(await table.getByRole('row', { name: /Open to review/ }).textContent()).toContain('step 2 within 30 minutes of step 1');
    await table.getByRole('button', { name: 'Delete Open to review' }).click();
    await page.getByText('Deleted “Open to review”.').waitFor();
    expect((await api<{ funnels: unknown[] }>('GET', '/api/v1/funnels/saved')).funnels.filter((f) => (f as { name: string }).name === 'Open to review')).toEqual([]);
  }, 120_000);

  it('adds an exclusion and a department breakdown; the preview per department and the saved results count what was sent', async () => {
    // writers draft, some discard, some publish; feature_use events, so the command funnels and rules above do not see them
    const depts = await Promise.all(['Writers', 'Editors'].map((name) => api<{ id: string; name: string }>('POST', '/api/v1/departments', { name })));
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: 'editors exclusion hook', kind: 'hook' });
    const now = Date.now();
    const people = Array.from({ length: 18 }, (_, u) => ({ user: `writer-u${u}`, dept: depts[u % 2]!, draft: now - 3 * HOUR - u * 60_000, discard: u % 3 === 0, publish: u % 4 !== 1 }));
    const ev = (p: (typeof people)[number], feature: string, at: number) => ({ event_id: crypto.randomUUID(), event_type: 'feature_use', feature_name: feature, timestamp: new Date(at).toISOString(), user_id: p.user, session_id: `${p.user}-s`, department_id: p.dept.id });
    const events = people.flatMap((p) => [ev(p, 'draft', p.draft), ...(p.discard ? [ev(p, 'discard', p.draft + 5 * 60_000)] : []), ...(p.publish ? [ev(p, 'publish', p.draft + 10 * 60_000)] : [])]);
    await api('POST', '/api/v1/events/batch', { events }, token);
    await untilVisible(api, events.map((e) => e.event_id));
    const published = (ps: typeof people) => ps.filter((p) => p.publish && !p.discard).length;

    await page.goto(`${platform.url}/p/funnels/funnel`);
    await page.getByLabel('Name').fill('Draft to publish');
    for (const [i, name] of ['draft', 'publish'].entries()) {
      await page.getByLabel('Event type').nth(i).selectOption('feature_use');
      await page.getByLabel('Only where').nth(i).fill(`feature_name=${name}`);
    }
    await page.getByRole('button', { name: 'Add an exclusion' }).click();
    const exclusion = page.getByRole('group', { name: /Exclusion 1/ });
    await exclusion.getByLabel('Event type').selectOption('feature_use');
    await exclusion.getByLabel('Only where').fill('feature_name=discard');
    await page.getByLabel('Break down by').selectOption('department_id');
    const rows = page.getByRole('figure', { name: 'Preview' }).locator('tbody tr');
    const cells = () => rows.evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 2).map((c) => c.textContent).join('/')).join(' | '));
    await expect.poll(cells, { timeout: 20_000 }).toBe(`1. feature_use draft/${people.length} | 2. feature_use publish/${published(people)}`);
    // conversion per department, by name
    const byDept = page.getByRole('table', { name: 'Conversion by department' });
    for (const d of depts) {
      const mine = people.filter((p) => p.dept.id === d.id);
      await expect.poll(async () => (await byDept.getByRole('row', { name: new RegExp(d.name) }).textContent()) ?? '', { timeout: 15_000 }).toContain(`${d.name}${mine.length}${published(mine)}`);
    }
    expect(await axeSerious(page)).toEqual([]);
    await shot(page, 'funnel-editor-exclusion-breakdown');
    await page.getByRole('button', { name: 'Save the funnel' }).click();
    await page.getByText(/Saved “Draft to publish”/).waitFor();

    const { funnels } = await api<{ funnels: Array<{ id: number; name: string; definition: Record<string, unknown> }> }>('GET', '/api/v1/funnels/saved');
    const saved = funnels.find((f) => f.name === 'Draft to publish')!;
    expect(saved.definition).toMatchObject({ breakdown: 'department_id', exclusions: [{ event_type: 'feature_use', where: { feature_name: 'discard' }, from_step: 0, to_step: 1 }] });
    const from = new Date(now - 86_400_000).toISOString(), to = new Date(now + 60_000).toISOString();
    const results = await api<{ steps: Array<{ count: number }>; breakdown: Array<{ value: string; label?: string; steps: Array<{ count: number }> }> }>('GET', `/api/v1/funnels/saved/${saved.id}/results?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    expect(results.steps.map((x) => x.count)).toEqual([people.length, published(people)]);
    for (const d of depts) {
      const mine = people.filter((p) => p.dept.id === d.id);
      expect(results.breakdown.find((b) => b.value === d.id)).toMatchObject({ label: d.name, steps: [{ count: mine.length }, { count: published(mine) }] });
    }
    // the list reads the exclusion and the breakdown
    await page.getByRole('link', { name: 'All saved funnels' }).click();
    const row = page.getByRole('table', { name: 'Saved funnels' }).getByRole('row', { name: /Draft to publish/ });
    await expect.poll(async () => (await row.textContent()) ?? '', { timeout: 15_000 }).toContain('excluding feature_use discard between steps 1 and 2');
    expect(await row.textContent()).toContain('by department');
  }, 120_000);

  it('saves a cohort of rules and a cohort of a pasted list with the members the events say', async () => {
    await page.goto(`${platform.url}/p/cohorts/cohort`);
    await page.getByLabel('Name').fill('Reviewers this week');
    await page.getByLabel('People who').selectOption('performed');
    await page.getByLabel('Event type').selectOption('command');
    await page.getByLabel('At least (times)').fill('2');
    await page.getByLabel('In the last (days)').fill('7');
    await page.getByText('Reads: command events: at least 2 in the last 7 days').waitFor();
    // two commands in the last 7 days: those who opened and reviewed; the dry run counts them before saving
    const expected = plan.filter((p) => p.review !== null && p.review < Date.now()).map((p) => p.user).sort();
    await page.getByText(`${expected.length} people meet these rules now.`).waitFor({ timeout: 15_000 });
    // and names the first of them (these ids are no members of the org: shown as ids)
    const more = expected.length - 10;
    await page.getByText(`For example: ${expected.slice(0, 10).join(', ')}${more > 0 ? `, and ${more} more.` : '.'}`).waitFor();
    expect(await axeSerious(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save the cohort' }).click();
    await page.getByText(new RegExp(`Saved “Reviewers this week”: ${expected.length} people now`)).waitFor({ timeout: 30_000 });
    const { cohorts } = await api<{ cohorts: Array<{ id: string; name: string; size: number }> }>('GET', '/api/v1/cohorts');
    const rules = cohorts.find((c) => c.name === 'Reviewers this week')!;
    const members = await api<{ members: Array<{ user_id: string }> }>('GET', `/api/v1/cohorts/${rules.id}/members`);
    expect(members.members.map((m) => m.user_id).sort()).toEqual(expected);

    await page.goto(`${platform.url}/p/cohorts/cohort`);
    await page.getByLabel('Name').fill('Pilot group');
    await page.getByLabel('a list of people').check();
    await page.getByRole('textbox', { name: 'People' }).fill('editor-u1\neditor-u2, editor-u3\neditor-u2');
    await page.getByText('3 people', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Save the cohort' }).click();
    await page.getByText('Saved “Pilot group”: 3 people now.').waitFor();
    // the saved cohort's members, a page of them, by id where the directory does not know them
    const listed = page.getByRole('table', { name: 'Members of the cohort' });
    await expect.poll(async () => (await listed.getByRole('rowheader').allTextContents()).sort(), { timeout: 15_000 }).toEqual(['editor-u1', 'editor-u2', 'editor-u3']);
    await page.getByRole('navigation', { name: 'Member pages' }).getByText('1–3 of 3').waitFor();
    expect(await page.getByRole('button', { name: 'Next' }).isDisabled()).toBe(true);
    // the whole list as CSV: a row per member, the name empty where the directory does not know the id
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the members (CSV)' }).click()]);
    expect(download.suggestedFilename()).toBe('pilot-group-members.csv');
    const [header, ...lines] = readFileSync((await download.path())!, 'utf8').trim().split('\r\n');
    expect(header).toBe('user_id,name,member_since');
    expect(lines.map((l) => l.split(',').slice(0, 2).join(',')).sort()).toEqual(['editor-u1,', 'editor-u2,', 'editor-u3,']);
    for (const l of lines) expect(Number.isNaN(Date.parse(l.split(',')[2]!))).toBe(false);
    // a search narrows the list and its page status; one that matches nobody says so
    const search = page.getByLabel('Search members');
    await search.fill('U2');
    await expect.poll(async () => listed.getByRole('rowheader').allTextContents(), { timeout: 15_000 }).toEqual(['editor-u2']);
    await page.getByRole('navigation', { name: 'Member pages' }).getByText('1–1 of 1 matching “U2”').waitFor();
    await search.fill('nobody here');
    await page.getByText('No member matches “nobody here”.').waitFor({ timeout: 15_000 });
    expect(await axeSerious(page)).toEqual([]);
    await search.fill('');
    await page.getByRole('navigation', { name: 'Member pages' }).getByText('1–3 of 3', { exact: true }).waitFor({ timeout: 15_000 });
    expect(await axeSerious(page)).toEqual([]);
    await shot(page, 'cohort-editor');

    await page.getByRole('link', { name: 'All saved cohorts' }).click();
    const table = page.getByRole('table', { name: 'Saved cohorts' });
    await expect.poll(async () => (await table.getByRole('row', { name: /Reviewers this week/ }).textContent()) ?? '', { timeout: 15_000 }).toContain(`command events: at least 2 in the last 7 days${expected.length}`);
    await expect.poll(async () => (await table.getByRole('row', { name: /Pilot group/ }).textContent()) ?? '').toContain('a list of people3');
  }, 120_000);
});
