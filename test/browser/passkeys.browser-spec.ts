import { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import { BrowserApp, launchChromium, newPerson, reviewPage, startBrowserApp } from './support/browser';

/**
 * Issue 13 in Chromium: a virtual authenticator (DevTools' WebAuthn domain: ctap2, internal
 * transport, resident key, user verification) plays the phone. Add a passkey on /account, sign
 * out, then password and **Use a passkey**, then **Sign in with a passkey** alone from /login; a
 * browser whose authenticator holds no credential of the account gets a message on the page.
 */
describe('passkeys in a browser', () => {
  let app: BrowserApp;
  let browser: Browser;
  const email = 'pat@passkey.example';

  beforeAll(async () => {
    // WebAuthn binds to the relying party: the browser must be at PUBLIC_URL (http://localhost:<port>).
    app = await startBrowserApp({ atPublicUrl: true });
    browser = await launchChromium();
    await createUser(app, { email, name: 'Pat Passkey', organizer: 'Keys Org', twoFactor: false });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function withAuthenticator(context: BrowserContext, page: Page): Promise<CDPSession> {
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    return cdp;
  }

  async function signIn(page: Page) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('adds a passkey on /account, then signs in with password and Use a passkey; another authenticator is refused', async () => {
    const { context, page } = await newPerson(browser, app);
    const cdp = await withAuthenticator(context, page);
    await signIn(page);
    await page.waitForURL('**/');
    await page.goto('/account');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.getByLabel('Passkey name').fill('Work laptop');
    await page.getByRole('button', { name: 'Save passkey' }).click();
    // The first factor comes with recovery codes.
    await page.waitForURL('**/2fa/recovery-codes');
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL('**/account');
    await expect(page.locator('.passkeys').textContent()).resolves.toContain('Work laptop');
    await reviewPage(page, '40-account-passkey');
    // Remove asks first (the confirmation page, reviewed too), and Cancel changes nothing.
    await page
      .locator('.passkeys li', { hasText: 'Work laptop' })
      .getByRole('button', { name: 'Remove', exact: true })
      .click();
    await page.waitForURL('**/account/passkeys/**/remove');
    await reviewPage(page, '44-remove-passkey');
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL('**/account');
    await expect(page.locator('.passkeys').textContent()).resolves.toContain('Work laptop');
    await page.getByRole('button', { name: 'Log out' }).click();

    await signIn(page);
    await page.waitForURL('**/2fa/verify');
    await reviewPage(page, '41-verify-passkey');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.getByText('Signed in as').count()).resolves.toBeGreaterThan(0);

    // Sign in with a passkey alone, from /login (a discoverable credential with user verification).
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login**');
    await reviewPage(page, '42-login-passkey');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.getByText('Signed in as').count()).resolves.toBeGreaterThan(0);
    await cdp.detach();
    await context.close();

    // Another browser whose authenticator holds no credential of this account.
    const stranger = await newPerson(browser, app);
    await withAuthenticator(stranger.context, stranger.page);
    await signIn(stranger.page);
    await stranger.page.waitForURL('**/2fa/verify');
    await stranger.page.getByRole('button', { name: 'Use a passkey' }).click();
    const error = stranger.page.locator('[data-passkey-error]');
    await error.waitFor({ state: 'visible' });
    await expect(error.textContent()).resolves.toMatch(/not used|cancelled|timed out/i);
    await stranger.context.close();
  });

  it('sets up a passkey instead of an authenticator app at the first sign-in', async () => {
    const first = 'new@passkey.example';
    await createUser(app, { email: first, name: 'Nia New', organizer: 'Keys Org', twoFactor: true });
    const { context, page } = await newPerson(browser, app);
    await withAuthenticator(context, page);
    await page.goto('/login');
    await page.getByLabel('Email').fill(first);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL('**/2fa/setup');
    await reviewPage(page, '43-setup-passkey');
    await page.getByRole('button', { name: 'Use a passkey instead' }).click();
    await page.getByLabel('Passkey name').fill('Phone');
    await page.getByRole('button', { name: 'Save passkey' }).click();
    await page.waitForURL('**/2fa/recovery-codes');
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.getByText('Signed in as').count()).resolves.toBeGreaterThan(0);
    await context.close();
  });

  it('the organizer switch turns sign-in with a passkey alone off; Resend QR removes the passkeys', async () => {
    const adminEmail = 'owner@passkey.example';
    const member = 'member@passkey.example';
    await createUser(app, {
      email: adminEmail,
      name: 'Olive Owner',
      organizer: 'Switch Keys Org',
      role: 'admin',
      twoFactor: false,
    });
    const memberUser = await createUser(app, {
      email: member,
      name: 'Milo Member',
      organizer: 'Switch Keys Org',
      twoFactor: false,
    });

    // The member adds a passkey (in their own browser, with its own authenticator).
    const phone = await newPerson(browser, app);
    await withAuthenticator(phone.context, phone.page);
    await signInAs(phone.page, member);
    await phone.page.waitForURL('**/');
    await phone.page.goto('/account');
    await phone.page.getByRole('button', { name: 'Add a passkey' }).click();
    await phone.page.getByLabel('Passkey name').fill('Phone');
    await phone.page.getByRole('button', { name: 'Save passkey' }).click();
    await phone.page.waitForURL('**/2fa/recovery-codes');
    await phone.page.getByLabel('I have saved these codes').check();
    await phone.page.getByRole('button', { name: 'Continue' }).click();
    await phone.page.getByRole('button', { name: 'Log out' }).click();

    // The admin turns "Allow sign-in with a passkey alone" off.
    const desk = await newPerson(browser, app);
    await signInAs(desk.page, adminEmail);
    await desk.page.waitForURL('**/');
    await desk.page.goto('/admin/organizer');
    await desk.page.getByLabel('Allow sign-in with a passkey alone').uncheck();
    await desk.page.getByRole('button', { name: 'Save passkey settings' }).click();
    await desk.page.waitForURL('**/admin/organizer');
    await reviewPage(desk.page, '45-organizer-passkeys');

    await phone.page.goto('/login');
    await phone.page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await phone.page.waitForURL('**/login/passkey');
    await expect(phone.page.locator('[data-passkey-error]').textContent()).resolves.toContain(
      'does not allow signing in with a passkey alone',
    );

    // Resend QR on the member's page takes the passkey too (a lost phone takes its passkeys).
    await desk.page.goto(`/admin/users/${memberUser.id}`);
    await expect(desk.page.locator('#factors').textContent()).resolves.toContain('Passkey “Phone”');
    await desk.page.getByRole('button', { name: 'Resend QR' }).click();
    await desk.page.getByRole('button', { name: 'Resend QR' }).click();
    await desk.page.waitForURL(`**/admin/users/${memberUser.id}`);
    await expect(desk.page.locator('#factors').textContent()).resolves.toContain('None set up');
    await phone.context.close();
    await desk.context.close();
  });

  async function signInAs(page: Page, address: string) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password', { exact: true }).fill(DEFAULT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }
});
