import { DataSource } from 'typeorm';
import { Catalogue, MessageValues } from '../../src/i18n/catalogue';
import { formatDateTime } from '../../src/i18n/format';
import { Language, LANGUAGE_NAMES, LANGUAGES } from '../../src/i18n/languages';
import { PasswordResetService } from '../../src/password-reset/password-reset.service';
import { User } from '../../src/users/user.entity';
import { adminOf, hasButton, press, pressAndConfirm, wrongCode } from '../utils/admin';
import { Person } from '../utils/agent';
import { seedUsers } from '../utils/bulk-users';
import { parseCsv } from '../utils/csv';
import { langOf, readableText, untranslated } from '../utils/i18n';
import { lastMailTo, Mail, mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const catalogue = Catalogue.load();
const APP_NAME = 'TIXNGO Backoffice';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** The target of the paging link `rel` (entities decoded, as a browser follows it). */
const relHref = (html: string, rel: string) =>
  new RegExp(`href="([^"]+)" rel="${rel}"`)
    .exec(html)![1]
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
/** What a person reads, whitespace folded. */
const textOf = (html: string) => readableText(html).replace(/\s+/g, ' ');

/**
 * Issue 17, the admin's Users area: the list (search, capped count, filter, paging, Go to name,
 * empty results, the notes and errors), a user's page in every state, New user and its errors,
 * every confirmation page, every flash of every button (refusals included) and the CSV, in each
 * of the five languages: `<html lang>` right, no raw key, no English word left (test/utils/i18n.ts).
 * The admin's language is their saved preference.
 */
describe.each(LANGUAGES.map((language) => [language]))('the admin users area in %s', (lang: Language) => {
  let t: TestApp;
  let admin: User;
  let person: Person;
  const organizer = `Org ${lang}`;
  /** Names the test put on pages: they stay as they are in every language. */
  const names = (...more: string[]) => [organizer, ...more];
  const expectPage = (html: string, ...more: string[]) => {
    expect(langOf(html)).toBe(lang);
    expect(untranslated(html, lang, names(...more))).toEqual([]);
  };
  /** A message as the page shows it: its text (tags dropped), whitespace folded. */
  const say = (key: string, values: MessageValues = {}) =>
    textOf(catalogue.format(lang, key, { appName: APP_NAME, ...values })).trim();
  const at = (date: Date | number) => formatDateTime(date, lang, 'UTC');
  const pageOf = (user: User) => `/admin/users/${user.id}`;
  /** The user's page after an action: the flash of `key` shown, and the page clean. */
  const expectFlash = async (user: User, key: string, values: MessageValues, ...more: string[]) => {
    const page = await person.get(pageOf(user));
    expect(textOf(page.text)).toContain(say(key, values));
    expectPage(page.text, user.name, admin.name, ...more, ...(await subjectsTo(user)));
    return page;
  };
  /**
   * The subjects of the emails to a user, which the Emails table lists as they were sent: data,
   * in the language the email spoke (a member without a saved language who set up 2FA in an
   * English browser got an English email).
   */
  const subjectsTo = async (user: User) => (await mailsTo(t, user.email)).map((mail) => mail.subject);
  const expectUserPage = async (html: string, user: User, ...more: string[]) =>
    expectPage(html, user.name, user.email, admin.name, ...more, ...(await subjectsTo(user)));
  const saveLanguage = (user: User, language: Language | null) =>
    t.get(DataSource).getRepository(User).update({ id: user.id }, { language });
  /** A member with an authenticator set up (in a browser of their own). */
  const withAuthenticator = async (name: string) => {
    const user = await createUser(t, { organizer, name, twoFactor: true });
    const browser = new Person(t.server);
    await browser.login(user.email, DEFAULT_PASSWORD);
    const { secret } = await browser.setUpTwoFactor(t.clock);
    return { user, secret };
  };

  beforeAll(async () => {
    t = await createTestApp();
    ({ admin, person } = await adminOf(t, organizer, `Ada ${lang}`));
    await saveLanguage(admin, lang);
  });
  afterAll(async () => t.close());

  it('the list: search with a capped count, the filter, paging links, Go to name, notes, errors, empty results', async () => {
    await seedUsers(t, organizer, 1010, `bulk-${lang}-`);
    const bulk = ['person', 'Person', 'PERSON'];
    const first = await person.get('/admin/users');
    expectPage(first.text, admin.name, ...bulk);
    expect(textOf(first.text)).toContain(say('adminUsers.list.count', { total: 1011 }));
    expect(textOf(first.text)).toContain(say('adminUsers.adoption.active', { active: 0, total: 1011 }));
    const next = relHref(first.text, 'next');
    const second = await person.get(next);
    expectPage(second.text, admin.name, ...bulk);
    expect(second.text).toMatch(/rel="first"/);
    expect(second.text).toMatch(/rel="prev"/);
    expect(textOf(second.text)).toContain(say('adminUsers.list.pageOf', { page: 2, pages: 51 }));

    // A search counted up to the cap: "1,000+", in the language's digits.
    const capped = await person.get('/admin/users?q=person');
    expectPage(capped.text, admin.name, ...bulk);
    expect(textOf(capped.text)).toContain(
      `${say('adminUsers.list.countCapped', { cap: 1000 })} ${say('adminUsers.list.matching', { q: 'person' })}`,
    );
    const cappedNext = relHref(capped.text, 'next');
    const cappedSecond = await person.get(cappedNext);
    expectPage(cappedSecond.text, admin.name, ...bulk);
    expect(textOf(cappedSecond.text)).toContain(say('adminUsers.list.captionPage', { page: 2 }));

    // The filter, Go to name, a page beyond the numbered ones (the note), a changed cursor (400).
    const notSetUp = await person.get('/admin/users?show=not-set-up');
    expectPage(notSetUp.text, admin.name, ...bulk);
    expect(textOf(notSetUp.text)).toContain(say('adminUsers.list.withoutAuthenticator'));
    const goTo = await person.get('/admin/users?from=person%200500');
    expectPage(goTo.text, admin.name, ...bulk);
    expect(goTo.text).toMatch(/rel="prev"/);
    const deep = await person.get('/admin/users?page=40');
    expectPage(deep.text, admin.name, ...bulk);
    expect(textOf(deep.text)).toContain(say('adminUsers.list.deepPage', { page: 40 }));
    const forged = await person.get('/admin/users?after=not-a-cursor');
    expect(forged.status).toBe(400);
    expectPage(forged.text, admin.name, ...bulk);
    expect(textOf(forged.text)).toContain(say('adminUsers.list.forgedCursor'));

    // Empty results, with and without the filter.
    for (const [query, key] of [
      ['q=zzzz', 'adminUsers.list.emptyMatching'],
      ['q=zzzz&show=not-set-up', 'adminUsers.list.emptyNotSetUpMatching'],
    ] as const) {
      const empty = await person.get(`/admin/users?${query}`);
      expectPage(empty.text, 'zzzz');
      expect(textOf(empty.text)).toContain(say(key, { q: 'zzzz' }));
    }
  });

  it('New user: the form with its Language select, its errors, and the created user (flash, invitation waiting)', async () => {
    const form = await person.get('/admin/users/new');
    expectPage(form.text);
    expect(form.text).toContain(`<option value="${lang}" lang="${lang}" selected>${LANGUAGE_NAMES[lang]}</option>`);
    for (const code of LANGUAGES) expect(form.text).toContain(`>${LANGUAGE_NAMES[code]}</option>`);

    const invalid = await person.post(
      '/admin/users',
      { email: 'not an address', name: '', role: 'superadmin' },
      '/admin/users/new',
    );
    expect(invalid.status).toBe(400);
    expectPage(invalid.text, 'not an address');
    const wrongLanguage = await person.post(
      '/admin/users',
      { email: `ok-${lang}@new.test`, name: 'Nia New', role: 'member', language: 'xx' },
      '/admin/users/new',
    );
    expect(wrongLanguage.status).toBe(400);
    expectPage(wrongLanguage.text, 'Nia New');
    expect(textOf(wrongLanguage.text)).toContain(say('adminUsers.new.chooseLanguage'));
    const long = await person.post(
      '/admin/users',
      { email: `ok-${lang}@new.test`, name: 'n'.repeat(201), role: 'member' },
      '/admin/users/new',
    );
    expectPage(long.text, 'n'.repeat(201));
    expect(textOf(long.text)).toContain(say('adminUsers.new.nameTooLong'));
    const taken = await person.post(
      '/admin/users',
      { email: admin.email, name: 'Dup', role: 'member' },
      '/admin/users/new',
    );
    expect(taken.status).toBe(409);
    expectPage(taken.text, admin.email, 'Dup');

    const email = `nia-${lang}@new.test`;
    const created = await person.post(
      '/admin/users',
      { email, name: 'Nia New', role: 'admin', twoFactor: 'on', language: lang },
      '/admin/users/new',
    );
    expect(created.status).toBe(303);
    const user = await t.get(DataSource).getRepository(User).findOneByOrFail({ email });
    expect(user.language).toBe(lang);
    const page = await expectFlash(user, 'adminUsers.flash.created', { name: user.name, email }, email);
    expect(textOf(page.text)).toContain(say('adminUsers.show.invited'));
    expect(textOf(page.text)).toContain(
      say('adminUsers.show.invitationWorks', { at: at(user.createdAt.getTime() + 72 * 3600_000) }),
    );
    expect(page.text).toContain(`>${LANGUAGE_NAMES[lang]}</dd>`);
    // The invitation, in the new user's language, is in the Emails table.
    const mail = await lastMailTo(t, email);
    expect(textOf(page.text)).toContain(mail.subject);

    // Resend invitation: the flash; for someone who accepted already, the refusal.
    await press(person, pageOf(user), `${pageOf(user)}/invitation`);
    await expectFlash(user, 'adminUsers.flash.invitationResent', { email }, email);
    const accepted = await createUser(t, { organizer, name: 'Acc Epted', twoFactor: false });
    await person.post(`${pageOf(accepted)}/invitation`, {}, pageOf(accepted));
    await expectFlash(accepted, 'adminUsers.refused.alreadyAccepted', { email: accepted.email }, accepted.email);
  });

  it('a user page in each 2FA state, with locks, a waiting reset link, emails and events', async () => {
    const off = await createUser(t, { organizer, name: 'Otto Off', twoFactor: false });
    const pending = await createUser(t, { organizer, name: 'Pia Pending', twoFactor: true });
    const active = await withAuthenticator('Ari Active');
    const locked = await withAuthenticator('Lou Locked');
    t.clock.advance(60_000);
    const guesser = new Person(t.server);
    await guesser.login(locked.user.email, DEFAULT_PASSWORD);
    for (let i = 0; i < 5; i++)
      await guesser.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(locked.secret, t.clock) });
    for (const [user, state] of [
      [off, 'off'],
      [pending, 'pending'],
      [active.user, 'active'],
      [locked.user, 'locked'],
    ] as const) {
      const page = await person.get(pageOf(user));
      await expectUserPage(page.text, user);
      expect(page.text).toMatch(new RegExp(`id="two-factor-state">${escape(say(`twoFactor.state.${state}`))}</span>`));
    }
    const lockedPage = await person.get(pageOf(locked.user));
    expect(lockedPage.text).toContain('id="account-lock"');

    // "This wasn't me": the lock on the page and on the Unlock confirmation.
    const reported = await createUser(t, { organizer, name: 'Rae Reported', twoFactor: false });
    await t.get(DataSource).getRepository(User).update({ id: reported.id }, { accountLockedAt: t.clock.now() });
    const reportedPage = await person.get(pageOf(reported));
    await expectUserPage(reportedPage.text, reported);
    expect(textOf(reportedPage.text)).toContain(say('adminUsers.show.lockedSince', { since: at(t.clock.now()) }));
    const step = await press(person, pageOf(reported), `${pageOf(reported)}/unlock`);
    expect(step.status).toBe(200);
    expectPage(step.text, reported.name, reported.email);
    expect(textOf(step.text)).toContain(
      say('adminUsers.confirm.unlock.notMe', { name: reported.name, at: at(t.clock.now()) }),
    );

    // Wrong passwords: the sign-in lock on the page and on the Unlock confirmation.
    const typo = await createUser(t, { organizer, name: 'Ty Typo', twoFactor: false });
    const typist = new Person(t.server);
    for (let i = 0; i < 10; i++) await typist.login(typo.email, 'not the password at all');
    const typoPage = await person.get(pageOf(typo));
    await expectUserPage(typoPage.text, typo);
    const lockedUntil = /<strong>([^<]*)<\/strong>/.exec(
      typoPage.text.slice(typoPage.text.indexOf('id="account-lock"')),
    )![1];
    expect(lockedUntil).toMatch(
      new RegExp(`^${escape(say('adminUsers.show.passwordLockNotice', { until: 'XX' })).split('XX')[0]}`),
    );
    const typoStep = await press(person, pageOf(typo), `${pageOf(typo)}/unlock`);
    expect(typoStep.status).toBe(200);
    expectPage(typoStep.text, typo.name, typo.email);

    // Resend QR: the confirmation, the flash, the latest reset waiting, the email in the Emails table.
    const { step: resendStep } = await pressAndConfirm(person, pageOf(active.user), `${pageOf(active.user)}/resend-qr`);
    expectPage(resendStep.text, active.user.name, active.user.email);
    const reset = await expectFlash(
      active.user,
      'adminUsers.flash.qrReset',
      { name: active.user.name, email: active.user.email },
      active.user.email,
    );
    expect(textOf(reset.text)).toContain(say('adminUsers.reset.status.waiting'));
    expect(textOf(reset.text)).toContain(say('adminUsers.reset.badge.waiting'));
    expect(reset.text).toContain('id="emails"');

    // A password reset link waiting.
    const forgetful = new Person(t.server);
    await forgetful.submit('/password/forgot', '/password/forgot', { email: off.email });
    // The request's work goes on after its answer (the same time for every address): awaited.
    await t.get(PasswordResetService).settled();
    const offPage = await person.get(pageOf(off));
    await expectUserPage(offPage.text, off);
    expect(offPage.text).toMatch(/id="password-reset">[^<]*\S/);
    expect(textOf(offPage.text)).not.toContain(say('adminUsers.show.noneWaiting'));
  });

  it('every confirmation page and every flash of the buttons, refusals included', async () => {
    const target = await withAuthenticator('Tia Target');
    const page = pageOf(target.user);

    // Disable 2FA, then Enable 2FA: confirmations and flashes; Enable again: nothing changed.
    const disable = await pressAndConfirm(person, page, `${page}/two-factor`, { twoFactor: 'disable' });
    expect(disable.step.status).toBe(200);
    expectPage(disable.step.text, target.user.name, target.user.email);
    await expectFlash(
      target.user,
      'adminUsers.flash.disabled',
      { name: target.user.name, email: target.user.email },
      target.user.email,
    );
    const enable = await pressAndConfirm(person, page, `${page}/two-factor`, { twoFactor: 'enable' });
    expectPage(enable.step.text, target.user.name, target.user.email);
    await expectFlash(
      target.user,
      'adminUsers.flash.enabled',
      { name: target.user.name, email: target.user.email },
      target.user.email,
    );
    await person.post(`${page}/two-factor`, { twoFactor: 'enable', confirm: 'yes' }, page);
    await expectFlash(target.user, 'adminUsers.flash.alreadyOn', { name: target.user.name });

    // Disable refused for a user with 2FA off already and nothing set up (Resend QR refused too).
    const off = await createUser(t, { organizer, name: 'Odo Off', twoFactor: false });
    await person.post(`${pageOf(off)}/resend-qr`, {}, pageOf(off));
    await expectFlash(off, 'twoFactor.admin.resendQrOff', { email: off.email }, off.email);

    // Sign out everywhere: confirmation and flash.
    const signOut = await pressAndConfirm(person, page, `${page}/sign-out-everywhere`);
    expect(signOut.step.status).toBe(200);
    expectPage(signOut.step.text, target.user.name, target.user.email);
    expect(textOf(signOut.step.text)).toContain(
      say('adminUsers.confirm.signOut.sessionsEnd', { name: target.user.name, count: 0 }),
    );
    await expectFlash(
      target.user,
      'adminUsers.flash.signedOut',
      { name: target.user.name, email: target.user.email, count: 0 },
      target.user.email,
    );

    // Unlock: nothing to unlock (refused), then a locked account (confirmation, flash).
    await person.post(`${page}/unlock`, {}, page);
    await expectFlash(
      target.user,
      'adminUsers.refused.nothingToUnlock',
      { email: target.user.email },
      target.user.email,
    );
    await t.get(DataSource).getRepository(User).update({ id: target.user.id }, { accountLockedAt: t.clock.now() });
    const unlock = await pressAndConfirm(person, page, `${page}/unlock`);
    expect(unlock.step.status).toBe(200);
    expectPage(unlock.step.text, target.user.name, target.user.email);
    await expectFlash(
      target.user,
      'adminUsers.flash.unlocked',
      { name: target.user.name, email: target.user.email },
      target.user.email,
    );

    // The admin's own account: every button refused with its own message.
    const own = pageOf(admin);
    const ownPage = await person.get(own);
    expectPage(ownPage.text, admin.name, admin.email);
    for (const [action, fields, key] of [
      ['resend-qr', {}, 'adminUsers.refused.selfTwoFactor'],
      ['two-factor', { twoFactor: 'enable' }, 'adminUsers.refused.selfTwoFactor'],
      ['unlock', {}, 'adminUsers.refused.selfUnlock'],
      ['sign-out-everywhere', {}, 'adminUsers.refused.selfSignOut'],
    ] as const) {
      await person.post(`${own}/${action}`, fields, own);
      await expectFlash(admin, key, {}, admin.email);
    }
    // A confirmation posted without its toggle: the DTO's message, translated.
    const bad = await person.post(`${page}/two-factor`, { twoFactor: 'sideways' }, page);
    expect(bad.status).toBe(400);
    expectPage(bad.text, target.user.name);
    expect(
      hasButton((await person.get(page)).text, `${page}/resend-qr`, escape(say('adminUsers.action.resendQr'))),
    ).toBe(true);
  });

  it('the CSV: headers and the Role, 2FA and Factors words in the admin’s language, dates ISO 8601', async () => {
    const active = await withAuthenticator('Csv Active');
    const response = await person.get(`/admin/users/export.csv?q=${encodeURIComponent('Csv Active')}`);
    expect(response.status).toBe(200);
    const rows = parseCsv(response.text.replace(/^\uFEFF/, ''));
    expect(rows[0]).toEqual(
      [
        'account.name',
        'signIn.email',
        'dashboard.role',
        'adminUsers.column.twoFactor',
        'adminUsers.column.lastSignIn',
        'adminUsers.column.created',
        'adminUsers.column.factors',
      ].map((key) => say(key)),
    );
    expect(rows[1]).toEqual([
      active.user.name,
      active.user.email,
      say('role.member'),
      say('twoFactor.state.active'),
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      say('twoFactor.factor.totp'),
    ]);
    expect(untranslated(response.text, lang, names(active.user.name))).toEqual([]);
  });
});

describe('a French admin invites a German member (issue 17, Done when)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('the admin’s pages are French, the invitation email German', async () => {
    const { admin, person } = await adminOf(t, 'Fête GmbH', 'Françoise Admin');
    await t.get(DataSource).getRepository(User).update({ id: admin.id }, { language: 'fr' });
    const form = await person.get('/admin/users/new');
    expect(langOf(form.text)).toBe('fr');
    expect(form.text).toContain('<option value="de" lang="de">Deutsch</option>');
    const email = 'dieter@fete.test';
    await person.post(
      '/admin/users',
      { email, name: 'Dieter Mitglied', role: 'member', twoFactor: 'on', language: 'de' },
      '/admin/users/new',
    );
    const user = await t.get(DataSource).getRepository(User).findOneByOrFail({ email });
    expect(user.language).toBe('de');
    const page = await person.get(`/admin/users/${user.id}`);
    expect(langOf(page.text)).toBe('fr');
    expect(untranslated(page.text, 'fr', ['Fête GmbH', 'Dieter Mitglied', 'Françoise Admin', 'Deutsch'])).toEqual([]);
    expect(page.text).toContain('>Deutsch</dd>');
    const mail: Mail = await lastMailTo(t, email);
    expect(mail.subject).toBe(catalogue.format('de', 'mail.invitation.subject', { appName: APP_NAME }));
    expect(mail.html).toContain('<html lang="de">');
    for (const part of [mail.subject, mail.text, mail.html])
      expect(untranslated(part, 'de', ['Fête GmbH', 'Dieter Mitglied', 'Françoise Admin'])).toEqual([]);
    // The Emails table on the French page names the German subject (data: what was sent).
    expect(textOf(page.text)).toContain(mail.subject);
  });
});
