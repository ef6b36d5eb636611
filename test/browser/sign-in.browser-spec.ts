import { readFileSync } from 'node:fs';
import { Browser, Page } from 'playwright-core';
import { TOTP_WINDOW, timeStep, totpCode } from '../../src/two-factor/totp';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import {
  authenticatorCode,
  BrowserApp,
  launchChromium,
  newPerson,
  PHONE,
  quietZoneIsWhite,
  readQrCode,
  reviewPage,
  secretOf,
  startBrowserApp,
} from './support/browser';

/** PRODUCT.md journeys 2 (first login with set-up), 3 (later logins, recovery code) and 7 (log out), in Chromium. */
describe('sign-in in a browser (journeys 2, 3, 7)', () => {
  let app: BrowserApp;
  let browser: Browser;
  const email = 'ada@acme.example';
  let secret = '';
  let recoveryCodes: string[] = [];

  beforeAll(async () => {
    app = await startBrowserApp();
    browser = await launchChromium();
    await createUser(app, { email, name: 'Ada Lovelace', organizer: 'Acme Events', twoFactor: true });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function signIn(page: Page, password = DEFAULT_PASSWORD) {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  /** A 6-digit code no authenticator shows right now (outside the accepted window). */
  function wrongCode(): string {
    const now = timeStep(app.clock.now());
    const valid = new Set(
      Array.from({ length: 2 * TOTP_WINDOW + 1 }, (_, i) => totpCode(secret, now - TOTP_WINDOW + i)),
    );
    return ['000000', '111111', '222222'].find((c) => !valid.has(c))!;
  }

  it('journey 2: password, setup page with a scannable QR, wrong then right code, recovery codes, dashboard', async () => {
    const { context, page } = await newPerson(browser, app);

    await page.goto('/login');
    expect(await page.title()).toBe('TIXNGO Backoffice');
    expect(await page.getByLabel('Email').getAttribute('autocomplete')).toBe('username');
    expect(await page.getByLabel('Password', { exact: true }).getAttribute('autocomplete')).toBe('current-password');
    await reviewPage(page, '01-login', { darkToo: true });

    await signIn(page);
    await page.waitForURL('**/2fa/setup');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Set up two-factor authentication',
    );
    // The code field has the focus, so a person can type the code as soon as the app shows it.
    expect(await page.getByLabel('Verification code').evaluate((el) => el === document.activeElement)).toBe(true);

    // The QR: at least 200 px on a laptop and on a phone, with its white quiet zone, readable by a phone.
    const qr = page.getByRole('img', { name: /QR code/ });
    expect((await qr.boundingBox())!.width).toBeGreaterThanOrEqual(200);
    expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThanOrEqual(200);
    expect(await quietZoneIsWhite(qr, 12)).toBe(true);
    const uri = await readQrCode(qr);
    expect(uri).toMatch(
      /^otpauth:\/\/totp\/TIXNGO%20Backoffice:ada%40acme\.example\?secret=[A-Z2-7]{32}&issuer=TIXNGO%20Backoffice/,
    );
    secret = secretOf(uri);

    // The same secret as a manual key in groups of four, with a working copy button.
    const manualKey = (await page.locator('#manual-key').textContent())!.trim();
    expect(manualKey).toMatch(/^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
    expect(manualKey.replace(/ /g, '')).toBe(secret);
    await page.getByRole('button', { name: 'Copy key' }).click();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(secret);
    await page.waitForFunction(() => document.getElementById('live-region')?.textContent === 'Key copied');

    // The guide: six numbered steps, and the apps people know.
    const steps = page.locator('ol.steps > li');
    await expect(steps.count()).resolves.toBe(6);
    await expect(steps.nth(0).textContent()).resolves.toContain('Add Account');
    await expect(steps.nth(1).textContent()).resolves.toContain('Scan QR Code');
    await expect(steps.nth(3).textContent()).resolves.toContain('logo');
    await expect(steps.nth(4).textContent()).resolves.toContain('nickname');
    const intro = await page.locator('main').textContent();
    for (const app of ['Authy', 'Google Authenticator', 'Microsoft Authenticator']) expect(intro).toContain(app);

    // The code field: found by its label, ready for a phone's keypad and autofill, focused.
    const code = page.getByLabel('Verification code');
    expect(await code.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    expect(await code.getAttribute('autofocus')).not.toBeNull();
    await reviewPage(page, '02-setup', { darkToo: true });
    // On a phone the QR is still at least 200 px wide.
    await page.setViewportSize(PHONE);
    expect((await qr.boundingBox())!.width).toBeGreaterThanOrEqual(200);
    await page.setViewportSize({ width: 1280, height: 800 });

    // A wrong code: the same page, a summary with role="alert" and the message by the field, same secret.
    await code.fill(wrongCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState('load');
    const summary = page.getByRole('alert');
    await expect(summary.textContent()).resolves.toContain('That code is not valid');
    await expect(page.locator('#code-error').textContent()).resolves.toContain('That code is not valid');
    expect(await page.getByLabel('Verification code').getAttribute('aria-invalid')).toBe('true');
    expect((await page.locator('#manual-key').textContent())!.replace(/ /g, '')).toBe(secret);
    await reviewPage(page, '03-setup-wrong-code');

    // The right code, typed with a space the way the app shows it.
    const right = authenticatorCode(secret, app.clock);
    await page.getByLabel('Verification code').fill(`${right.slice(0, 3)} ${right.slice(3)}`);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/2fa/recovery-codes');

    // Ten recovery codes: copy, download as .txt, and a checkbox before Continue.
    recoveryCodes = await page.locator('#recovery-codes li code').allTextContents();
    expect(recoveryCodes).toHaveLength(10);
    await page.getByRole('button', { name: 'Copy codes' }).click();
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(recoveryCodes.join('\n'));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download as .txt' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('recovery-codes.txt');
    const saved = readFileSync(await download.path(), 'utf8');
    for (const c of recoveryCodes) expect(saved).toContain(c);
    await reviewPage(page, '04-recovery-codes', { darkToo: true });

    await page.getByRole('button', { name: 'Continue' }).click();
    // Not yet: the box is not ticked, the browser keeps the person on the page.
    expect(
      await page.getByLabel('I have saved these codes').evaluate((box: HTMLInputElement) => box.validity.valueMissing),
    ).toBe(true);
    expect(new URL(page.url()).pathname).toBe('/2fa/recovery-codes');
    await page.getByLabel('I have saved these codes').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.pathname === '/');

    // The dashboard in the layout: who, which organizer, navigation, Log out.
    await expect(page.locator('main').textContent()).resolves.toContain('Signed in as Ada Lovelace');
    const header = page.getByRole('banner');
    await expect(header.textContent()).resolves.toContain('Ada Lovelace');
    await expect(header.textContent()).resolves.toContain('Acme Events');
    await expect(
      page
        .getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Dashboard' })
        .getAttribute('aria-current'),
    ).resolves.toBe('page');
    await expect(
      page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count(),
    ).resolves.toBe(0);
    await reviewPage(page, '05-dashboard', { darkToo: true });

    // The name in the header opens the person's own account page.
    await header.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.waitForURL('**/account');
    await reviewPage(page, '05b-account');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL((url) => url.pathname === '/');

    // Journey 7: Log out ends the session; the dashboard asks for a sign-in again.
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login?reason=signed-out');
    await expect(page.getByRole('status').first().textContent()).resolves.toContain('You are signed out.');
    await reviewPage(page, '06-signed-out');
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/login');
    await context.close();
  });

  it('journey 3: a later login asks only for the code (pasted with a space), then the dashboard', async () => {
    expect(secret).not.toBe('');
    app.clock.advance(60_000);
    const { context, page } = await newPerson(browser, app);
    await signIn(page);
    await page.waitForURL('**/2fa/verify');
    await expect(page.getByRole('img', { name: /QR code/ }).count()).resolves.toBe(0);
    const code = page.getByLabel('Verification code');
    expect(await code.evaluate((el) => el === document.activeElement)).toBe(true);
    await reviewPage(page, '07-verify', { darkToo: true });

    // Pasted from the clipboard as "123 456": the page keeps the digits.
    const right = authenticatorCode(secret, app.clock);
    await page.evaluate((text) => navigator.clipboard.writeText(text), `${right.slice(0, 3)} ${right.slice(3)}`);
    await code.focus();
    await page.keyboard.press('ControlOrMeta+V');
    expect(await code.inputValue()).toBe(right);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.locator('main').textContent()).resolves.toContain('Signed in as Ada Lovelace');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login?reason=signed-out');
    await context.close();
  });

  it('journey 3: "Use a recovery code" signs in once with a recovery code, and never twice with the same', async () => {
    expect(recoveryCodes).toHaveLength(10);
    app.clock.advance(60_000);
    const { context, page } = await newPerson(browser, app);
    await signIn(page);
    await page.waitForURL('**/2fa/verify');
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.waitForURL('**/2fa/recovery');
    expect(await page.getByLabel('Recovery code').evaluate((el) => el === document.activeElement)).toBe(true);
    await reviewPage(page, '08-recovery');

    await page.getByLabel('Recovery code').fill('aaaa-bbbb-cccc');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState('load');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid or was already used');
    await expect(page.locator('#recoveryCode-error').textContent()).resolves.toContain('not valid or was already used');
    await reviewPage(page, '09-recovery-wrong');

    await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await expect(page.locator('main').textContent()).resolves.toContain('Signed in as Ada Lovelace');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login?reason=signed-out');

    // The same code a second time: refused, still not signed in.
    await signIn(page);
    await page.waitForURL('**/2fa/verify');
    await page.getByRole('link', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForLoadState('load');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('not valid or was already used');
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/2fa/verify');
    await context.close();
  });
});
