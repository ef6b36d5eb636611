import { DataSource } from 'typeorm';
import { Catalogue, MessageValues } from '../../src/i18n/catalogue';
import { Language, LANGUAGE_NAMES, LANGUAGES } from '../../src/i18n/languages';
import { SecurityNoticesService } from '../../src/users/security-notices.service';
import { User } from '../../src/users/user.entity';
import { adminOf } from '../utils/admin';
import { codeAt, csrfFrom, Person } from '../utils/agent';
import { langOf, untranslated } from '../utils/i18n';
import { deliverMail, lastMailTo, linkIn, Mail, mailsTo } from '../utils/mail';
import { SoftAuthenticator } from '../utils/soft-authenticator';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const catalogue = Catalogue.load();
const APP_NAME = 'TIXNGO Backoffice';
const ORIGIN = 'http://localhost:3000';
const NEW_PASSWORD = 'a brand new passphrase here';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Issue 17, the account area: every page of it (/account and its sections, the confirmation,
 * the sessions, "This wasn't me", the invitation, the password reset) and every email the app
 * sends, in each of the five languages: `<html lang>` right, no raw key, no English word left
 * (test/utils/i18n.ts). Emails speak the recipient's saved language, else the language of the
 * request that caused them (the admin who clicked), else English.
 */
describe.each(LANGUAGES.map((language) => [language]))('the account area in %s', (lang: Language) => {
  let t: TestApp;
  let admin: User;
  let adminPerson: Person;
  const organizer = `Org ${lang}`;
  /** Names the test put on pages and emails: they stay as they are in every language. */
  const names = (...more: string[]) => [organizer, ...more];

  const expectPage = (html: string, ...more: string[]) => {
    expect(langOf(html)).toBe(lang);
    expect(untranslated(html, lang, names(...more))).toEqual([]);
  };
  const subjectOf = (key: string, values: MessageValues = {}) =>
    new RegExp(`^${escape(catalogue.format(lang, key, { appName: APP_NAME, ...values }))}$`);
  /** The newest email to `to` with the subject of `key`, checked: subject, text and HTML in the language. */
  const expectMail = async (to: string, key: string, values: MessageValues, ...more: string[]): Promise<Mail> => {
    const mail = await lastMailTo(t, to, subjectOf(key, values));
    for (const part of [mail.subject, mail.text, mail.html])
      expect({ key, problems: untranslated(part, lang, names(...more)) }).toEqual({ key, problems: [] });
    expect(mail.html).toContain(`<html lang="${lang}">`);
    return mail;
  };
  const saveLanguage = (user: User, language: Language | null) =>
    t.get(DataSource).getRepository(User).update({ id: user.id }, { language });
  /** A browser whose language menu chose `lang` (the cookie), as a visitor. */
  const browser = async () => {
    const person = new Person(t.server);
    await person.get(`/login?lang=${lang}`);
    return person;
  };
  /** A member with an authenticator, signed in with password and code in a browser speaking `lang`. */
  const member = async (name: string) => {
    const user = await createUser(t, { organizer, name, twoFactor: true });
    const person = await browser();
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret, recoveryCodes } = await person.setUpTwoFactor(t.clock);
    return { user, person, secret, recoveryCodes };
  };

  beforeAll(async () => {
    t = await createTestApp();
    ({ admin, person: adminPerson } = await adminOf(t, organizer, `Ada ${lang}`));
    await saveLanguage(admin, lang);
  });
  afterAll(async () => t.close());

  it('/account in every section, its flashes and errors, the confirmation page and the passkey pages', async () => {
    // The admin's own page: 2FA off (the "not active" section), the language setting.
    const own = await adminPerson.get('/account');
    expectPage(own.text, admin.name, admin.email);
    expect(own.text).toMatch(/<select id="language" name="language"[^>]*>/);
    expect(own.text).toContain(`<option value="${lang}" lang="${lang}" selected>${LANGUAGE_NAMES[lang]}</option>`);
    for (const code of LANGUAGES) expect(own.text).toContain(`>${LANGUAGE_NAMES[code]}</option>`);

    const { user, person } = await member(`Mia ${lang}`);
    await expectMail(user.email, 'mail.twoFactorSetup.subject', {}, user.name);
    const page = await person.get('/account');
    expectPage(page.text, user.name, user.email);

    // A passkey: added (flash, list, email), the removal's confirmation page, removed (flash, email).
    const authenticator = new SoftAuthenticator();
    const token = csrfFrom(page.text);
    const { options } = (await person.agent.post('/account/passkeys/options').type('form').send({ _csrf: token }))
      .body as { options: never };
    const added = await person.post(
      '/account/passkeys',
      { response: JSON.stringify(authenticator.register(options, ORIGIN)), passkeyName: 'Key 5' },
      '/account',
    );
    expect(added.headers.location).toBe('/account');
    const listed = await person.get('/account');
    expectPage(listed.text, user.name, user.email, 'Key 5');
    expect(listed.text).toContain(catalogue.format(lang, 'account.passkeys.saved', { name: 'Key 5' }));
    await expectMail(user.email, 'mail.passkeyAdded.subject', {}, user.name, 'Key 5');
    const id = /id="passkey-([^"]+)"/.exec(listed.text)![1];
    const confirmRemoval = await person.post(`/account/passkeys/${id}/remove`, {}, '/account');
    expect(confirmRemoval.status).toBe(200);
    expectPage(confirmRemoval.text, 'Key 5');
    await person.post(`/account/passkeys/${id}/remove`, { confirm: 'yes' }, '/account');
    expectPage((await person.get('/account')).text, user.name, user.email, 'Key 5');
    await expectMail(user.email, 'mail.passkeyRemoved.subject', {}, user.name, 'Key 5');

    // The password form: an error, then the change (flash, email).
    const wrong = await person.post(
      '/account/password',
      { currentPassword: 'not my password', newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/account',
    );
    expect(wrong.status).toBe(401);
    expectPage(wrong.text, user.name, user.email);
    const weak = await person.post(
      '/account/password',
      { currentPassword: DEFAULT_PASSWORD, newPassword: 'short', confirmPassword: 'short' },
      '/account',
    );
    expect(weak.text).toContain(catalogue.format(lang, 'password.policy.tooShort'));
    expectPage(weak.text, user.name, user.email);
    const changed = await person.post(
      '/account/password',
      { currentPassword: DEFAULT_PASSWORD, newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD },
      '/account',
    );
    expect(changed.headers.location).toBe('/account');
    const afterChange = await person.get('/account');
    expect(afterChange.text).toContain(catalogue.format(lang, 'account.password.changed'));
    expectPage(afterChange.text, user.name, user.email);
    await expectMail(user.email, 'mail.passwordChanged.subject', {}, user.name);

    // More than 5 minutes later, new recovery codes ask for a code first: the flash and the confirmation page.
    t.clock.advance(6 * 60_000);
    const asked = await person.post('/account/recovery-codes', {}, '/account');
    expect(asked.headers.location).toBe('/account/confirm?continue=recovery-codes');
    const confirm = await person.get('/account/confirm?continue=recovery-codes');
    expect(confirm.text).toContain(catalogue.format(lang, 'account.factors.freshCode'));
    expect(confirm.text).toContain(catalogue.format(lang, 'account.confirm.action.recoveryCodes'));
    expectPage(confirm.text);
    const bad = await person.post(
      '/account/confirm',
      { code: '000000', continue: 'recovery-codes' },
      '/account/confirm?continue=recovery-codes',
    );
    expectPage(bad.text);
    expectPage((await person.get('/account/confirm')).text);
  });

  it('/account/sessions with another session and a pending one, and its flashes', async () => {
    const { user, person, secret } = await member(`Sam ${lang}`);
    const other = await browser();
    await other.login(user.email, DEFAULT_PASSWORD);
    await other.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock, 1) });
    const pending = await browser();
    await pending.login(user.email, DEFAULT_PASSWORD);
    const sessions = await person.get('/account/sessions');
    expect(sessions.status).toBe(200);
    const devices = [...sessions.text.matchAll(/<h2 id="session-\d+">([^<]*)<\/h2>/g)].map((m) => m[1]);
    expect(devices.length).toBe(3);
    expectPage(sessions.text, user.name, ...devices);
    await person.post('/account/sessions/sign-out-others', {}, '/account/sessions');
    const after = await person.get('/account/sessions');
    expect(after.text).toContain(catalogue.format(lang, 'account.sessions.othersEnded', { count: 2 }));
    expectPage(after.text, user.name, ...devices);
    await person.post('/account/sessions/sign-out-others', {}, '/account/sessions');
    expectPage((await person.get('/account/sessions')).text, user.name, ...devices);
  });

  it('the emails of sign-in and of the admin’s actions, and the "This wasn’t me" pages', async () => {
    const { user, recoveryCodes } = await member(`Noa ${lang}`);
    // A recovery code at sign-in.
    const lost = await browser();
    await lost.login(user.email, DEFAULT_PASSWORD);
    await lost.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[0] });
    await expectMail(user.email, 'mail.recoveryCodeUsed.subject', {}, user.name);
    // Wrong codes lock the second step.
    const guesser = await browser();
    await guesser.login(user.email, DEFAULT_PASSWORD);
    for (let i = 0; i < 5; i++) await guesser.submit('/2fa/verify', '/2fa/verify', { code: '000000' });
    await expectMail(user.email, 'mail.accountLocked.subjectCodes', {}, user.name);
    t.clock.advance(16 * 60_000);

    // The admin (reading `lang`) acts: each email speaks the admin's language (the member chose none).
    const page = `/admin/users/${user.id}`;
    await adminPerson.post(`${page}/sign-out-everywhere`, { confirm: 'yes' }, page);
    await expectMail(user.email, 'mail.signedOut.subject', {}, user.name, admin.name);
    await adminPerson.post(`${page}/resend-qr`, { confirm: 'yes' }, page);
    await expectMail(user.email, 'mail.totpReset.subject', {}, user.name);
    await adminPerson.post(`${page}/two-factor`, { twoFactor: 'disable', confirm: 'yes' }, page);
    await expectMail(user.email, 'mail.twoFactorDisabled.subject', {}, user.name);
    await adminPerson.post(`${page}/two-factor`, { twoFactor: 'enable', confirm: 'yes' }, page);
    const enabled = await expectMail(user.email, 'mail.twoFactorEnabled.subject', {}, user.name);

    // "This wasn't me" from that email: the page, the lock, the admins' alert, the used link.
    const notMe = linkIn(enabled, '/not-me/');
    const visitor = await browser();
    const ask = await visitor.get(notMe);
    expect(ask.status).toBe(200);
    expectPage(ask.text, user.email);
    const done = await visitor.post(notMe, {}, notMe);
    expect(done.status).toBe(200);
    expectPage(done.text, user.email);
    await expectMail(admin.email, 'mail.notMeAlert.subject', { email: user.email }, user.name, admin.name);
    const used = await visitor.get(notMe);
    expect(used.status).toBe(410);
    expectPage(used.text);
    const unknown = await visitor.get('/not-me/nothing-here');
    expect(unknown.status).toBe(410);
    expectPage(unknown.text);

    await adminPerson.post(`${page}/unlock`, { confirm: 'yes' }, page);
    await expectMail(user.email, 'mail.accountUnlocked.subject', {}, user.name, admin.name);

    // Wrong passwords lock the sign-in (the email says passwords).
    const victim = await createUser(t, { organizer, name: `Pat ${lang}`, twoFactor: false });
    const attacker = await browser();
    for (let i = 0; i < 10; i++) await attacker.login(victim.email, 'wrong password!');
    await expectMail(victim.email, 'mail.accountLocked.subjectPasswords', {}, victim.name);
  });

  it('the invitation: its email, the page, its error, and the pages of a used and an unknown link', async () => {
    const email = `invited.${lang}@i18n.test`;
    const created = await adminPerson.submit('/admin/users/new', '/admin/users', {
      email,
      name: `Ivo ${lang}`,
      role: 'member',
      twoFactor: 'on',
    });
    expect(created.status).toBe(303);
    const mail = await expectMail(email, 'mail.invitation.subject', {}, `Ivo ${lang}`, admin.name, '1Password');
    const link = linkIn(mail, '/invitations/');
    const invitee = await browser();
    const page = await invitee.get(link);
    expect(page.status).toBe(200);
    expectPage(page.text, `Ivo ${lang}`, email);
    const mismatch = await invitee.post(link, { newPassword: NEW_PASSWORD, confirmPassword: 'other' }, link);
    expect(mismatch.status).toBe(400);
    expectPage(mismatch.text, `Ivo ${lang}`, email);
    const accepted = await invitee.post(link, { newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, link);
    expect(accepted.status).toBe(303);
    const used = await (await browser()).get(link);
    expect(used.status).toBe(410);
    expectPage(used.text);
    const unknown = await (await browser()).get('/invitations/nothing-here');
    expect(unknown.status).toBe(410);
    expectPage(unknown.text);
  });

  it('the password reset: forgot, sent, its email, reset, its error, the used link, too many requests', async () => {
    const user = await createUser(t, { organizer, name: `Rita ${lang}`, twoFactor: false });
    const visitor = await browser();
    const forgot = await visitor.get('/password/forgot');
    expectPage(forgot.text);
    const invalid = await visitor.post('/password/forgot', { email: 'not an address' }, '/password/forgot');
    expect(invalid.status).toBe(400);
    expectPage(invalid.text);
    const sent = await visitor.post('/password/forgot', { email: user.email }, '/password/forgot');
    expect(sent.status).toBe(200);
    expectPage(sent.text, user.email);
    await deliverMail(t);
    const mail = await expectMail(user.email, 'mail.passwordReset.subject', {}, user.name);
    const link = linkIn(mail, '/password/reset/');
    const reset = await visitor.get(link);
    expectPage(reset.text, user.email);
    const weak = await visitor.post(link, { newPassword: 'password1234', confirmPassword: 'password1234' }, link);
    expect(weak.text).toContain(catalogue.format(lang, 'password.policy.common'));
    expectPage(weak.text, user.email);
    const done = await visitor.post(link, { newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD }, link);
    expect(done.headers.location).toBe('/login');
    expect((await visitor.get('/login')).text).toContain(catalogue.format(lang, 'password.reset.done'));
    await expectMail(user.email, 'mail.passwordChanged.subject', {}, user.name);
    const used = await visitor.get(link);
    expect(used.status).toBe(410);
    expectPage(used.text);
    expectPage((await visitor.get('/password/reset/nothing-here')).text);

    let tooMany = sent;
    for (let i = 0; i < 20 && tooMany.status !== 429; i++)
      tooMany = await visitor.post('/password/forgot', { email: user.email }, '/password/forgot');
    expect(tooMany.status).toBe(429);
    expectPage(tooMany.text, user.email);
  });
});

describe('an email speaks its recipient’s language, else the language of the admin who caused it', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('a French admin clicks Resend QR: the German member’s email is German, the other member’s French', async () => {
    const { admin, person } = await adminOf(t, 'Mixed Org', 'Françoise Admin');
    await t.get(DataSource).getRepository(User).update({ id: admin.id }, { language: 'fr' });
    const german = await createUser(t, { organizer: 'Mixed Org', name: 'Dieter', twoFactor: true });
    await t.get(DataSource).getRepository(User).update({ id: german.id }, { language: 'de' });
    const plain = await createUser(t, { organizer: 'Mixed Org', name: 'Pia', twoFactor: true });
    for (const user of [german, plain]) {
      const page = `/admin/users/${user.id}`;
      expect(langOf((await person.get(page)).text)).toBe('fr');
      await person.post(`${page}/resend-qr`, { confirm: 'yes' }, page);
    }
    const toGerman = (await mailsTo(t, german.email)).at(-1)!;
    expect(toGerman.subject).toBe(catalogue.format('de', 'mail.totpReset.subject'));
    expect(toGerman.text).toContain(catalogue.format('de', 'mail.hello', { name: 'Dieter' }));
    expect(toGerman.html).toContain('<html lang="de">');
    expect(untranslated(toGerman.text, 'de', ['Dieter'])).toEqual([]);
    const toPlain = (await mailsTo(t, plain.email)).at(-1)!;
    expect(toPlain.subject).toBe(catalogue.format('fr', 'mail.totpReset.subject'));
    expect(toPlain.html).toContain('<html lang="fr">');
    expect(untranslated(toPlain.text, 'fr', ['Pia'])).toEqual([]);
  });

  it('without a request (the command line), an email is English unless its recipient chose a language', async () => {
    const user = await createUser(t, { organizer: 'Quiet Org', name: 'Quinn', twoFactor: false });
    await t.get(SecurityNoticesService).send(user, 'password.changed');
    expect((await mailsTo(t, user.email)).at(-1)!.subject).toBe('Your password was changed');
    await t.get(DataSource).getRepository(User).update({ id: user.id }, { language: 'it' });
    const reloaded = await t.get(DataSource).getRepository(User).findOneByOrFail({ id: user.id });
    await t.get(SecurityNoticesService).send(reloaded, 'password.changed');
    expect((await mailsTo(t, user.email)).at(-1)!.subject).toBe(catalogue.format('it', 'mail.passwordChanged.subject'));
  });
});
