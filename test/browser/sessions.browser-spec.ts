import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { Person } from '../utils/agent';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import {
  authenticatorCode,
  BrowserApp,
  latestMailTo,
  LAPTOP,
  launchChromium,
  newPerson,
  reviewPage,
  startBrowserApp,
} from './support/browser';

const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';
const SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

/**
 * Issue 14 in Chromium: a person signed in on three browsers (one still at the code step)
 * sees them on "Your sessions", signs one out, then everywhere else; an admin then signs
 * them out everywhere. The page is checked with axe at 1280 and 360 px.
 */
describe('your sessions in a browser (issue 14)', () => {
  let app: BrowserApp;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let email: string;
  let secret: string;

  beforeAll(async () => {
    app = await startBrowserApp();
    browser = await launchChromium();
    email = 'sam@acme.example';
    await createUser(app, { email, name: 'Sam Sessions', organizer: 'Acme Events', twoFactor: true });
    await createUser(app, {
      email: 'grace@acme.example',
      name: 'Grace Admin',
      role: 'admin',
      organizer: 'Acme Events',
      twoFactor: false,
    });
    // The authenticator is set up through HTTP, not the UI (another journey covers setup).
    const setup = new Person(app.server);
    await setup.login(email, DEFAULT_PASSWORD);
    ({ secret } = await setup.setUpTwoFactor(app.clock));
    await setup.post('/logout', {});
  });
  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await app?.close();
  });

  /** A browser profile; with `userAgent`, one that says it is another browser. */
  async function person(userAgent?: string): Promise<Page> {
    if (!userAgent) {
      const { context, page } = await newPerson(browser, app);
      contexts.push(context);
      return page;
    }
    const context = await browser.newContext({ baseURL: app.baseUrl, viewport: LAPTOP, userAgent, timezoneId: 'UTC' });
    context.setDefaultTimeout(15_000);
    contexts.push(context);
    return context.newPage();
  }

  async function press(page: Page, target: Locator): Promise<void> {
    await Promise.all([page.waitForEvent('load'), target.click()]);
  }

  /** Email and password; then, unless `stopAtCode`, the code of the next time step. */
  async function signIn(page: Page, who: string, options: { stopAtCode?: boolean } = {}): Promise<void> {
    await page.goto('/login');
    await page.getByLabel('Email').fill(who);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await press(page, page.getByRole('button', { name: 'Sign in', exact: true }));
    if (new URL(page.url()).pathname !== '/2fa/verify' || options.stopAtCode) return;
    app.clock.advance(30_000);
    await page.getByLabel('Verification code').fill(authenticatorCode(secret, app.clock));
    await press(page, page.getByRole('button', { name: 'Verify' }));
    await page.waitForURL((url) => url.pathname === '/');
  }

  const sessionCards = (page: Page) => page.locator('section.session');
  const cardOf = (page: Page, device: RegExp) =>
    sessionCards(page).filter({ has: page.getByRole('heading', { name: device }) });

  it('lists the sessions, signs out one, then everywhere else, and the admin signs the person out everywhere', async () => {
    const laptop = await person();
    await signIn(laptop, email);
    const firefox = await person(FIREFOX);
    await signIn(firefox, email);
    const phone = await person(SAFARI);
    await signIn(phone, email, { stopAtCode: true });
    expect(new URL(phone.url()).pathname).toBe('/2fa/verify');

    // From the account page to the list.
    await laptop.goto('/account');
    await press(laptop, laptop.getByRole('link', { name: 'Your sessions' }));
    expect(new URL(laptop.url()).pathname).toBe('/account/sessions');
    await expect(laptop.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Your sessions');
    await expect(sessionCards(laptop).count()).resolves.toBe(3);
    const current = sessionCards(laptop).first();
    await expect(current.getByText('This device').count()).resolves.toBe(1);
    await expect(current.getByRole('button', { name: 'Sign out' }).count()).resolves.toBe(0);
    await expect(cardOf(laptop, /^Firefox 121 on Windows$/).count()).resolves.toBe(1);
    const pending = cardOf(laptop, /^Safari 17 on iOS$/);
    await expect(pending.getByText('Signing in', { exact: true }).count()).resolves.toBe(1);
    await expect(pending.getByText('127.0.0.1').count()).resolves.toBe(1);
    await reviewPage(laptop, 'account-sessions');

    // Sign out the Firefox session: it is back at the login page, the others go on.
    await press(laptop, cardOf(laptop, /^Firefox 121 on Windows$/).getByRole('button', { name: 'Sign out' }));
    await expect(laptop.getByText('Signed out: Firefox 121 on Windows.').count()).resolves.toBe(1);
    await expect(sessionCards(laptop).count()).resolves.toBe(2);
    await firefox.reload();
    expect(new URL(firefox.url()).pathname).toBe('/login');
    await expect(firefox.getByText('Your session has ended.').count()).resolves.toBe(1);
    await phone.reload();
    expect(new URL(phone.url()).pathname).toBe('/2fa/verify');

    // Sign out everywhere else: the phone's half sign-in ends too, this one stays.
    await press(laptop, laptop.getByRole('button', { name: 'Sign out everywhere else' }));
    await expect(laptop.getByText('Signed out everywhere else: 1 session ended.').count()).resolves.toBe(1);
    await expect(sessionCards(laptop).count()).resolves.toBe(1);
    await expect(laptop.getByText('You are signed in on this device only.').count()).resolves.toBe(1);
    await reviewPage(laptop, 'account-sessions-alone');
    await phone.reload();
    expect(new URL(phone.url()).pathname).toBe('/login');

    // The admin: Active sessions 1, Sign out everywhere, confirmed.
    const admin = await person();
    await signIn(admin, 'grace@acme.example');
    await admin.goto('/admin/users');
    await press(admin, admin.getByRole('link', { name: 'Sam Sessions' }));
    await expect(admin.locator('#active-sessions').textContent()).resolves.toBe('1');
    await press(admin, admin.getByRole('button', { name: 'Sign out everywhere' }));
    await expect(admin.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('everywhere?');
    await press(admin, admin.getByRole('button', { name: 'Sign out everywhere' }));
    await expect(admin.getByText('Sam Sessions is signed out everywhere').count()).resolves.toBe(1);
    await expect(admin.locator('#active-sessions').textContent()).resolves.toBe('0');
    await laptop.reload();
    expect(new URL(laptop.url()).pathname).toBe('/login');
    const mail = await latestMailTo(app, email, /signed out everywhere/);
    expect(mail.text).toContain('Grace Admin, an admin of your organizer, signed you out of every session');
  });
});
