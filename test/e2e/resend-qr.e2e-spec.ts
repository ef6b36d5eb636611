import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { SessionRecord } from '../../src/auth/session.entity';
import { RecoveryCode } from '../../src/two-factor/recovery-code.entity';
import { User } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { codeAt, csrfFrom, manualKeyFrom, Person } from '../utils/agent';
import { codeFailures, codeLocked } from '../utils/attempts';
import { adminOf, hasButton, press, pressAndConfirm, wrongCode } from '../utils/admin';
import { lastMailTo, linkIn, mailsTo, secretsIn } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { hasFactor, totpDevices } from '../utils/factors';

const HOUR = 60 * 60 * 1000;

// Many argon2id hashes (OWASP parameters) per journey: give a loaded machine room.
jest.setTimeout(60_000);

describe('Resend QR (journey 4: POST /admin/users/:id/resend-qr, then /2fa/reset/:token)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** A member with an active authenticator, signed in on their own browser. */
  async function activeMember(organizer: string, email: string) {
    const member = await createUser(t, { organizer, email, name: 'Mia Member', twoFactor: true });
    const browser = new Person(t.server);
    await browser.login(member.email, DEFAULT_PASSWORD);
    const { secret, recoveryCodes } = await browser.setUpTwoFactor(t.clock);
    return { member, browser, secret, recoveryCodes };
  }

  it('the whole journey: reset → sessions end → no QR without the link → emailed link → new secret → old code refused → new code works → link spent', async () => {
    const org = 'Journey Org';
    const { admin, person: adminBrowser } = await adminOf(t, org, 'Ada Admin');
    const { member, browser, secret: oldSecret, recoveryCodes } = await activeMember(org, 'mia@journey.test');
    const userPage = `/admin/users/${member.id}`;
    const action = `${userPage}/resend-qr`;

    // The button, its confirmation step (nothing changes yet), then the reset.
    const before = await adminBrowser.get(userPage);
    expect(before.text).toMatch(/id="two-factor-state">Active</);
    expect(hasButton(before.text, action, 'Resend QR')).toBe(true);
    const { step, result } = await pressAndConfirm(adminBrowser, userPage, action);
    expect(step.status).toBe(200);
    expect(step.text).toContain('Resend QR for Mia Member');
    expect(hasButton(step.text, action, 'Resend QR')).toBe(true);
    expect(result.status).toBe(303);
    expect(result.headers.location).toBe(userPage);

    const after = await adminBrowser.get(userPage);
    expect(after.text).toContain('an email with a link valid 24 hours is queued for mia@journey.test');
    expect(after.text).toMatch(/id="two-factor-state">Pending setup</);
    expect(after.text).toContain('Latest QR reset');
    expect(after.text).toMatch(/<dt>By<\/dt><dd>Ada Admin<\/dd>/);
    expect(after.text).toContain('>waiting</span>');
    expect(after.text).not.toContain(oldSecret);

    // The member's open session has ended, on the server.
    const ended = await browser.get('/');
    expect(ended.status).toBe(303);
    expect(ended.headers.location).toMatch(/^\/login/);
    expect(await t.get(DataSource).getRepository(SessionRecord).countBy({ userId: member.id })).toBe(0);
    expect(await t.get(DataSource).getRepository(RecoveryCode).countBy({ userId: member.id })).toBe(0);

    // The password alone never shows a QR: the user is told to use the email.
    const withoutLink = new Person(t.server);
    const login = await withoutLink.login(member.email, DEFAULT_PASSWORD);
    expect(login.headers.location).toBe('/2fa/setup');
    const checkEmail = await withoutLink.get('/2fa/setup');
    expect(checkEmail.status).toBe(200);
    expect(checkEmail.text).toContain('Check your email');
    expect(checkEmail.text).not.toContain('<img');
    expect(checkEmail.text).not.toContain('id="manual-key"');
    // …and neither the old code nor a recovery code gets in.
    t.clock.advance(30_000);
    const oldCode = await withoutLink.post('/2fa/verify', { code: codeAt(oldSecret, t.clock) }, '/2fa/setup');
    expect(oldCode.status).not.toBe(303);
    const recovery = await withoutLink.post('/2fa/recovery', { recoveryCode: recoveryCodes[0] }, '/2fa/setup');
    expect(recovery.status).not.toBe(303);
    expect((await withoutLink.get('/')).headers.location).toBe('/2fa/setup');

    // The email: the link, and no secret, QR image or otpauth URI.
    const mail = await lastMailTo(t, member.email, /authenticator/i);
    expect(mail.subject).toBe('Set up your authenticator app again');
    expect(mail.text).toContain('24 hours');
    expect(secretsIn(mail, [oldSecret])).toEqual([]);
    const link = linkIn(mail, '/2fa/reset/');

    // The link asks for the password, then shows the setup page with a new secret.
    const phone = new Person(t.server);
    const linkPage = await phone.get(link);
    expect(linkPage.status).toBe(200);
    expect(linkPage.text).toContain(member.email);
    const wrongPassword = await phone.submit(link, link, { password: 'not the password at all' });
    expect(wrongPassword.status).toBe(401);
    const rightPassword = await phone.submit(link, link, { password: DEFAULT_PASSWORD });
    expect(rightPassword.headers.location).toBe('/2fa/setup');
    const setup = await phone.get('/2fa/setup');
    expect(setup.text).toMatch(/<img src="data:image\/png;base64,[^"]+" alt="QR code/);
    const newSecret = manualKeyFrom(setup.text);
    expect(newSecret).not.toBe(oldSecret);
    for (const sent of await mailsTo(t, member.email)) expect(secretsIn(sent, [newSecret, oldSecret])).toEqual([]);

    // The old authenticator's code is refused; the new one's is accepted.
    t.clock.advance(30_000);
    const oldRefused = await phone.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(oldSecret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(oldRefused.status).toBe(400);
    const newAccepted = await phone.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(newSecret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(newAccepted.headers.location).toBe('/2fa/recovery-codes');
    expect((await phone.get('/2fa/recovery-codes')).status).toBe(200);

    // The link is spent.
    const reused = await new Person(t.server).get(link);
    expect(reused.status).toBe(410);
    expect(reused.text).toContain('already used');

    // Later sign-ins: the old authenticator is refused, the new one works.
    t.clock.advance(60_000);
    const later = new Person(t.server);
    expect((await later.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
    const oldAgain = await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(oldSecret, t.clock) });
    expect(oldAgain.status).toBe(401);
    const newAgain = await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(newSecret, t.clock) });
    expect(newAgain.headers.location).toBe('/');

    // The admin sees the reset done, by whom, and the events.
    const done = await adminBrowser.get(userPage);
    expect(done.text).toMatch(/id="two-factor-state">Active</);
    expect(done.text).toContain('>done</span>');
    const events = await t.get(AuditService).recentForUser(member.id);
    const reset = events.find((event) => event.type === 'two_factor.reset')!;
    expect(reset.actorId).toBe(admin.id);
    expect(events.map((event) => event.type)).toEqual(expect.arrayContaining(['two_factor.reset', 'two_factor.setup']));
    expect(done.text).toContain('QR resent (2FA reset)');
  });

  it('clears a lock: a Locked member is Pending setup after Resend QR and can set up again', async () => {
    const org = 'Lock Org';
    const { person: adminBrowser } = await adminOf(t, org, 'Lou Admin');
    const { member, secret } = await activeMember(org, 'locked@lock.test');
    const locked = new Person(t.server);
    await locked.login(member.email, DEFAULT_PASSWORD);
    for (let i = 0; i < 5; i++) await locked.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });
    const userPage = `/admin/users/${member.id}`;
    expect((await adminBrowser.get(userPage)).text).toMatch(/id="two-factor-state">Locked</);
    // The user was told about the lock (SECURITY.md 13).
    expect((await lastMailTo(t, member.email, /locked/i)).text).toContain('locked for 15 minutes');

    await pressAndConfirm(adminBrowser, userPage, `${userPage}/resend-qr`);
    const stored = await t.get(UsersService).getById(member.id);
    expect(await totpDevices(t, member.id)).toEqual({ active: null, pending: null });
    expect(await codeLocked(t, member.id)).toBe(false);
    expect(await codeFailures(t, member.id)).toBe(0);
    expect(stored.secondFactorResetAt?.getTime()).toBe(t.clock.nowMs());
    expect((await adminBrowser.get(userPage)).text).toMatch(/id="two-factor-state">Pending setup</);

    const link = linkIn(await lastMailTo(t, member.email, /authenticator/i), '/2fa/reset/');
    const phone = new Person(t.server);
    await phone.submit(link, link, { password: DEFAULT_PASSWORD });
    const { secret: fresh } = await phone.setUpTwoFactor(t.clock);
    expect(fresh).not.toBe(secret);
    expect((await phone.get('/')).status).toBe(200);
  });

  it('the link asks for the password; a wrong one, a locked account and a right one each get their own answer', async () => {
    const org = 'Locked Link Org';
    const { person: adminBrowser } = await adminOf(t, org, 'Lou Admin');
    const { member } = await activeMember(org, 'locked.link@test.test');
    const userPage = `/admin/users/${member.id}`;
    await pressAndConfirm(adminBrowser, userPage, `${userPage}/resend-qr`);
    const link = linkIn(await lastMailTo(t, member.email, /authenticator/i), '/2fa/reset/');
    const phone = new Person(t.server);

    const wrong = await phone.submit(link, link, { password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Incorrect password.');

    // Reported as "not me" meanwhile: the right password is told the account is locked, and gets no setup.
    await t.get(DataSource).getRepository(User).update(member.id, { accountLockedAt: t.clock.now() });
    const locked = await phone.submit(link, link, { password: DEFAULT_PASSWORD });
    expect(locked.status).toBe(403);
    expect(locked.text).toContain(
      'This account is locked because a sign-in was reported as not yours. Ask an admin of your organizer to unlock it.',
    );
    expect((await phone.get('/2fa/setup')).status).toBe(303);

    await t.get(UsersService).unlock(await t.get(UsersService).getById(member.id));
    const right = await phone.submit(link, link, { password: DEFAULT_PASSWORD });
    expect(right.headers.location).toBe('/2fa/setup');
  });

  it('a signed-in (pending) session that opens the link goes straight to the setup page', async () => {
    const org = 'Pending Link Org';
    const { person: adminBrowser } = await adminOf(t, org, 'Pat Admin');
    const { member } = await activeMember(org, 'pending.link@test.test');
    const userPage = `/admin/users/${member.id}`;
    await pressAndConfirm(adminBrowser, userPage, `${userPage}/resend-qr`);
    const browser = new Person(t.server);
    await browser.login(member.email, DEFAULT_PASSWORD);
    expect((await browser.get('/2fa/setup')).text).toContain('Check your email');
    const link = linkIn(await lastMailTo(t, member.email, /authenticator/i), '/2fa/reset/');
    const opened = await browser.get(link);
    expect(opened.headers.location).toBe('/2fa/setup');
    expect((await browser.get('/2fa/setup')).text).toContain('id="manual-key"');
  });

  it('the link expires after 24 hours, the admin page says expired, and a new Resend QR replaces the old link', async () => {
    const org = 'Expiry Org';
    const { person: adminBrowser } = await adminOf(t, org, 'Eve Admin');
    const { member } = await activeMember(org, 'expiry@expiry.test');
    const userPage = `/admin/users/${member.id}`;
    await pressAndConfirm(adminBrowser, userPage, `${userPage}/resend-qr`);
    const firstLink = linkIn(await lastMailTo(t, member.email, /authenticator/i), '/2fa/reset/');

    t.clock.advance(24 * HOUR - 60_000);
    expect((await new Person(t.server).get(firstLink)).status).toBe(200);
    t.clock.advance(60_000);
    const expired = await new Person(t.server).get(firstLink);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('expired');
    // The admin session is 24 h old by now: sign in again.
    const { person: freshAdmin } = await adminOf(t, org, 'Eve Again');
    const page = await freshAdmin.get(userPage);
    expect(page.text).toContain('>expired</span>');
    expect(page.text).toContain('Click Resend QR to send a new one');

    await pressAndConfirm(freshAdmin, userPage, `${userPage}/resend-qr`);
    const secondLink = linkIn(await lastMailTo(t, member.email, /authenticator/i), '/2fa/reset/');
    expect(secondLink).not.toBe(firstLink);
    expect((await freshAdmin.get(userPage)).text).toMatch(/<dt>By<\/dt><dd>Eve Again<\/dd>/);
    expect((await new Person(t.server).get(secondLink)).status).toBe(200);
  });

  it('without the confirmation nothing changes; without a CSRF token it is 403', async () => {
    const org = 'No Confirm Org';
    const { person: adminBrowser } = await adminOf(t, org, 'Nia Admin');
    const { member, browser } = await activeMember(org, 'noconfirm@test.test');
    const action = `/admin/users/${member.id}/resend-qr`;
    const mailsBefore = (await mailsTo(t, member.email)).length;

    const step = await press(adminBrowser, `/admin/users/${member.id}`, action);
    expect(step.status).toBe(200);
    const noCsrf = await adminBrowser.agent.post(action).type('form').send({ confirm: 'yes' }).redirects(0);
    expect(noCsrf.status).toBe(403);

    const stored = await t.get(UsersService).getById(member.id);
    expect(await hasFactor(t, member.id)).toBe(true);
    expect(stored.secondFactorResetAt).toBeNull();
    expect((await browser.get('/')).status).toBe(200);
    expect(await mailsTo(t, member.email)).toHaveLength(mailsBefore);
  });

  it('is refused, with a message and no change, when 2FA is off, for the admin’s own account, and before the invitation is accepted', async () => {
    const org = 'Refusal Org';
    const { admin, person: adminBrowser } = await adminOf(t, org, 'Ray Admin');
    const off = await createUser(t, { organizer: org, email: 'off@refusal.test', twoFactor: false });
    const invited = await createUser(t, {
      organizer: org,
      email: 'invited@refusal.test',
      twoFactor: true,
      password: null,
    });

    const offPage = await adminBrowser.get(`/admin/users/${off.id}`);
    expect(offPage.text).not.toContain(`/admin/users/${off.id}/resend-qr`);
    const token = csrfFrom(offPage.text);
    for (const [user, message] of [
      [off, 'Two-factor authentication is off for off@refusal.test'],
      [admin, 'You cannot change your own two-factor authentication here'],
      [invited, 'has not accepted the invitation yet'],
    ] as const) {
      for (const confirm of [undefined, 'yes']) {
        const answer = await adminBrowser.agent
          .post(`/admin/users/${user.id}/resend-qr`)
          .type('form')
          .send({ _csrf: token, ...(confirm ? { confirm } : {}) })
          .redirects(0);
        expect(answer.status).toBe(303);
        expect(answer.headers.location).toBe(`/admin/users/${user.id}`);
        expect((await adminBrowser.get(`/admin/users/${user.id}`)).text).toContain(message);
      }
      const stored = await t.get(UsersService).getById(user.id);
      expect(stored.secondFactorResetAt).toBeNull();
      expect(
        await mailsTo(t, user.email).then((mails) => mails.filter((m) => /authenticator app again/.test(m.subject))),
      ).toHaveLength(0);
    }
  });
});
