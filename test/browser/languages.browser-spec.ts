import { Browser, Page } from 'playwright-core';
import { DataSource } from 'typeorm';
import { Catalogue } from '../../src/i18n/catalogue';
import type { Language } from '../../src/i18n/languages';
import { User } from '../../src/users/user.entity';
import { untranslated } from '../utils/i18n';
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

const catalogue = Catalogue.load();

/** Issue 17 in a browser: journey 2 in French and German (axe clean, no overflow at 360 px), and the "done when". */
describe('every page in the person’s language (issue 17)', () => {
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

  /** The page speaks `language`: <html lang>, and nothing left in English or as a raw key. */
  async function speaks(page: Page, language: Language, names: string[]) {
    await page.waitForLoadState('load');
    expect(await page.getAttribute('html', 'lang')).toBe(language);
    expect({ url: page.url(), left: untranslated(await page.content(), language, names) }).toEqual({
      url: page.url(),
      left: [],
    });
  }

  /** Setup page → code → recovery codes → dashboard, checking each page; returns the otpauth URI the QR holds. */
  async function setUpTwoFactor(page: Page, language: Language, names: string[], shots: string) {
    await page.waitForURL('**/2fa/setup');
    await speaks(page, language, names);
    await reviewPage(page, `${shots}-setup`);
    const uri = await readQrCode(page.locator('figure.qr img'));
    await page.locator('#code').fill(authenticatorCode(secretOf(uri), app.clock));
    await page.locator('form[action="/2fa/setup"] button[type="submit"]').click();
    await page.waitForURL('**/2fa/recovery-codes');
    const codes = await page.locator('#recovery-codes li code').allTextContents();
    await speaks(page, language, [...names, ...codes]);
    await reviewPage(page, `${shots}-recovery-codes`);
    await page.locator('#saved').check();
    await page.locator('form[action="/2fa/recovery-codes"] button[type="submit"]').click();
    await page.waitForURL((url) => url.pathname === '/');
    await speaks(page, language, names);
    await reviewPage(page, `${shots}-dashboard`);
    return uri;
  }

  for (const [language, locale] of [
    ['fr', 'fr-FR'],
    ['de', 'de-DE'],
  ] as const) {
    it(`journey 2 in ${language}: the browser’s language, every page translated and accessible, the QR unchanged`, async () => {
      const email = `journey-${language}@acme.example`;
      const names = ['Ada Lovelace', 'Acme Events', email];
      await createUser(app, { email, name: 'Ada Lovelace', organizer: 'Acme Events', twoFactor: true });
      const { context, page } = await newPerson(browser, app, locale);
      await page.goto('/login');
      await speaks(page, language, names);
      await reviewPage(page, `i18n-${language}-01-login`);
      await page.locator('#email').fill(email);
      await page.locator('#password').fill(DEFAULT_PASSWORD);
      await page.getByRole('button', { name: catalogue.format(language, 'signIn.title'), exact: true }).click();
      const uri = await setUpTwoFactor(page, language, names, `i18n-${language}-02`);
      // The authenticator sees the same account whatever the language.
      expect(uri).toMatch(
        new RegExp(
          `^otpauth://totp/TIXNGO%20Backoffice:${encodeURIComponent(email)}\\?secret=[A-Z2-7]{32}&issuer=TIXNGO%20Backoffice`,
        ),
      );
      await context.close();
    });
  }

  it('a French admin invites a German member: the admin’s pages are French; the invitation, setup, recovery codes and security emails German', async () => {
    const admin = await createUser(app, {
      email: 'amelie@salle.example',
      name: 'Amélie Admin',
      organizer: 'Salle Pleyel',
      role: 'admin',
      twoFactor: false,
    });
    await app.get(DataSource).getRepository(User).update({ id: admin.id }, { language: 'fr' });
    const adminNames = ['Amélie Admin', 'Salle Pleyel', 'amelie@salle.example', 'Max Mustermann', 'max@salle.example'];
    // Her browser is set to English: her saved preference decides.
    const { context, page } = await newPerson(browser, app, 'en-US');
    await page.goto('/login');
    await page.locator('#email').fill(admin.email);
    await page.locator('#password').fill(DEFAULT_PASSWORD);
    await page.locator('form[action="/login"] button[type="submit"]').click();
    await page.waitForURL((url) => url.pathname === '/');
    await speaks(page, 'fr', adminNames);
    await page.goto('/admin/users/new');
    await speaks(page, 'fr', adminNames);
    await reviewPage(page, 'i18n-fr-admin-new-user');
    await page.locator('#email').fill('max@salle.example');
    await page.locator('#name').fill('Max Mustermann');
    await page.locator('#language').selectOption('de');
    await page.locator('form[action="/admin/users"] button[type="submit"]').click();
    await page.waitForURL(/\/admin\/users\/[0-9a-f-]{36}$/);
    await speaks(page, 'fr', adminNames);
    await reviewPage(page, 'i18n-fr-admin-user-page');

    const memberNames = ['Max Mustermann', 'Salle Pleyel', 'max@salle.example'];
    const invitation = await latestMailTo(app, 'max@salle.example');
    for (const part of [invitation.subject, invitation.text, invitation.html])
      expect(untranslated(part, 'de', memberNames)).toEqual([]);
    // The member's browser speaks French too (a shared office computer): his saved language wins.
    const member = await newPerson(browser, app, 'fr-FR');
    await member.page.goto(appPathIn(invitation.text, app.config.publicUrl, '/invitations/'));
    await speaks(member.page, 'de', memberNames);
    await reviewPage(member.page, 'i18n-de-invitation');
    await member.page.locator('#newPassword').fill('Ein langes Passwort für Max 2026');
    await member.page.locator('#confirmPassword').fill('Ein langes Passwort für Max 2026');
    await member.page.locator('main form button[type="submit"]').click();
    await setUpTwoFactor(member.page, 'de', memberNames, 'i18n-de-member');
    const security = await latestMailTo(app, 'max@salle.example');
    expect(security.subject).not.toBe(invitation.subject);
    for (const part of [security.subject, security.text, security.html])
      expect(untranslated(part, 'de', memberNames)).toEqual([]);
    await member.context.close();
    await context.close();
  });
});
