import { readFileSync } from 'node:fs';
import { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { timeStep, totpCode } from '../../src/two-factor/totp';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import {
  appPathIn,
  authenticatorCode,
  BrowserApp,
  latestMailTo,
  LAPTOP,
  launchChromium,
  newPerson,
  newTab,
  PHONE,
  reviewPage,
  snap,
  startBrowserApp,
} from './support/browser';
import { parseCsv } from '../utils/csv';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

interface Member {
  user: User;
  email: string;
  name: string;
  password: string;
  /** The authenticator's secret, '' while the user has none. */
  secret: string;
  recoveryCodes: string[];
}

/**
 * Issue 7 in Chromium: the organizer 2FA policy (grace banner counting down with the clock,
 * setup forced after the deadline, "Not set up yet", adoption, Disable 2FA refused), the
 * account page (password change, re-authentication for new recovery codes), "This wasn't me"
 * from the email to the admin's unlock, the clock hint on the verify page, and the CSV export.
 */
describe('beyond the usual in a browser (issue 7)', () => {
  let app: BrowserApp;
  let browser: Browser;
  let admin: Member;
  let abe: Member;
  let otto: Member;
  let ada: Member;
  let nia: Member;
  const acmeEmails: string[] = [];
  const globexEmails: string[] = [];
  let adminPerson: { context: BrowserContext; page: Page };

  /** A user of Acme Events, created through the services; with `authenticator`, 2FA set up (through HTTP, not the UI). */
  async function member(
    email: string,
    name: string,
    options: { role?: 'admin'; authenticator: boolean },
  ): Promise<Member> {
    const user = await createUser(app, {
      email,
      name,
      role: options.role ?? 'member',
      organizer: 'Acme Events',
      twoFactor: options.authenticator,
    });
    acmeEmails.push(email);
    let secret = '';
    let recoveryCodes: string[] = [];
    if (options.authenticator) {
      const setup = new Person(app.server);
      await setup.login(email, DEFAULT_PASSWORD);
      ({ secret, recoveryCodes } = await setup.setUpTwoFactor(app.clock));
    }
    return { user, email, name, password: DEFAULT_PASSWORD, secret, recoveryCodes };
  }

  beforeAll(async () => {
    app = await startBrowserApp();
    browser = await launchChromium();
    admin = await member('grace@acme.example', 'Grace Hopper', { role: 'admin', authenticator: true });
    abe = await member('abe@acme.example', 'Abe Active', { authenticator: true });
    otto = await member('otto@acme.example', 'Otto Off', { authenticator: false });
    ada = await member('ada@acme.example', 'Ada Lovelace', { authenticator: true });
    nia = await member('nia@acme.example', 'Nia Reported', { authenticator: true });
    // Another organizer, with an admin of its own: none of them may leak into Acme's pages or export.
    for (const [email, name, role] of [
      ['gus@globex.example', 'Gus Globex', 'admin'],
      ['bob@globex.example', 'Bob Other', 'member'],
    ] as const) {
      // Invited (no password yet): nothing to hash, and a user of the other organizer all the same.
      await createUser(app, { email, name, role, organizer: 'Globex Shows', password: null, twoFactor: false });
      globexEmails.push(email);
    }
    adminPerson = await newPerson(browser, app);
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** Each code is a new time step (a step is accepted once per user). */
  function nextCode(who: Member): string {
    app.clock.advance(30_000);
    return authenticatorCode(who.secret, app.clock);
  }

  const pathOf = (page: Page) => {
    const url = new URL(page.url());
    return url.pathname + url.search;
  };

  /** Clicks a button or link and waits for the page it leads to (a new document, even at the same address). */
  async function press(page: Page, target: Locator): Promise<void> {
    await Promise.all([page.waitForEvent('load'), target.click()]);
  }

  /** The login form (the page must show it already, or /login is opened), then the code when the user has an authenticator. */
  async function signIn(page: Page, who: Member, password = who.password): Promise<void> {
    if (new URL(page.url()).pathname !== '/login') await page.goto('/login');
    await page.getByLabel('Email').fill(who.email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await press(page, page.getByRole('button', { name: 'Sign in', exact: true }));
    if (who.secret && new URL(page.url()).pathname === '/2fa/verify') {
      await page.getByLabel('Verification code').fill(nextCode(who));
      await press(page, page.getByRole('button', { name: 'Verify' }));
      await page.waitForURL((url) => url.pathname !== '/2fa/verify');
    }
  }

  /** Opens a page; when the session ended (30 idle minutes, a moved clock) signs in again and lands back on it. */
  async function openAs(page: Page, who: Member, path: string): Promise<void> {
    await page.goto(path);
    if (new URL(page.url()).pathname === '/login') {
      await signIn(page, who);
      await page.waitForURL((url) => url.pathname + url.search === path);
    }
    expect(pathOf(page)).toBe(path);
  }

  /**
   * Screenshots at 1280 and 360 px of a page whose template another browser spec already checks
   * with axe in the same state (setup 02, login with an error 22, confirmation 17, recovery codes 04):
   * only its words differ here, and axe costs seconds a page on this machine.
   */
  async function screenshots(page: Page, name: string): Promise<void> {
    await snap(page, `${name}-1280`);
    await page.setViewportSize(PHONE);
    try {
      await snap(page, `${name}-360`);
    } finally {
      await page.setViewportSize(LAPTOP);
    }
  }

  const heading = (page: Page) => page.getByRole('heading', { level: 1 }).textContent();
  const flash = (page: Page) => page.locator('.flashes').textContent();

  it('organizer policy: grace banner counting down, setup forced after the deadline, "Not set up yet", adoption, Disable 2FA refused', async () => {
    const { context, page } = adminPerson;
    // A tab left open on Abe's page from before the policy: its Disable 2FA button is still there.
    await openAs(page, admin, '/admin/users');
    await press(page, page.getByRole('link', { name: 'Abe Active' }));
    await page.waitForURL(`**/admin/users/${abe.user.id}`);
    const staleTab = await newTab(context);
    await staleTab.goto(`/admin/users/${abe.user.id}`);
    await expect(staleTab.getByRole('button', { name: 'Disable 2FA' }).count()).resolves.toBe(1);

    // The admin turns the policy on: 3 days for everyone without an authenticator.
    await press(page, page.getByRole('link', { name: '← All users' }));
    await press(page, page.getByRole('link', { name: 'Organizer 2FA policy' }));
    await page.waitForURL('**/admin/organizer');
    await expect(page.getByLabel('Require 2FA for everyone in this organizer').isChecked()).resolves.toBe(false);
    await page.getByLabel('Require 2FA for everyone in this organizer').check();
    await page.getByLabel('Grace period (days)').fill('3');
    await press(page, page.getByRole('button', { name: 'Save policy' }));
    expect(pathOf(page)).toBe('/admin/organizer');
    // Otto is the only Acme user without an authenticator; Globex is untouched.
    await expect(flash(page)).resolves.toMatch(
      /now required for everyone.*1 user without an authenticator app must set one up within 3 days/s,
    );
    await expect(page.getByLabel('Require 2FA for everyone in this organizer').isChecked()).resolves.toBe(true);
    await expect(page.getByLabel('Grace period (days)').inputValue()).resolves.toBe('3');
    await expect(page.locator('#policy-adoption').textContent()).resolves.toMatch(
      /4 of 5 users have an active authenticator app\.\s+1 not set up yet/,
    );
    await reviewPage(page, '40-organizer-policy-on');

    // Disable 2FA, pressed on the tab opened before: refused, with the reason, and gone from the page.
    await press(staleTab, staleTab.getByRole('button', { name: 'Disable 2FA' }));
    await staleTab.waitForURL(`**/admin/users/${abe.user.id}`);
    await expect(staleTab.getByRole('alert').textContent()).resolves.toContain(
      'Your organizer requires two-factor authentication for everyone, so it cannot be turned off',
    );
    await expect(staleTab.getByRole('button', { name: 'Disable 2FA' }).count()).resolves.toBe(0);
    await expect(staleTab.locator('main').textContent()).resolves.toContain(
      'requires 2FA for everyone, so Disable 2FA is not available',
    );
    await expect(staleTab.locator('#two-factor-state').textContent()).resolves.toBe('Active');
    await reviewPage(staleTab, '41-user-page-disable-refused');
    await staleTab.close();

    // Otto, without an authenticator, signs in: the banner with 3 days left and a link to set up now.
    const { page: ottoPage } = await newPerson(browser, app);
    await signIn(ottoPage, otto);
    await ottoPage.waitForURL((url) => url.pathname === '/');
    const banner = ottoPage.locator('main .banner');
    await expect(banner.textContent()).resolves.toContain('3 days left to set it up');
    await expect(banner.getByRole('link', { name: 'Set up now' }).getAttribute('href')).resolves.toBe('/2fa/setup');
    await reviewPage(ottoPage, '42-grace-banner-3-days', { darkToo: true });

    // A day later (the session ended after 30 idle minutes): 2 days left.
    app.clock.advance(DAY + MINUTE);
    await ottoPage.goto('/');
    expect(new URL(ottoPage.url()).pathname).toBe('/login');
    await signIn(ottoPage, otto);
    await ottoPage.waitForURL((url) => url.pathname === '/');
    await expect(banner.textContent()).resolves.toContain('2 days left to set it up');
    // The link really leads to the setup page.
    await press(ottoPage, banner.getByRole('link', { name: 'Set up now' }));
    await ottoPage.waitForURL('**/2fa/setup');
    await expect(heading(ottoPage)).resolves.toBe('Set up two-factor authentication');

    // Past the deadline: sign-in goes to the setup page, and so does every other page.
    app.clock.advance(2 * DAY);
    await ottoPage.goto('/');
    expect(new URL(ottoPage.url()).pathname).toBe('/login');
    await signIn(ottoPage, otto);
    await ottoPage.waitForURL('**/2fa/setup');
    for (const elsewhere of ['/', '/account', '/admin/users']) {
      await ottoPage.goto(elsewhere);
      expect(new URL(ottoPage.url()).pathname).toBe('/2fa/setup');
    }
    await expect(heading(ottoPage)).resolves.toBe('Set up two-factor authentication');
    await expect(ottoPage.getByRole('navigation', { name: 'Main' }).count()).resolves.toBe(0);
    await expect(ottoPage.locator('main .banner').count()).resolves.toBe(0);
    await screenshots(ottoPage, '43-setup-after-deadline');
    await ottoPage.context().close();

    // The admin (signed in again: days passed) sees the adoption and filters to "Not set up yet".
    await openAs(page, admin, '/admin/users');
    const adoption = page.getByRole('region', { name: '2FA adoption' });
    await expect(adoption.textContent()).resolves.toMatch(/4 of 5 active\s+· 1 pending setup\s+· 0 locked/);
    await expect(adoption.textContent()).resolves.toContain('Your organizer requires 2FA for everyone.');
    await expect(adoption.getByRole('link', { name: '1 not set up yet' }).getAttribute('href')).resolves.toBe(
      '/admin/users?show=not-set-up',
    );
    await page.getByLabel('Show').selectOption({ label: 'Not set up yet' });
    await press(page, page.getByRole('button', { name: 'Search' }));
    await page.waitForURL((url) => url.searchParams.get('show') === 'not-set-up');
    const table = page.getByRole('table');
    await expect(table.locator('caption').textContent()).resolves.toBe('1 user without an active authenticator');
    const names = await table.locator('tbody th').allTextContents();
    expect(names).toEqual(['Otto Off']);
    await expect(table.getByRole('row', { name: /Otto Off/ }).textContent()).resolves.toContain('Pending setup');
    await expect(page.getByLabel('Show').inputValue()).resolves.toBe('not-set-up');
    await reviewPage(page, '44-users-not-set-up');
  });

  it('account page: change password (other sessions end), new recovery codes only after "Confirm it is you"', async () => {
    const { page } = await newPerson(browser, app);
    const { context: otherContext, page: other } = await newPerson(browser, app);
    await signIn(page, ada);
    await page.waitForURL((url) => url.pathname === '/');
    await signIn(other, ada);
    await other.waitForURL((url) => url.pathname === '/');

    await press(page, page.getByRole('link', { name: 'Your account' }));
    await page.waitForURL('**/account');
    await expect(heading(page)).resolves.toBe('Your account');
    await expect(page.locator('main').textContent()).resolves.toMatch(/Active · 10 recovery codes left/);
    await reviewPage(page, '45-account');

    // The current password is required.
    const newPassword = 'a brand new passphrase for ada';
    await page.getByLabel('Current password').fill('not my password at all');
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    await press(page, page.getByRole('button', { name: 'Change password' }));
    await expect(page.getByRole('alert').count()).resolves.toBe(1);
    await expect(page.locator('#currentPassword-error').textContent()).resolves.toMatch(
      /current password is not correct/,
    );
    await expect(page.getByLabel('Current password').getAttribute('aria-invalid')).resolves.toBe('true');
    // Passwords are never sent back into the form.
    await expect(page.getByLabel('New password', { exact: true }).inputValue()).resolves.toBe('');
    await reviewPage(page, '46-account-password-wrong-current');

    await page.getByLabel('Current password').fill(ada.password);
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    await press(page, page.getByRole('button', { name: 'Change password' }));
    await page.waitForURL('**/account');
    await expect(flash(page)).resolves.toContain('Your password was changed. You were signed out everywhere else.');
    ada.password = newPassword;

    // The other browser signed in as Ada is signed out; this one stays signed in.
    await other.goto('/account');
    expect(new URL(other.url()).pathname).toBe('/login');
    await otherContext.close();
    await page.reload();
    expect(new URL(page.url()).pathname).toBe('/account');

    // More than 5 minutes since the last code: new recovery codes first ask for a fresh one.
    app.clock.advance(6 * MINUTE);
    await press(page, page.getByRole('button', { name: 'Regenerate recovery codes' }));
    await page.waitForURL('**/account/confirm?continue=recovery-codes');
    await expect(heading(page)).resolves.toBe('Confirm it is you');
    await expect(flash(page)).resolves.toContain('This change needs a fresh code from your authenticator app');
    await reviewPage(page, '47-confirm-it-is-you');

    const wrong = authenticatorCode(ada.secret, app.clock) === '000000' ? '111111' : '000000';
    await page.getByLabel('Verification code').fill(wrong);
    await press(page, page.getByRole('button', { name: 'Verify' }));
    await expect(page.getByRole('alert').count()).resolves.toBe(1);
    await expect(heading(page)).resolves.toBe('Confirm it is you');
    await reviewPage(page, '48-confirm-it-is-you-wrong-code');

    // The right code goes on with the change that asked for it: the new codes, no second click.
    await page.getByLabel('Verification code').fill(nextCode(ada));
    await press(page, page.getByRole('button', { name: 'Verify' }));
    await page.waitForURL('**/2fa/recovery-codes');
    const codes = (await page.locator('main li code').allTextContents()).map((code) => code.trim());
    expect(codes).toHaveLength(10);
    for (const old of ada.recoveryCodes) expect(codes).not.toContain(old);
    await screenshots(page, '49-recovery-codes-regenerated');
    await page.getByLabel('I have saved these codes').check();
    await press(page, page.getByRole('button', { name: 'Continue' }));
    await page.waitForURL('**/account');
    await expect(page.locator('main').textContent()).resolves.toMatch(/Active · 10 recovery codes left/);
    await page.context().close();
  });

  it('"This wasn\'t me": the emailed link locks the account and ends its session, the admin is told and unlocks it', async () => {
    // Nia is signed in somewhere.
    const { context: niaContext, page: niaPage } = await newPerson(browser, app);
    await signIn(niaPage, nia);
    await niaPage.waitForURL((url) => url.pathname === '/');

    // The email about her authenticator carries the link; it is opened in a fresh browser.
    const setupMail = await latestMailTo(app, nia.email, /set up/i);
    const link = appPathIn(setupMail.text, app.config.publicUrl, '/not-me/');
    const { context: stranger, page } = await newPerson(browser, app);
    await page.goto(link);
    await expect(heading(page)).resolves.toBe("This wasn't me");
    await expect(page.locator('main').textContent()).resolves.toContain(nia.email);
    await reviewPage(page, '50-not-me', { darkToo: true });
    await press(page, page.getByRole('button', { name: 'Lock my account' }));
    await expect(heading(page)).resolves.toBe('Your account is locked');
    await reviewPage(page, '51-not-me-done');
    await stranger.close();

    // Her open session ended.
    await niaPage.goto('/account');
    expect(new URL(niaPage.url()).pathname).toBe('/login');

    // The admin got the "Security report" email with a link to her page.
    const report = await latestMailTo(app, admin.email, /Security report/);
    expect(report.subject).toContain(nia.email);
    const userPage = appPathIn(report.text, app.config.publicUrl, '/admin/users/');
    expect(userPage).toBe(`/admin/users/${nia.user.id}`);

    // The right password now says the account is locked.
    await signIn(niaPage, nia);
    expect(new URL(niaPage.url()).pathname).toBe('/login');
    await expect(niaPage.getByRole('alert').textContent()).resolves.toContain(
      'This account is locked because a sign-in was reported as not yours',
    );
    await screenshots(niaPage, '52-login-account-locked');

    // The admin opens the link of the email and unlocks, after a confirmation.
    const { page: adminPage } = adminPerson;
    await openAs(adminPage, admin, userPage);
    await expect(adminPage.locator('#account-lock').textContent()).resolves.toContain(
      "Locked by the user (This wasn't me) since",
    );
    await reviewPage(adminPage, '53-user-page-account-locked', { darkToo: true });
    await press(adminPage, adminPage.getByRole('button', { name: 'Unlock account' }));
    await expect(heading(adminPage)).resolves.toContain('Unlock the account of Nia Reported');
    await screenshots(adminPage, '54-confirm-unlock');
    await press(adminPage, adminPage.getByRole('button', { name: 'Unlock account' }));
    await adminPage.waitForURL(`**${userPage}`);
    await expect(flash(adminPage)).resolves.toContain('The account of Nia Reported is unlocked');
    await expect(adminPage.locator('#account-lock').count()).resolves.toBe(0);

    // Nia signs in again (password, code) and lands on the page she asked for before.
    await signIn(niaPage, nia);
    expect(pathOf(niaPage)).toBe('/account');
    await expect(heading(niaPage)).resolves.toBe('Your account');
    await expect(niaPage.getByRole('banner').textContent()).resolves.toContain('Nia Reported');
    await niaContext.close();
  });

  it('clock hint: a code 3 steps old says the phone is 90 seconds behind; a random wrong code says nothing of the clock', async () => {
    const { context, page } = await newPerson(browser, app);
    await page.goto('/login');
    await page.getByLabel('Email').fill(abe.email);
    await page.getByLabel('Password', { exact: true }).fill(abe.password);
    await press(page, page.getByRole('button', { name: 'Sign in', exact: true }));
    await page.waitForURL('**/2fa/verify');

    app.clock.advance(30_000);
    const now = timeStep(app.clock.now());
    await page.getByLabel('Verification code').fill(totpCode(abe.secret, now - 3));
    await press(page, page.getByRole('button', { name: 'Verify' }));
    expect(new URL(page.url()).pathname).toBe('/2fa/verify');
    await expect(page.locator('#code-error').textContent()).resolves.toContain(
      "Your phone's clock seems 90 seconds behind",
    );
    await reviewPage(page, '55-verify-clock-hint');

    // A code no step within ±10 of now shows: refused, and no word about the clock.
    const near = new Set(Array.from({ length: 21 }, (_, i) => totpCode(abe.secret, now - 10 + i)));
    const random = ['000000', '111111', '222222', '333333'].find((code) => !near.has(code))!;
    await page.getByLabel('Verification code').fill(random);
    await press(page, page.getByRole('button', { name: 'Verify' }));
    expect(new URL(page.url()).pathname).toBe('/2fa/verify');
    await expect(page.locator('#code-error').textContent()).resolves.toMatch(/\S/);
    await expect(page.locator('main').textContent()).resolves.not.toMatch(/clock seems/);

    // The current code still works: the window was not widened, the hint changed nothing.
    await page.getByLabel('Verification code').fill(nextCode(abe));
    await press(page, page.getByRole('button', { name: 'Verify' }));
    await page.waitForURL((url) => url.pathname === '/');
    await context.close();
  });

  it("CSV export: the download holds only the admin's organizer's users", async () => {
    const { page } = adminPerson;
    await openAs(page, admin, '/admin/users');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export CSV' }).click(),
    ]);
    const date = app.clock.now().toISOString().slice(0, 10);
    expect(download.suggestedFilename()).toBe(`users-acme-events-${date}.csv`);
    const [header, ...rows] = parseCsv(readFileSync((await download.path())!, 'utf8'));
    expect(header).toEqual(['Name', 'Email', 'Role', '2FA', 'Last sign-in', 'Created', 'Factors']);
    expect(rows.map((row) => row[1]).sort()).toEqual([...acmeEmails].sort());
    const everything = rows.flat().join('\n');
    for (const email of globexEmails) expect(everything).not.toContain(email);
    expect(everything).not.toMatch(/Globex/);
    const byEmail = Object.fromEntries(rows.map((row) => [row[1], row]));
    // Otto has no authenticator: 'Pending setup' under the policy of the first test, 'Off' when this test runs alone.
    expect(byEmail[otto.email][2]).toBe('Member');
    expect(['Pending setup', 'Off']).toContain(byEmail[otto.email][3]);
    expect(byEmail[admin.email].slice(2, 4)).toEqual(['Admin', 'Active']);
  });
});
