import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Browser, BrowserContext, Page } from 'playwright-core';
import { AuditEvent, AuditType } from '../../src/audit/audit-event.entity';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import { BrowserApp, launchChromium, newPerson, PHONE, reviewPage, startBrowserApp } from './support/browser';

const DAY = 86_400_000;

/** Issue 14 in Chromium: the security log with its chart, its filters and its pages, axe clean at 1280 and 360 px. */
describe('the security log in a browser (issue 14)', () => {
  let app: BrowserApp;
  let browser: Browser;
  let admin: { context: BrowserContext; page: Page };
  const adminEmail = 'sia@log.example';

  beforeAll(async () => {
    app = await startBrowserApp();
    browser = await launchChromium();
    const sia = await createUser(app, {
      email: adminEmail,
      name: 'Sia Admin',
      role: 'admin',
      organizer: 'Log Events',
      twoFactor: false,
    });
    const people = await Promise.all(
      ['Noor Ahmed', 'Lena Fischer', 'Tom Okafor'].map((name, i) =>
        createUser(app, { organizer: 'Log Events', name, email: `person${i}@log.example`, twoFactor: false }),
      ),
    );
    // A month of a small organizer: sign-ins every day, a few failures, two bad days with locks.
    const today = Math.floor(app.clock.nowMs() / DAY) * DAY;
    const events: AuditEvent[] = [];
    const add = (type: AuditType, daysBack: number, n: number, detail: object | null = null) => {
      for (let i = 0; i < n; i++) {
        const user = people[(daysBack + i) % people.length];
        events.push(
          Object.assign(new AuditEvent(), {
            id: randomUUID(),
            type,
            organizerId: sia.organizerId,
            userId: user.id,
            actorId: null,
            ip: `203.0.113.${(daysBack * 7 + i) % 250}`,
            detail: detail && JSON.stringify(detail),
            createdAt: new Date(today - daysBack * DAY + 8 * 3600_000 + i * 60_000),
          }),
        );
      }
    };
    for (let back = 0; back < 30; back++) {
      add('login.succeeded', back, 6 + ((back * 5) % 9), { method: 'totp' });
      add('login.failed', back, back % 4 === 0 ? 2 : back % 3 === 0 ? 1 : 0, { pool: 'device' });
      add('code.failed', back, back % 5 === 0 ? 1 : 0);
    }
    add('login.failed', 9, 11, { pool: 'untrusted' });
    add('login.locked', 9, 1, { minutes: 15, pool: 'untrusted' });
    add('code.failed', 2, 5);
    add('code.locked', 2, 1, { minutes: 15 });
    const repository = app.get(DataSource).getRepository(AuditEvent);
    for (let i = 0; i < events.length; i += 200) await repository.insert(events.slice(i, i + 200));
    admin = await newPerson(browser, app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('opens from the menu, shows the chart (title, description, numbers), and passes axe at 1280 and 360 px', async () => {
    const { page } = admin;
    await page.goto('/login');
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Security log' }).click();
    await page.waitForURL('**/admin/security-log');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Security log');

    const chart = page.getByRole('img', { name: 'Sign-ins, failed sign-ins and locks per day, last 30 days' });
    expect(await chart.isVisible()).toBe(true);
    expect(await chart.getAttribute('aria-describedby')).toBe('chart-desc');
    expect(await page.locator('#chart-desc').textContent()).toMatch(/failed sign-ins and 2 locks\./);
    const box = (await chart.boundingBox())!;
    expect(box.width).toBeGreaterThan(600);
    await chart.screenshot({ path: '/tmp/security-log-chart.png' });

    await page.getByText('The numbers per day').click();
    expect(await page.getByRole('table', { name: /per day, last 30 days/ }).isVisible()).toBe(true);
    expect(await page.getByRole('table', { name: /Security events of your organizer/ }).isVisible()).toBe(true);
    await reviewPage(page, 'security-log', { darkToo: true });

    await page.setViewportSize(PHONE);
    try {
      expect(await chart.isVisible()).toBe(true);
      await chart.screenshot({ path: '/tmp/security-log-chart-360.png' });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('filters by the labelled fields, pages with Older and Newest, and shows a bad date on the page', async () => {
    const { page } = admin;
    await page.goto('/admin/security-log');
    await page.getByLabel('Person (email)').fill('person1@log.example');
    await page.getByLabel('Kind of event').selectOption({ label: 'Failed sign-ins' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/kind=failed-sign-ins/);
    const rows = page.getByRole('table', { name: /about Lena Fischer/ }).locator('tbody tr');
    expect(await rows.count()).toBeGreaterThan(0);
    for (const text of await rows.allTextContents()) expect(text).toContain('person1@log.example');
    expect(await page.getByLabel('Person (email)').inputValue()).toBe('person1@log.example');

    await page.getByRole('link', { name: 'Show all' }).click();
    await page.getByRole('link', { name: 'Older' }).click();
    await page.waitForURL(/before=/);
    expect(await page.getByRole('table', { name: /older events/ }).isVisible()).toBe(true);
    await page.getByRole('link', { name: 'Newest' }).click();
    await page.waitForURL((url) => url.search === '');

    await page.goto('/admin/security-log?from=2026-01-20&to=2026-01-10');
    const problem = page.getByRole('alert');
    expect(await problem.textContent()).toContain('The last day is before the first day.');
    expect(await page.getByLabel('From (UTC day)').inputValue()).toBe('2026-01-20');
    await reviewPage(page, 'security-log-error');
  });
});
