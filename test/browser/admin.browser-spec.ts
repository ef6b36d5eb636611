import { Browser, BrowserContext, Page } from 'playwright-core';
import { Person } from '../utils/agent';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import {
  appPathIn,
  authenticatorCode,
  BrowserApp,
  latestMailTo,
  launchChromium,
  newPerson,
  readQrCode,
  reviewPage,
  secretOf,
  startBrowserApp,
} from './support/browser';

/** PRODUCT.md journeys 1 (invitation, from the .eml outbox) and 4 (Resend QR), and the admin pages, in Chromium. */
describe('admin pages in a browser (journeys 1, 4)', () => {
  let app: BrowserApp;
  let browser: Browser;
  let adminSecret = '';
  const adminEmail = 'grace@acme.example';
  const memberEmail = 'lin@acme.example';
  const memberPassword = 'a kettle of seven blue herons';
  let admin: { context: BrowserContext; page: Page };
  let member: { context: BrowserContext; page: Page };
  let memberSecret = '';

  beforeAll(async () => {
    app = await startBrowserApp();
    browser = await launchChromium();
    await createUser(app, {
      email: adminEmail,
      name: 'Grace Hopper',
      role: 'admin',
      organizer: 'Acme Events',
      twoFactor: true,
    });
    const setup = new Person(app.server);
    await setup.login(adminEmail, DEFAULT_PASSWORD);
    adminSecret = (await setup.setUpTwoFactor(app.clock)).secret;
    admin = await newPerson(browser, app);
    member = await newPerson(browser, app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** Each code is a new time step (a step is accepted once). */
  function nextCode(secret: string): string {
    app.clock.advance(30_000);
    return authenticatorCode(secret, app.clock);
  }

  /** The setup page of journey 2, as a person with a phone: scan the QR, type the code, save the codes. */
  async function setUpAuthenticator(page: Page): Promise<string> {
    await page.waitForURL('**/2fa/setup');
    const secret = secretOf(await readQrCode(page.getByRole('img', { name: /QR code/ })));
    await page.getByLabel('Verification code').fill(nextCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/2fa/recovery-codes');
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    return secret;
  }

  it('journey 3 with a requested page: Users asks for sign-in, then opens after the code', async () => {
    const { page } = admin;
    await page.goto('/admin/users');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Email').fill(adminEmail);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/2fa/verify');
    await page.getByLabel('Verification code').fill(nextCode(adminSecret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/admin/users');
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Users' }).getAttribute('aria-current')).resolves.toBe('page');
    await expect(page.getByRole('banner').textContent()).resolves.toContain('Acme Events');
    await reviewPage(page, '10-users-list', { darkToo: true });
  });

  it('journey 1: New user, the invitation email, choose a password, set up 2FA, dashboard', async () => {
    const { page } = admin;
    await page.getByRole('link', { name: 'New user' }).click();
    await page.waitForURL('**/admin/users/new');
    await expect(page.getByLabel('Enable 2-Factor Authentication for this user').isChecked()).resolves.toBe(true);
    await reviewPage(page, '11-new-user');

    // Nothing filled in: the same form, a summary and the messages by the fields.
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForLoadState('load');
    await expect(page.getByRole('alert').count()).resolves.toBe(1);
    await reviewPage(page, '12-new-user-errors');

    await page.getByLabel('Email').fill(memberEmail);
    await page.getByLabel('Name').fill('Lin Chen');
    await page.getByLabel('Role').selectOption({ label: 'Member' });
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/admin\/users\/[^/]+$/);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('Account created for Lin Chen');
    await reviewPage(page, '13-user-page-invited');

    // The email in the outbox, opened by the new user in their own browser.
    const mail = await latestMailTo(app, memberEmail, /invited/i);
    const link = appPathIn(mail.text, app.config.publicUrl, '/invitations/');
    const { page: lin } = member;
    await lin.goto(link);
    expect(await lin.getByLabel('New password').getAttribute('autocomplete')).toBe('new-password');
    expect(await lin.getByLabel('Confirm password').getAttribute('autocomplete')).toBe('new-password');
    await reviewPage(lin, '14-invitation', { darkToo: true });

    await lin.getByLabel('New password').fill(memberPassword);
    await lin.getByLabel('Confirm password').fill(memberPassword + ' but different');
    await lin.getByRole('button', { name: 'Set password' }).click();
    await lin.waitForLoadState('load');
    await expect(lin.getByRole('alert').count()).resolves.toBe(1);
    await reviewPage(lin, '15-invitation-errors');

    await lin.getByLabel('New password').fill(memberPassword);
    await lin.getByLabel('Confirm password').fill(memberPassword);
    await lin.getByRole('button', { name: 'Set password' }).click();
    memberSecret = await setUpAuthenticator(lin);
    await expect(lin.locator('main').textContent()).resolves.toContain('Signed in as Lin Chen');

    // The admin sees the new state; a member gets a 403 page in the layout for the admin pages.
    await page.goto('/admin/users');
    await expect(page.getByRole('row', { name: /Lin Chen/ }).textContent()).resolves.toContain('Active');
    const forbidden = await lin.goto('/admin/users');
    expect(forbidden?.status()).toBe(403);
    await expect(lin.getByRole('banner').textContent()).resolves.toContain('Lin Chen');
    await expect(
      lin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count(),
    ).resolves.toBe(0);
    await reviewPage(lin, '16-error-403-member');
  });

  it('journey 4: Resend QR, confirmed; the user is signed out, and the emailed link leads to a new QR', async () => {
    expect(memberSecret).not.toBe('');
    const { page } = admin;
    await page.goto('/admin/users');
    await page.getByRole('link', { name: 'Lin Chen' }).click();
    await page.waitForURL(/\/admin\/users\/[^/]+$/);
    await page.getByRole('button', { name: 'Resend QR' }).click();
    await page.waitForLoadState('load');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toContain('Resend QR for Lin Chen');
    await reviewPage(page, '17-confirm-resend-qr');
    await page.getByRole('button', { name: 'Resend QR' }).click();
    await page.waitForURL(/\/admin\/users\/[^/]+$/);
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('QR reset for Lin Chen');
    await expect(page.locator('#latest-reset').textContent()).resolves.toContain('waiting');
    await reviewPage(page, '18-user-page-after-reset', { darkToo: true });

    // Lin's session ended at once.
    const { page: lin } = member;
    await lin.goto('/');
    expect(new URL(lin.url()).pathname).toBe('/login');

    // The password alone never shows a QR: Lin is told to use the email.
    await lin.getByLabel('Email').fill(memberEmail);
    await lin.getByLabel('Password', { exact: true }).fill(memberPassword);
    await lin.getByRole('button', { name: 'Sign in', exact: true }).click();
    await lin.waitForURL('**/2fa/setup');
    await expect(lin.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your email');
    await expect(lin.getByRole('img', { name: /QR code/ }).count()).resolves.toBe(0);
    await reviewPage(lin, '19-reset-required');
    await lin.getByRole('button', { name: 'Log out' }).click();
    await lin.waitForURL('**/login?reason=signed-out');

    // The email: a link, and no secret, no QR, no otpauth URI.
    const mail = await latestMailTo(app, memberEmail, /authenticator/i);
    expect(mail.text + mail.html).not.toMatch(/otpauth|secret=|data:image|<img/i);
    const link = appPathIn(mail.text, app.config.publicUrl, '/2fa/reset/');
    await lin.goto(link);
    await expect(lin.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Set up your authenticator again');
    await reviewPage(lin, '19b-reset-password');
    await lin.getByLabel('Password', { exact: true }).fill(memberPassword);
    await lin.getByRole('button', { name: 'Continue' }).click();
    const newSecret = await setUpAuthenticator(lin);
    expect(newSecret).not.toBe(memberSecret);
    await expect(lin.locator('main').textContent()).resolves.toContain('Signed in as Lin Chen');

    await page.reload();
    await expect(page.locator('#latest-reset').textContent()).resolves.toContain('done');
    await expect(page.locator('#two-factor-state').textContent()).resolves.toBe('Active');
    await reviewPage(page, '18b-user-page-reset-done');
  });

  it('the organizer 2FA policy page, and its error state', async () => {
    const { page } = admin;
    await page.goto('/admin/users');
    await page.getByRole('link', { name: 'Organizer 2FA policy' }).click();
    await page.waitForURL('**/admin/organizer');
    await reviewPage(page, '26-organizer-policy');
    await page.getByLabel('Grace period (days)').fill('99');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.waitForLoadState('load');
    await expect(page.getByRole('alert').count()).resolves.toBe(1);
    await reviewPage(page, '27-organizer-policy-errors');
  });
});
