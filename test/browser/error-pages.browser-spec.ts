import { Browser, Page, Response } from 'playwright-core';
import { DataSource } from 'typeorm';
import { Person } from '../utils/agent';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import { BrowserApp, launchChromium, newPerson, reviewPage, startBrowserApp } from './support/browser';

/** Error pages in the layout, for people: 403, 404, 429 (with when to try again), 500; never a stack trace. */
describe('error pages in a browser', () => {
  let app: BrowserApp;
  let browser: Browser;

  beforeAll(async () => {
    app = await startBrowserApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** The page is in the layout (app name in the header, one h1) and shows nothing of the server's insides. */
  async function expectFriendlyPage(page: Page, response: Response | null, status: number, heading: string) {
    expect(response?.status()).toBe(status);
    await expect(page.getByRole('banner').getByRole('link', { name: 'TIXNGO Backoffice' }).count()).resolves.toBe(1);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(heading);
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|Exception|QueryFailed|SQLITE|node_modules|stack/i);
  }

  async function signInForm(page: Page, email: string, password: string): Promise<Response | null> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    await page.waitForLoadState('load');
    return response;
  }

  it('404: an unknown address', async () => {
    const { context, page } = await newPerson(browser, app);
    const response = await page.goto('/no-such-page');
    await expectFriendlyPage(page, response, 404, 'Page not found');
    await expect(page.locator('main').textContent()).resolves.toContain('The page does not exist');
    await reviewPage(page, '20-error-404', { darkToo: true });
    await context.close();
  });

  it('403: a form whose CSRF token is not valid changes nothing and says what to do', async () => {
    const user = await createUser(app, { twoFactor: false });
    const { context, page } = await newPerson(browser, app);
    await page.goto('/login');
    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await page
      .locator('input[name="_csrf"]')
      .first()
      .evaluate((input: HTMLInputElement) => (input.value = 'forged'));
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    await page.waitForLoadState('load');
    await expectFriendlyPage(page, response, 403, 'Not allowed');
    await expect(page.locator('main').textContent()).resolves.toContain('reload the page and try again');
    await reviewPage(page, '21-error-403-csrf');
    // Not signed in by the forged form.
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  });

  it('429: ten wrong passwords pause sign-in and say when to try again', async () => {
    const user = await createUser(app, { twoFactor: false });
    const { context, page } = await newPerson(browser, app);
    let response: Response | null = null;
    for (let i = 0; i < 10; i++) response = await signInForm(page, user.email, `wrong password ${i}!`);
    await expectFriendlyPage(page, response, 429, 'Sign in');
    await expect(page.getByRole('alert').textContent()).resolves.toContain(
      'Too many failed attempts. Try again in 15 minutes',
    );
    await expect(page.getByLabel('Email').inputValue()).resolves.toBe(user.email);
    await reviewPage(page, '22-error-429-login');
    await context.close();
  });

  it('429: five wrong codes lock the second factor and say when to try again', async () => {
    const user = await createUser(app, { twoFactor: true });
    // Set up 2FA without the browser, then sign in in the browser and get the code wrong five times.
    const setup = new Person(app.server);
    await setup.login(user.email, DEFAULT_PASSWORD);
    await setup.setUpTwoFactor(app.clock);
    app.clock.advance(60_000);

    const { context, page } = await newPerson(browser, app);
    await signInForm(page, user.email, DEFAULT_PASSWORD);
    expect(new URL(page.url()).pathname).toBe('/2fa/verify');
    let response: Response | null = null;
    for (let i = 0; i < 5; i++) {
      await page.getByLabel('Verification code').fill('00000' + i);
      [response] = await Promise.all([
        page.waitForResponse((r) => r.request().method() === 'POST'),
        page.getByRole('button', { name: 'Verify' }).click(),
      ]);
      await page.waitForLoadState('load');
    }
    await expectFriendlyPage(page, response, 429, 'Two-factor authentication');
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(
      /Too many wrong codes\. Try again in 15 minutes/,
    );
    await reviewPage(page, '23-error-429-code');
    await context.close();
  });

  it('413: a form with far too much data gets a page in the layout, before any route runs', async () => {
    const { context, page } = await newPerson(browser, app);
    await page.goto('/login');
    await page
      .getByLabel('Email')
      .evaluate((input: HTMLInputElement) => (input.value = 'a'.repeat(40_000) + '@example.com'));
    await page.getByLabel('Password', { exact: true }).fill('whatever it is');
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ]);
    await page.waitForLoadState('load');
    await expectFriendlyPage(page, response, 413, 'Too much data');
    await reviewPage(page, '25-error-413');
    await context.close();
  });

  it('500: a failure inside the app shows a calm page in the layout, no stack trace', async () => {
    const user = await createUser(app, { twoFactor: false });
    const { context, page } = await newPerson(browser, app);
    const db = app.get(DataSource);
    // A real failure: the audit table is gone while a failed sign-in is recorded.
    await db.query('ALTER TABLE audit_events RENAME TO audit_events_away');
    let response: Response | null;
    try {
      response = await signInForm(page, user.email, 'not the password at all');
    } finally {
      await db.query('ALTER TABLE audit_events_away RENAME TO audit_events');
    }
    await expectFriendlyPage(page, response, 500, 'Something went wrong');
    await expect(page.locator('main').textContent()).resolves.toContain('Please try again');
    await reviewPage(page, '24-error-500');
    await context.close();
  });
});
