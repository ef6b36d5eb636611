import { DataSource } from 'typeorm';
import { User } from '../../src/users/user.entity';
import { LANGUAGES, Language } from '../../src/i18n/languages';
import { TwoFactorAdminService } from '../../src/two-factor/two-factor-admin.service';
import { codeAt, csrfFrom, manualKeyFrom, Person, recoveryCodesFrom } from '../utils/agent';
import { langOf, untranslated } from '../utils/i18n';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

// Several argon2id hashes per language: give a loaded machine room.
jest.setTimeout(120_000);

/**
 * Issue 17, the "auth" area in every language: the sign-in pages, the six steps of the
 * authenticator guide, the code, recovery and Resend QR pages, the error pages and the
 * dashboard leave no raw key and no English sentence (test/utils/i18n.ts), with <html lang> right.
 */
describe.each(LANGUAGES)('the sign-in pages in %s', (language: Language) => {
  let t: TestApp;
  const organizer = `Org ${language.toUpperCase()} Zeta`;
  // Proper names stay as they are: the organizer, the people, the app names of the setup page.
  const names = [organizer, '1Password'];

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** A browser whose language menu chose `language` (the cookie). */
  async function browser(): Promise<Person> {
    const person = new Person(t.server);
    const chosen = await person.get(`/login?lang=${language}`);
    expect(chosen.status).toBe(303);
    return person;
  }

  function expectTranslated(page: { text: string }, where: string, extra: string[] = []) {
    expect({ where, lang: langOf(page.text) }).toEqual({ where, lang: language });
    // Secrets are data too: the manual key (groups of four) and recovery codes could spell "up" or "set".
    const secrets = [
      ...(/id="manual-key">([A-Z2-7 ]+)</.exec(page.text)?.[1].split(' ') ?? []),
      ...recoveryCodesFrom(page.text),
    ];
    expect({ where, left: untranslated(page.text, language, [...names, ...extra, ...secrets]) }).toEqual({
      where,
      left: [],
    });
  }

  async function user(options: Parameters<typeof createUser>[1] = {}): Promise<User> {
    const created = await createUser(t, { organizer, name: 'Zoé Kowalczyk', ...options });
    names.push(created.email, created.name);
    return created;
  }

  it('the login page, its notices, a wrong password, missing fields and a locked account', async () => {
    const visitor = await browser();
    expectTranslated(await visitor.get('/login'), 'login');
    for (const reason of ['ended', 'timeout', 'signed-out']) {
      const page = await visitor.get(`/login?reason=${reason}`);
      expect(page.text).toContain('class="notice"');
      expectTranslated(page, `login ${reason}`);
    }
    const member = await user({ twoFactor: false });
    const wrong = await visitor.login(member.email, 'not the password at all');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('class="error-summary"');
    expectTranslated(wrong, 'wrong password');
    const missing = await visitor.login(member.email, '');
    expect(missing.status).toBe(400);
    expectTranslated(missing, 'missing password');
    await t
      .get(DataSource)
      .getRepository(User)
      .update({ id: member.id }, { accountLockedAt: new Date(t.clock.now()) });
    const locked = await visitor.login(member.email, DEFAULT_PASSWORD);
    expect(locked.status).toBe(403);
    expectTranslated(locked, 'account locked');
  });

  it('setup (six steps), a wrong code, the recovery codes, the dashboard; then verify and recovery with their errors', async () => {
    const member = await user({ twoFactor: true });
    const person = await browser();
    expect((await person.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/setup');
    const setup = await person.get('/2fa/setup');
    expect(setup.status).toBe(200);
    expect(setup.text.match(/<li>/g)?.length).toBeGreaterThanOrEqual(6);
    expect(setup.text).toContain('data-msg-cancelled="');
    expectTranslated(setup, 'setup', [t.config.appName]);
    const secret = manualKeyFrom(setup.text);
    const wrong = await person.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: '000000', _csrf: csrfFrom(setup.text) });
    expect(wrong.status).toBe(400);
    expectTranslated(wrong, 'setup wrong code');
    const malformed = await person.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: 'abc', _csrf: csrfFrom(setup.text) });
    expectTranslated(malformed, 'setup malformed code');

    const right = await person.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(secret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(right.headers.location).toBe('/2fa/recovery-codes');
    const codesPage = await person.get('/2fa/recovery-codes');
    const codes = recoveryCodesFrom(codesPage.text);
    expect(codes).toHaveLength(10);
    expectTranslated(codesPage, 'recovery codes');
    const done = await person.agent
      .post('/2fa/recovery-codes')
      .type('form')
      .send({ saved: 'yes', _csrf: csrfFrom(codesPage.text) })
      .redirects(0);
    expect(done.headers.location).toBe('/');
    const dashboard = await person.get('/');
    expect(dashboard.status).toBe(200);
    expectTranslated(dashboard, 'dashboard (member)');

    // Later logins: the verify page and its errors, the recovery page and its errors.
    const later = await browser();
    expect((await later.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
    const verify = await later.get('/2fa/verify');
    expectTranslated(verify, 'verify', [t.config.appName]);
    t.clock.advance(30_000);
    const wrongCode = await later.post('/2fa/verify', { code: '000000' }, '/2fa/verify');
    expect(wrongCode.status).toBe(401);
    expectTranslated(wrongCode, 'verify wrong code', [t.config.appName]);
    const badCode = await later.post('/2fa/verify', { code: 'x' }, '/2fa/verify');
    expectTranslated(badCode, 'verify malformed code', [t.config.appName]);
    const recovery = await later.get('/2fa/recovery');
    expectTranslated(recovery, 'recovery');
    const wrongRecovery = await later.post('/2fa/recovery', { recoveryCode: 'aaaa-bbbb-cccc' }, '/2fa/recovery');
    expect(wrongRecovery.status).toBe(401);
    expectTranslated(wrongRecovery, 'recovery wrong code');
    const emptyRecovery = await later.post('/2fa/recovery', { recoveryCode: '' }, '/2fa/recovery');
    expectTranslated(emptyRecovery, 'recovery empty code');
    // Five wrong codes lock the second factor: the locked message.
    for (let i = 0; i < 5; i += 1) await later.post('/2fa/verify', { code: '000000' }, '/2fa/verify');
    const lockedCode = await later.post('/2fa/verify', { code: codeAt(secret, t.clock) }, '/2fa/verify');
    expect(lockedCode.status).toBe(429);
    expectTranslated(lockedCode, 'verify locked', [t.config.appName]);
  });

  it('the Resend QR pages: check your email, the link’s password page and its error, and every unusable link', async () => {
    const member = await user({ twoFactor: true });
    const first = await browser();
    await first.login(member.email, DEFAULT_PASSWORD);
    await first.setUpTwoFactor(t.clock);
    const { link } = await t.get(TwoFactorAdminService).resendQr(member, null, null);
    const path = new URL(link).pathname;

    const withoutLink = await browser();
    expect((await withoutLink.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/setup');
    const checkEmail = await withoutLink.get('/2fa/setup');
    expect(checkEmail.text).not.toContain('id="manual-key"');
    expectTranslated(checkEmail, 'reset required');

    const phone = await browser();
    const linkPage = await phone.get(path);
    expect(linkPage.status).toBe(200);
    expectTranslated(linkPage, 'reset link password');
    const wrong = await phone.submit(path, path, { password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expectTranslated(wrong, 'reset link wrong password');
    const empty = await phone.submit(path, path, { password: '' });
    expect(empty.status).toBe(400);
    expectTranslated(empty, 'reset link empty password');
    const accepted = await phone.submit(path, path, { password: DEFAULT_PASSWORD });
    expect(accepted.headers.location).toBe('/2fa/setup');
    const setup = await phone.get('/2fa/setup');
    expect(setup.text).toContain('id="manual-key"');
    expectTranslated(setup, 'setup after reset', [t.config.appName]);
    await phone.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(manualKeyFrom(setup.text), t.clock), _csrf: csrfFrom(setup.text) });

    const used = await (await browser()).get(path);
    expect(used.status).toBe(410);
    expectTranslated(used, 'link used');
    const unknown = await (await browser()).get('/2fa/reset/no-such-token');
    expect(unknown.status).toBe(410);
    expectTranslated(unknown, 'link unknown');
    const other = await user({ twoFactor: true });
    const { link: second } = await t.get(TwoFactorAdminService).resendQr(other, null, null);
    t.clock.advance(25 * 60 * 60 * 1000);
    const expired = await (await browser()).get(new URL(second).pathname);
    expect(expired.status).toBe(410);
    expectTranslated(expired, 'link expired');
  });

  it('the error pages: 404 signed out and in, 403 (admins only, a form without its token), 413, 500 and 503', async () => {
    const visitor = await browser();
    const notFound = await visitor.get('/no/such/page');
    expect(notFound.status).toBe(404);
    expectTranslated(notFound, '404 signed out');

    const member = await user({ twoFactor: false });
    const person = await browser();
    expect((await person.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    const signedInNotFound = await person.get('/no/such/page');
    expect(signedInNotFound.status).toBe(404);
    expectTranslated(signedInNotFound, '404 signed in');
    const adminsOnly = await person.get('/admin/users');
    expect(adminsOnly.status).toBe(403);
    expectTranslated(adminsOnly, '403 admins only');
    const forged = await person.agent.post('/logout').type('form').send({}).redirects(0);
    expect(forged.status).toBe(403);
    expectTranslated(forged, '403 CSRF');
    const tooLarge = await visitor.agent
      .post('/login')
      .type('form')
      .send({ email: 'x'.repeat(40_000) })
      .redirects(0);
    expect(tooLarge.status).toBe(413);
    expectTranslated(tooLarge, '413');

    const admin = await user({ twoFactor: false, role: 'admin' });
    const adminBrowser = await browser();
    await adminBrowser.login(admin.email, DEFAULT_PASSWORD);
    expectTranslated(await adminBrowser.get('/'), 'dashboard (admin)');

    // The 5xx pages have no route that fails on demand: the view as the filter renders it.
    const express = t.app.getHttpAdapter().getInstance() as {
      render(view: string, locals: object, done: (error: Error | null, html: string) => void): void;
    };
    for (const [status, title] of [
      [500, 'errors.title.serverError'],
      [503, 'errors.title.unavailable'],
    ] as const) {
      const html = await new Promise<string>((resolve, reject) =>
        express.render(
          'errors/error',
          { title, status, signedOut: true, lang: language, appName: t.config.appName, languageMenu: [] },
          (error, text) => (error ? reject(error) : resolve(text)),
        ),
      );
      expectTranslated({ text: html }, `${status}`);
    }
  });
});
