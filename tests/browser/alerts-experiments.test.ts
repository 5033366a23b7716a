/**
 * The alerts and experiments pages in Chromium against the real platform. Alerts: add a
 * webhook contact point and a rule in the editor (its live preview showing), send failing
 * invocations, and see the firing notification arrive at a receiver started here, the rule
 * firing on the rules page and the change on the history timeline; silence it. Experiments:
 * create one in the editor, send invocations of both versions, and read its results (units
 * per variant equal to what was sent, the SRM check, the recommendation). No serious
 * accessibility violations on any page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { apiLogin, axeSerious, hasChromium, launch, shot, signedInPage, startPlatform, untilVisible, type Platform, explainFailures } from './harness.ts';

describe.skipIf(!hasChromium)('alerts and experiments pages in chromium', () => {
  let platform: Platform;
  let browser: Browser;
  let page: Page;
  let api: Awaited<ReturnType<typeof apiLogin>>;
  let receiver: Server;
  let receiverUrl = '';
  const received: Array<{ path: string; body: any }> = [];
  const prevEnv = process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
  explainFailures(() => ({ page, platform }));

  beforeAll(async () => {
    // the receiver is on loopback: the platform (a child process) inherits the permission
    process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = 'true';
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        received.push({ path: req.url ?? '/', body: JSON.parse(raw || '{}') });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as any).port}`;
    platform = await startPlatform();
    browser = await launch();
    api = await apiLogin(platform);
    const me = await api<{ user: { id: string } }>('GET', '/api/v1/me');
    page = await signedInPage(browser, platform, { tourDismissedFor: [me.user.id] });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    receiver?.close();
    if (prevEnv === undefined) delete process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE;
    else process.env.ORRERY_WEBHOOKS_ALLOW_PRIVATE = prevEnv;
  });

  const hookEvents = async (events: Array<Record<string, unknown>>) => {
    const { token } = await api<{ token: string }>('POST', '/api/v1/tokens', { name: `browser hook ${Date.now()}`, kind: 'hook' });
    await api('POST', '/api/v1/events/batch', { events }, token);
    await untilVisible(api, events.map((e) => e.event_id as string));
  };
  const invocation = (agent: string, version: string, status: string, user: string) => ({
    event_id: crypto.randomUUID(), event_type: 'agent_invocation', timestamp: new Date().toISOString(),
    department_id: 'eng', user_id: user, session_id: `s-${user}`, agent_name: agent, agent_version: version,
    invocation_id: crypto.randomUUID(), model_used: 'claude-sonnet-4-5', input_tokens: 100, output_tokens: 20, execution_time_ms: 300, status,
  });

  it('alerts: a contact point and a rule made in the pages fire at a real webhook receiver, and the pages show it', async () => {
    await page.goto(`${platform.url}/p/alerts/contact-points`);
    await page.getByRole('heading', { name: 'Contact points', level: 1 }).waitFor();
    const form = page.getByRole('form', { name: 'New contact point' });
    await form.getByLabel('Name', { exact: true }).fill('browser hook');
    await form.getByLabel('Type', { exact: true }).selectOption('webhook');
    await form.getByLabel('URL', { exact: true }).fill(`${receiverUrl}/alerts`);
    await form.getByRole('button', { name: 'Add contact point' }).click();
    await page.getByRole('table', { name: 'Contact points' }).getByRole('cell', { name: 'browser hook', exact: true }).waitFor();
    expect(await axeSerious(page)).toEqual([]);

    await page.goto(`${platform.url}/p/alerts/rule`);
    await page.getByRole('heading', { name: 'Alert rule', level: 1 }).waitFor();
    const rule = page.getByRole('form', { name: 'Alert rule' });
    await rule.getByLabel('Name', { exact: true }).fill('browser failures');
    await rule.getByLabel('Evaluate every (seconds)', { exact: true }).fill('10');
    await rule.getByLabel('Window (seconds)', { exact: true }).fill('120');
    await rule.getByLabel('Filters', { exact: true }).fill('status=failure, agent_name=browser-agent');
    await rule.getByLabel('One alert per', { exact: true }).fill('agent_name');
    await rule.getByLabel('Threshold', { exact: true }).fill('1');
    await rule.getByLabel('Send to', { exact: true }).selectOption({ label: 'browser hook (webhook)' });
    // the live preview answers for the rule as typed: no group has failed yet
    await page.getByRole('table', { name: 'What the rule sees now' }).getByText(/No group has a value|agent_name=browser-agent/).first().waitFor({ timeout: 20_000 });
    await shot(page, 'alerts-rule-editor');
    expect(await axeSerious(page)).toEqual([]);
    await rule.getByRole('button', { name: 'Create rule' }).click();
    await page.getByText(/Saved “browser failures”/).waitFor();
    expect(new URL(page.url()).searchParams.get('id')).toMatch(/^[0-9a-f-]{36}$/);

    // three failures of the agent: above the threshold of 1
    await hookEvents([1, 2, 3].map((i) => invocation('browser-agent', '1.0.0', 'failure', `u${i}`)));
    const deadline = Date.now() + 60_000;
    let firing: any;
    while (!(firing = received.find((r) => r.path === '/alerts' && r.body.status === 'firing' && r.body.commonLabels?.alertname === 'browser failures'))) {
      if (Date.now() > deadline) throw new Error(`no firing notification; received ${JSON.stringify(received.map((r) => r.body.status))}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(firing.body.alerts).toHaveLength(1);
    expect(firing.body.alerts[0]).toMatchObject({ status: 'firing', labels: { agent_name: 'browser-agent', alertname: 'browser failures' }, values: { value: 3 } });

    await page.goto(`${platform.url}/p/alerts/rules`);
    const rules = page.getByRole('table', { name: 'Alert rules' });
    const row = rules.getByRole('row').filter({ hasText: 'browser failures' });
    await row.getByText('Firing').waitFor({ timeout: 20_000 });
    await page.getByLabel('State').selectOption('firing');
    await expect.poll(() => new URL(page.url()).searchParams.get('state')).toBe('firing');
    expect(await rules.getByRole('row').filter({ hasText: 'browser failures' }).count()).toBe(1);
    await shot(page, 'alerts-rules');
    expect(await axeSerious(page)).toEqual([]);

    await row.getByRole('link', { name: /History/ }).click();
    await page.getByRole('heading', { name: 'Alert history', level: 1 }).waitFor();
    const timeline = page.getByRole('list', { name: 'Alert history' });
    await timeline.getByText(/Normal → Firing/).first().waitFor({ timeout: 20_000 });
    await timeline.getByText(/Notified browser hook \(firing\)/).first().waitFor({ timeout: 20_000 });
    expect(await axeSerious(page)).toEqual([]);

    await page.goto(`${platform.url}/p/alerts/silences`);
    await page.getByText(/Nothing is silenced/).waitFor();
    const silence = page.getByRole('form', { name: 'Silence alerts' });
    await silence.getByLabel('Value', { exact: true }).fill('browser failures');
    await silence.getByLabel('Why', { exact: true }).fill('known issue, fix deploying');
    await silence.getByRole('button', { name: 'Silence' }).click();
    const silences = page.getByRole('table', { name: 'Silences' });
    await silences.getByRole('cell', { name: 'Active', exact: true }).waitFor();
    expect(await axeSerious(page)).toEqual([]);
    const firingNow = await api<{ alerts: Array<{ rule_name: string; silenced: boolean }> }>('GET', '/api/v1/alerts/firing');
    expect(firingNow.alerts.find((a) => a.rule_name === 'browser failures')?.silenced).toBe(true);

    // the policy page: a bad matcher regex in a child route is refused naming it; a good policy is saved
    await page.goto(`${platform.url}/p/alerts/policy`);
    const policy = page.getByRole('form', { name: 'Notification policy' });
    await policy.waitFor();
    await policy.getByLabel('Default contact point', { exact: true }).selectOption({ label: 'browser hook (webhook)' });
    await policy.getByLabel('Repeat while firing (s)', { exact: true }).first().fill('600');
    await policy.getByRole('button', { name: 'Add a route' }).click();
    const route1 = policy.getByRole('group', { name: 'Route 1', exact: true });
    const matcher = route1.getByRole('group', { name: 'Matcher 1' });
    await matcher.getByLabel('Label', { exact: true }).fill('team');
    await matcher.getByLabel('Match', { exact: true }).selectOption({ label: 'matches the regex' });
    await matcher.getByLabel('Value', { exact: true }).fill('([');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('alert').filter({ hasText: 'routes[0].matchers[0].value' }).waitFor();
    await policy.getByRole('button', { name: 'Remove Route 1' }).click();
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(/Policy saved/).waitFor();
    expect(await axeSerious(page)).toEqual([]);
    const saved = await api<{ policy: { contact_point_id: string; repeat_interval_seconds: number; routes?: unknown[] } }>('GET', '/api/v1/alerts/policy');
    const cps = await api<{ contact_points: Array<{ id: string; name: string }> }>('GET', '/api/v1/alerts/contact-points');
    expect(saved.policy).toMatchObject({ contact_point_id: cps.contact_points.find((c) => c.name === 'browser hook')!.id, repeat_interval_seconds: 600 });
    expect(saved.policy.routes ?? []).toEqual([]);
  }, 180_000);

  it('alerts: a mute timing made in its page (by keyboard) is named by a child route edited in the policy form, and the page says which route uses it', async () => {
    await page.goto(`${platform.url}/p/alerts/mute-timings`);
    await page.getByRole('heading', { name: 'Mute timings', level: 1 }).waitFor();
    await page.getByText(/No mute timings yet/).waitFor();
    const form = page.getByRole('form', { name: 'New mute timing' });
    await form.getByLabel('Name', { exact: true }).fill('office nights');
    await form.getByLabel('Time zone', { exact: true }).fill('Europe/Paris');
    const interval = form.getByRole('group', { name: 'Interval 1' });
    // weekdays by keyboard: Friday is on by default (Monday–Friday); Space on the focused box turns it off, Saturday on
    const weekdays = interval.getByRole('group', { name: 'Weekdays' });
    await weekdays.getByRole('checkbox', { name: 'Friday' }).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    await expect.poll(async () => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.parentElement?.textContent?.trim())).toBe('Saturday');
    await page.keyboard.press('Space');
    await interval.getByLabel('From (range 1)', { exact: true }).fill('19:30');
    await interval.getByRole('group', { name: 'Months' }).getByRole('checkbox', { name: 'December' }).check();
    await interval.getByLabel('Days of the month', { exact: true }).fill('1, -1');
    await form.getByRole('button', { name: 'Create mute timing' }).click();
    const table = page.getByRole('table', { name: 'Mute timings' });
    const row = table.getByRole('row').filter({ hasText: 'office nights' });
    await row.waitFor();
    await expect.poll(async () => (await row.getByRole('cell').nth(3).textContent())?.trim()).toBe('No route');
    const stored = await api<{ mute_timings: unknown[] }>('GET', '/api/v1/alerts/mute-timings');
    expect(stored.mute_timings).toEqual([
      { name: 'office nights', time_zone: 'Europe/Paris', intervals: [{ weekdays: [1, 2, 3, 4, 6], times: [{ start: '19:30', end: '24:00' }], months: [12], days_of_month: [1, -1] }] },
    ]);
    expect(await axeSerious(page)).toEqual([]);

    // a child route in the policy form, with a nested route, naming the timing
    await page.goto(`${platform.url}/p/alerts/policy`);
    const policy = page.getByRole('form', { name: 'Notification policy' });
    await policy.waitFor();
    await policy.getByRole('button', { name: 'Add a route' }).click();
    const route1 = policy.getByRole('group', { name: 'Route 1', exact: true });
    const m = route1.getByRole('group', { name: 'Matcher 1' });
    await m.getByLabel('Label', { exact: true }).fill('team');
    await m.getByLabel('Value', { exact: true }).fill('data');
    await route1.getByLabel('Contact point', { exact: true }).first().selectOption({ label: 'browser hook (webhook)' });
    await route1.getByLabel('Group by', { exact: true }).first().fill('alertname, agent_name');
    await route1.getByLabel('Repeat while firing (s)', { exact: true }).first().fill('900');
    await route1.getByRole('checkbox', { name: /Continue/ }).first().check();
    await route1.getByRole('group', { name: 'Mute timings' }).first().getByRole('checkbox', { name: 'office nights' }).check();
    await route1.getByRole('button', { name: 'Add a child route to Route 1' }).click();
    const child = policy.getByRole('group', { name: 'Route 1 › 1', exact: true });
    const cm = child.getByRole('group', { name: 'Matcher 1' });
    await cm.getByLabel('Label', { exact: true }).fill('severity');
    await cm.getByLabel('Match', { exact: true }).selectOption({ label: 'matches the regex' });
    await cm.getByLabel('Value', { exact: true }).fill('crit.*');
    await child.getByLabel('Wait after a change (s)', { exact: true }).fill('60');
    await policy.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText(/Policy saved/).waitFor();
    expect(await axeSerious(page)).toEqual([]);
    const cps = await api<{ contact_points: Array<{ id: string; name: string }> }>('GET', '/api/v1/alerts/contact-points');
    const saved = await api<{ policy: { routes: unknown[] } }>('GET', '/api/v1/alerts/policy');
    expect(saved.policy.routes).toEqual([
      {
        matchers: [{ label: 'team', op: '=', value: 'data' }],
        contact_point_id: cps.contact_points.find((c) => c.name === 'browser hook')!.id,
        group_by: ['alertname', 'agent_name'],
        repeat_interval_seconds: 900,
        continue: true,
        mute_timings: ['office nights'],
        routes: [{ matchers: [{ label: 'severity', op: '=~', value: 'crit.*' }], group_interval_seconds: 60 }],
      },
    ]);
    // reloaded, the form shows the saved tree
    await page.reload();
    await policy.getByRole('group', { name: 'Route 1 › 1', exact: true }).getByLabel('Value', { exact: true }).first().waitFor();
    expect(await policy.getByRole('group', { name: 'Route 1 › 1', exact: true }).getByLabel('Value', { exact: true }).first().inputValue()).toBe('crit.*');

    // the mute-timings page names the route that uses it, and will not delete it while it does
    await page.goto(`${platform.url}/p/alerts/mute-timings`);
    const used = page.getByRole('table', { name: 'Mute timings' }).getByRole('row').filter({ hasText: 'office nights' });
    await expect.poll(async () => (await used.getByRole('cell').nth(3).textContent())?.trim()).toBe('Route 1 (team = data)');
    await used.getByRole('button', { name: /^Delete office nights/ }).click();
    await page.getByRole('alert').filter({ hasText: 'office nights' }).waitFor();
    // edit: the form takes the timing, a second interval is added, saved in place
    await used.getByRole('button', { name: 'Edit office nights' }).click();
    const edit = page.getByRole('form', { name: 'Edit mute timing "office nights"' });
    await edit.getByRole('button', { name: 'Add an interval' }).click();
    await edit.getByRole('group', { name: 'Interval 2' }).getByRole('group', { name: 'Weekdays' }).getByRole('checkbox', { name: 'Sunday' }).check();
    await edit.getByRole('button', { name: 'Save mute timing' }).click();
    await page.getByText(/Mute timing "office nights" saved/).waitFor();
    const after = await api<{ mute_timings: Array<{ name: string; intervals: unknown[] }> }>('GET', '/api/v1/alerts/mute-timings');
    expect(after.mute_timings).toHaveLength(1);
    expect(after.mute_timings[0]!.intervals).toEqual([
      { weekdays: [1, 2, 3, 4, 6], times: [{ start: '19:30', end: '24:00' }], months: [12], days_of_month: [1, -1] },
      { weekdays: [0] },
    ]);
    expect(await axeSerious(page)).toEqual([]);
  }, 180_000);

  it('experiments: one made in the editor shows its results, with units per variant as sent', async () => {
    // with none running, the Admin's A/B widget leads to the editor
    await page.goto(`${platform.url}/`);
    await page.getByText('No experiment is running.').waitFor();
    await page.getByRole('link', { name: 'Create an experiment' }).click();
    await page.waitForURL(/\/p\/experiments\/editor/);
    await page.getByRole('heading', { name: 'Experiment', level: 1 }).waitFor();
    await page.goto(`${platform.url}/p/experiments/list`);
    await page.getByRole('heading', { name: 'Experiments', level: 1 }).waitFor();
    await page.getByText(/No experiments yet/).waitFor();
    expect(await axeSerious(page)).toEqual([]);
    await page.getByRole('link', { name: 'New experiment' }).click();
    await page.getByRole('heading', { name: 'Experiment', level: 1 }).waitFor();
    const exp = page.getByRole('group', { name: 'Experiment', exact: true });
    await exp.getByLabel('Key', { exact: true }).fill('browser-exp');
    await exp.getByLabel('Name', { exact: true }).fill('Reviewer v2 in the browser');
    const audience = page.getByRole('group', { name: 'Audience' });
    await audience.getByLabel('Agent', { exact: true }).fill('exp-reviewer');
    // the audience offers the directory's roles; ticked and unticked again (the events below come from people outside the directory)
    const roles = page.getByRole('group', { name: 'Roles (optional)' });
    await roles.getByLabel('Developer').check();
    await roles.getByLabel('Developer').uncheck();
    await page.getByLabel('Variant 1 key').fill('v1');
    await page.getByLabel('Variant 2 key').fill('v2');
    await page.getByRole('button', { name: 'Add a variant' }).click();
    await page.getByLabel('Variant 3 weight').fill('10');
    await page.getByText(/Weights add up to 110% — they must add up to 100%/).waitFor();
    await page.getByRole('button', { name: 'Remove variant variant-3' }).click();
    await page.getByText('Weights add up to 100%.').waitFor();
    expect(await axeSerious(page)).toEqual([]);
    await shot(page, 'experiments-editor');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.waitForURL(/\/p\/experiments\/results\?key=browser-exp/);
    await page.getByRole('heading', { name: 'Experiment results', level: 1 }).waitFor();

    // invocations of both versions, at or after the start: units per variant are what was sent
    const sent: Record<string, number> = { v1: 0, v2: 0 };
    const events = Array.from({ length: 80 }, (_, i) => {
      const v = i % 2 ? 'v2' : 'v1';
      sent[v]++;
      return invocation('exp-reviewer', v, (v === 'v2' ? i % 5 !== 0 : i % 3 !== 0) ? 'success' : 'failure', `eu${i % 9}`);
    });
    await hookEvents(events);
    await page.reload();
    const variants = page.getByRole('table', { name: 'Variants' });
    await variants.waitFor({ timeout: 30_000 });
    for (const v of ['v1', 'v2']) {
      const row = variants.getByRole('row').filter({ hasText: new RegExp(`^${v}`) });
      await expect.poll(async () => (await row.getByRole('cell').nth(1).textContent())?.trim()).toBe(String(sent[v]));
    }
    await page.getByText(/Sample ratio check passed|Sample ratio mismatch/).first().waitFor();
    await page.getByText(/^(Ship|Keep the control|Keep running|Inconclusive)$/).first().waitFor();
    expect(await page.getByRole('table', { name: 'Comparisons against the control' }).getByRole('row').count()).toBe(2);
    await page.getByLabel('Metric').selectOption('latency');
    await expect.poll(() => new URL(page.url()).searchParams.get('metric')).toBe('latency');
    await shot(page, 'experiments-results');
    expect(await axeSerious(page)).toEqual([]);

    await page.goto(`${platform.url}/p/experiments/list`);
    await page.getByRole('table', { name: 'Experiments' }).getByRole('link', { name: 'Reviewer v2 in the browser', exact: true }).waitFor();
  }, 180_000);
});
