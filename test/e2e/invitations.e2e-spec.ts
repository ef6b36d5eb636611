import { AuditService } from '../../src/audit/audit.service';
import { UsersService } from '../../src/users/users.service';
import { codeAt, csrfFrom, manualKeyFrom, Person, recoveryCodesFrom } from '../utils/agent';
import { adminOf, press } from '../utils/admin';
import { lastMailTo, linkIn, mailsTo, secretsIn } from '../utils/mail';
import { createTestApp, TestApp } from '../utils/test-app';
import { stateOf } from '../utils/factors';

const HOUR = 60 * 60 * 1000;
const GOOD_PASSWORD = 'violet kettle under 9 moons';

describe('invitations (journey 1: GET/POST /invitations/:token)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** An admin creates an account through the form; returns the invitation link's path. */
  async function invite(email: string, options: { twoFactor: boolean; organizer?: string }): Promise<string> {
    const { person } = await adminOf(t, options.organizer ?? 'Invite Org', 'Ines Admin');
    const created = await person.submit('/admin/users/new', '/admin/users', {
      email,
      name: 'Nico Newcomer',
      role: 'member',
      ...(options.twoFactor ? { twoFactor: 'on' } : {}),
    });
    expect(created.status).toBe(303);
    return linkIn(await lastMailTo(t, email, /invited/), '/invitations/');
  }

  function setPassword(person: Person, link: string, newPassword: string, confirmPassword = newPassword) {
    return person.submit(link, link, { newPassword, confirmPassword });
  }

  it('with 2FA on: New password, Confirm password → Set password → the setup page in the same visit → Active → dashboard', async () => {
    const email = 'two.factor@invite.test';
    const link = await invite(email, { twoFactor: true });
    const mail = await lastMailTo(t, email, /invited/);
    expect(secretsIn(mail)).toEqual([]);
    expect(mail.text).toContain('authenticator app');

    const newcomer = new Person(t.server);
    const page = await newcomer.get(link);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<label for="newPassword">New password<\/label>/);
    expect(page.text).toMatch(/<label for="confirmPassword">Confirm password<\/label>/);
    expect(page.text).toMatch(/<button type="submit">Set password<\/button>/);
    expect(page.text).toContain(email);
    expect(page.text).toMatch(/autocomplete="new-password"/);

    const set = await setPassword(newcomer, link, GOOD_PASSWORD);
    expect(set.status).toBe(303);
    expect(set.headers.location).toBe('/2fa/setup');
    const dashboardFirst = await newcomer.get('/');
    expect(dashboardFirst.headers.location).toBe('/2fa/setup');

    const { secret, recoveryCodes } = await newcomer.setUpTwoFactor(t.clock);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(recoveryCodes).toHaveLength(10);
    const dashboard = await newcomer.get('/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Signed in as');

    const user = (await t.get(UsersService).findByEmail(email))!;
    expect(await stateOf(t, user.id)).toBe('active');
    const events = (await t.get(AuditService).recentForUser(user.id)).map((event) => event.type);
    expect(events).toEqual(
      expect.arrayContaining(['account.created', 'account.invitation_accepted', 'two_factor.setup', 'login.succeeded']),
    );

    // The password chosen works for a later sign-in, with the code.
    t.clock.advance(60_000);
    const later = new Person(t.server);
    const login = await later.login(email, GOOD_PASSWORD);
    expect(login.headers.location).toBe('/2fa/verify');
    const verify = await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
    expect(verify.headers.location).toBe('/');
  });

  it('with 2FA off: Set password → the dashboard, signed in', async () => {
    const email = 'no.two.factor@invite.test';
    const link = await invite(email, { twoFactor: false });
    const newcomer = new Person(t.server);
    const set = await setPassword(newcomer, link, GOOD_PASSWORD);
    expect(set.status).toBe(303);
    expect(set.headers.location).toBe('/');
    const dashboard = await newcomer.get('/');
    expect(dashboard.status).toBe(200);
    expect(dashboard.text).toContain('Nico Newcomer');
    const user = (await t.get(UsersService).findByEmail(email))!;
    expect(user.lastLoginAt).not.toBeNull();
  });

  it('works once: a used link says so, shows no form, and cannot set another password', async () => {
    const email = 'once@invite.test';
    const link = await invite(email, { twoFactor: false });
    const first = new Person(t.server);
    expect((await setPassword(first, link, GOOD_PASSWORD)).status).toBe(303);

    const again = await new Person(t.server).get(link);
    expect(again.status).toBe(410);
    expect(again.text).toContain('already used');
    expect(again.text).not.toContain('<form method="post" action="/invitations');
    expect(again.text).not.toContain('New password');

    // Replaying the form (even from a page opened before) sets nothing.
    const attacker = new Person(t.server);
    const attackerPage = await attacker.get('/login');
    const replay = await attacker.agent
      .post(link)
      .type('form')
      .send({
        newPassword: 'another good password 42',
        confirmPassword: 'another good password 42',
        _csrf: csrfFrom(attackerPage.text),
      })
      .redirects(0);
    expect(replay.status).toBe(410);
    const login = await new Person(t.server).login(email, GOOD_PASSWORD);
    expect(login.headers.location).toBe('/');
  });

  it('expires after 72 hours: before, the form; after, a page that says so and offers nothing else', async () => {
    const email = 'expiring@invite.test';
    const link = await invite(email, { twoFactor: true });
    t.clock.advance(72 * HOUR - 60_000);
    expect((await new Person(t.server).get(link)).status).toBe(200);
    t.clock.advance(60_000);
    const expired = await new Person(t.server).get(link);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain('expired');
    expect(expired.text).not.toContain('New password');
    expect(expired.text).not.toContain('href="/login"');
    const latecomer = new Person(t.server);
    const late = await latecomer.post(link, { newPassword: GOOD_PASSWORD, confirmPassword: GOOD_PASSWORD }, '/login');
    expect(late.status).toBe(410);
    expect((await t.get(UsersService).findByEmail(email))!.passwordHash).toBeNull();
  });

  it('refuses a short, a common (zxcvbn list) or a mismatched password with the form again, and the link stays usable', async () => {
    const email = 'rules@invite.test';
    const link = await invite(email, { twoFactor: false });
    const newcomer = new Person(t.server);

    const short = await setPassword(newcomer, link, 'short pass');
    expect(short.status).toBe(400);
    expect(short.text).toContain('Use at least 12 characters.');
    expect(short.text).not.toContain('short pass');

    for (const common of ['qwerty123456', 'LeaveMeAlone']) {
      const answer = await setPassword(newcomer, link, common);
      expect([common, answer.status]).toEqual([common, 400]);
      expect(answer.text).toContain('too common');
    }

    const emailAsPassword = await setPassword(newcomer, link, email);
    expect(emailAsPassword.status).toBe(400);

    const mismatch = await setPassword(newcomer, link, GOOD_PASSWORD, GOOD_PASSWORD + '!');
    expect(mismatch.status).toBe(400);
    expect(mismatch.text).toContain('not the same');
    expect(mismatch.text).toMatch(/<label for="newPassword">New password<\/label>/);

    const empty = await setPassword(newcomer, link, '');
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Enter a new password.');

    expect((await t.get(UsersService).findByEmail(email))!.passwordHash).toBeNull();
    const ok = await setPassword(newcomer, link, '  spaces count too  ');
    expect(ok.headers.location).toBe('/');
    expect((await new Person(t.server).login(email, 'spaces count too')).status).toBe(401);
    expect((await new Person(t.server).login(email, '  spaces count too  ')).headers.location).toBe('/');
  });

  it('answers an unknown or mangled token with 410 and no form', async () => {
    for (const path of [
      '/invitations/not-a-real-token-but-long-enough-000000',
      '/invitations/x',
      `/invitations/${'a'.repeat(300)}`,
    ]) {
      const page = await new Person(t.server).get(path);
      expect([path, page.status]).toEqual([path, 410]);
      expect(page.text).not.toContain('New password');
    }
  });

  it('Resend invitation on the user’s page sends a new link and the earlier one stops working', async () => {
    const email = 'resend@invite.test';
    const { person: admin } = await adminOf(t, 'Resend Invite Org', 'Rita Admin');
    await admin.submit('/admin/users/new', '/admin/users', {
      email,
      name: 'Rene Resent',
      role: 'member',
      twoFactor: 'on',
    });
    const firstLink = linkIn(await lastMailTo(t, email), '/invitations/');
    const user = (await t.get(UsersService).findByEmail(email))!;

    const userPage = `/admin/users/${user.id}`;
    const page = await admin.get(userPage);
    expect(page.text).toContain('Resend invitation');
    expect(page.text).not.toMatch(/>\s*Resend QR\s*</);
    const resent = await press(admin, userPage, `/admin/users/${user.id}/invitation`);
    expect(resent.status).toBe(303);
    expect((await admin.get(userPage)).text).toContain('A new invitation, valid 72 hours, is queued for');

    const mails = await mailsTo(t, email);
    expect(mails).toHaveLength(2);
    const secondLink = linkIn(mails[1], '/invitations/');
    expect(secondLink).not.toBe(firstLink);
    const old = await new Person(t.server).get(firstLink);
    expect(old.status).toBe(410);
    expect(old.text).toContain('newer invitation');
    const newcomer = new Person(t.server);
    expect((await setPassword(newcomer, secondLink, GOOD_PASSWORD)).headers.location).toBe('/2fa/setup');
    const events = (await t.get(AuditService).recentForUser(user.id)).map((event) => event.type);
    expect(events).toContain('account.invitation_sent');

    // Once accepted, there is no invitation to resend.
    const after = await admin.get(userPage);
    expect(after.text).not.toContain('Resend invitation');
  });

  it('two submissions of one link at once: exactly one sets the password', async () => {
    const email = 'race@invite.test';
    const link = await invite(email, { twoFactor: false });
    const a = new Person(t.server);
    const b = new Person(t.server);
    const [pageA, pageB] = await Promise.all([a.get(link), b.get(link)]);
    const [answerA, answerB] = await Promise.all([
      a.agent
        .post(link)
        .type('form')
        .send({
          newPassword: 'first racer password',
          confirmPassword: 'first racer password',
          _csrf: csrfFrom(pageA.text),
        })
        .redirects(0),
      b.agent
        .post(link)
        .type('form')
        .send({
          newPassword: 'second racer password',
          confirmPassword: 'second racer password',
          _csrf: csrfFrom(pageB.text),
        })
        .redirects(0),
    ]);
    expect([answerA.status, answerB.status].sort()).toEqual([303, 410]);
    const winner = answerA.status === 303 ? 'first racer password' : 'second racer password';
    const loser = answerA.status === 303 ? 'second racer password' : 'first racer password';
    expect((await new Person(t.server).login(email, winner)).headers.location).toBe('/');
    expect((await new Person(t.server).login(email, loser)).status).toBe(401);
  });

  it('never shows the setup secret in an invitation and the setup page works after it', async () => {
    const email = 'secret.check@invite.test';
    const link = await invite(email, { twoFactor: true });
    const newcomer = new Person(t.server);
    await setPassword(newcomer, link, GOOD_PASSWORD);
    const setup = await newcomer.get('/2fa/setup');
    const secret = manualKeyFrom(setup.text);
    for (const mail of await mailsTo(t, email)) expect(secretsIn(mail, [secret])).toEqual([]);
    const confirm = await newcomer.agent
      .post('/2fa/setup')
      .type('form')
      .send({ code: codeAt(secret, t.clock), _csrf: csrfFrom(setup.text) })
      .redirects(0);
    expect(confirm.headers.location).toBe('/2fa/recovery-codes');
    expect(recoveryCodesFrom((await newcomer.get('/2fa/recovery-codes')).text)).toHaveLength(10);
  });
});
