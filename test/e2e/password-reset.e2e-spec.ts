import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { SessionRecord } from '../../src/auth/session.entity';
import { OneTimeToken } from '../../src/users/one-time-token.entity';
import { PasswordResetService } from '../../src/password-reset/password-reset.service';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom, Person } from '../utils/agent';
import { adminOf, wrongCode } from '../utils/admin';
import { codeLocked } from '../utils/attempts';
import { lastMailTo, linkIn, mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const MINUTE = 60_000;
const NEW_PASSWORD = 'a brand new passphrase';
const RESET_SUBJECT = /^Reset your password$/;

// Many argon2id hashes (OWASP parameters) per journey: give a loaded machine room.
jest.setTimeout(60_000);

/** Waits for the work a forgot-password request does after its response (never a sleep). */
function settled(t: TestApp): Promise<void> {
  return t.get(PasswordResetService).settled();
}

/** `Email` → Send link, from a fresh browser that opened the form first; the background work is awaited. */
async function askForLink(t: TestApp, email: string, person = new Person(t.server)) {
  const answer = await person.submit('/password/forgot', '/password/forgot', { email });
  await settled(t);
  return answer;
}

/** The link of the newest reset email to `email`. */
async function resetLinkOf(t: TestApp, email: string): Promise<string> {
  return linkIn(await lastMailTo(t, email, RESET_SUBJECT), '/password/reset/');
}

/** `New password`, `Confirm password` → Set password, on the link's page. */
function setPassword(person: Person, link: string, password: string, confirm = password) {
  return person.submit(link, link, { newPassword: password, confirmPassword: confirm });
}

/** The same POST to a link that no longer shows its form (a form kept open; the token from another page). */
function postToLink(person: Person, link: string, password: string) {
  return person.post(link, { newPassword: password, confirmPassword: password }, '/password/forgot');
}

async function eventsOf(t: TestApp, userId: string, type: AuditEvent['type']): Promise<AuditEvent[]> {
  return t
    .get(DataSource)
    .getRepository(AuditEvent)
    .find({ where: { userId, type }, order: { createdAt: 'ASC' } });
}

async function sessionRows(t: TestApp, userId: string): Promise<number> {
  return t.get(DataSource).getRepository(SessionRecord).countBy({ userId });
}

/** What must be the same for every address: status, cookies, type and the body (the typed address masked). */
function answerShape(answer: request.Response, email: string) {
  return {
    status: answer.status,
    setCookie: answer.headers['set-cookie'],
    contentType: answer.headers['content-type'],
    cacheControl: answer.headers['cache-control'],
    body: answer.text.split(email).join('ADDRESS'),
  };
}

describe('Forgot password (issue 14: /password/forgot, /password/reset/:token)', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Every request comes from 127.0.0.1: the per-client limit is tested on its own app below.
    t = await createTestApp({ env: { RESET_MAX_PER_CLIENT: '100000' } });
  });
  afterAll(async () => t.close());

  /** A member with an active authenticator (password, setup), and the browser they signed in with. */
  async function activeMember(email: string, organizer = 'Reset Org') {
    const user = await createUser(t, { email, organizer, name: 'Rita Reset', twoFactor: true });
    const browser = new Person(t.server);
    await browser.login(email, DEFAULT_PASSWORD);
    const { secret, recoveryCodes } = await browser.setUpTwoFactor(t.clock);
    return { user, browser, secret, recoveryCodes };
  }

  describe('the pages', () => {
    it('the login page links Forgot your password? to /password/forgot, and sends a lost phone to a recovery code or an admin', async () => {
      const login = await new Person(t.server).get('/login');
      expect(login.text).toMatch(/<a href="\/password\/forgot">Forgot your password\?<\/a>/);
      expect(login.text).toContain('recovery codes');
      expect(login.text).toContain('Resend QR');
      expect(login.text).not.toContain('Forgot your password or lost your phone?');
      const forgot = await new Person(t.server).get('/password/forgot');
      expect(forgot.status).toBe(200);
      expect(forgot.text).toMatch(/<label for="email">Email<\/label>/);
      expect(forgot.text).toMatch(/<button type="submit">Send link<\/button>/);
    });

    it('refuses a malformed address on the form, with the input kept and nothing counted or sent', async () => {
      const answer = await askForLink(t, 'not an address');
      expect(answer.status).toBe(400);
      expect(answer.text).toContain('Enter a valid email address');
      expect(answer.text).toContain('value="not an address"');
      expect(answer.text).toMatch(/<button type="submit">Send link<\/button>/);
    });

    it('takes no render options from the request (SECURITY.md 23)', async () => {
      const options = { layout: '../package.json', settings: 'x', cache: 'x', partials: 'x', helpers: 'x' };
      const forgot = await new Person(t.server).get('/password/forgot?layout=../package.json');
      expect(forgot.text).toContain('<h1>Forgot your password?</h1>');
      const sent = await new Person(t.server).submit('/password/forgot', '/password/forgot', {
        email: 'options@reset.test',
        ...options,
      });
      expect(sent.status).toBe(200);
      expect(sent.text).toContain('<h1>Check your email</h1>');
      const refused = await new Person(t.server).submit('/password/forgot', '/password/forgot', {
        email: 'no address',
        ...options,
      });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain('<h1>Forgot your password?</h1>');
      const link = await new Person(t.server).get(`/password/reset/${'x'.repeat(43)}?layout=../package.json`);
      expect(link.text).toContain('Password reset link not usable');
      for (const page of [forgot, sent, refused, link]) expect(page.text).not.toContain('devDependencies');
      await settled(t);
    });

    it('refuses a POST without a CSRF token, and sends nothing', async () => {
      const email = 'nocsrf@reset.test';
      await createUser(t, { email, organizer: 'Reset Org' });
      const answer = await new Person(t.server).agent.post('/password/forgot').type('form').send({ email });
      await settled(t);
      expect(answer.status).toBe(403);
      expect(await mailsTo(t, email)).toHaveLength(0);
    });
  });

  describe('POST /password/forgot: no enumeration', () => {
    it('answers a known, an unknown, a deactivated, a locked and a not-yet-accepted address identically; only the real account gets an email', async () => {
      // Addresses of the same length: the page shows the one typed, everything else must be byte for byte the same.
      const known = 'known@enum.test';
      const unknown = 'ghost@enum.test';
      const deactivated = 'inact@enum.test';
      const locked = 'notme@enum.test';
      const invited = 'invit@enum.test';
      const real = await createUser(t, { email: known, organizer: 'Enum Org' });
      const gone = await createUser(t, { email: deactivated, organizer: 'Enum Org' });
      const notMe = await createUser(t, { email: locked, organizer: 'Enum Org' });
      const newcomer = await createUser(t, { email: invited, organizer: 'Enum Org', password: null });
      const users = t.get(DataSource).getRepository(User);
      await users.update({ id: gone.id }, { isActive: false });
      await users.update({ id: notMe.id }, { accountLockedAt: t.clock.now() });

      const answers = new Map<string, request.Response>();
      for (const email of [known, unknown, deactivated, locked, invited])
        answers.set(email, await askForLink(t, email));

      const expected = answerShape(answers.get(known)!, known);
      expect(expected.status).toBe(200);
      expect(expected.setCookie).toBeUndefined();
      expect(expected.body).toContain('Check your email');
      expect(expected.body).toContain('<strong>ADDRESS</strong>');
      // Nothing random on the page: no form, no CSRF token.
      expect(expected.body).not.toContain('_csrf');
      for (const email of [unknown, deactivated, locked, invited])
        expect({ email, ...answerShape(answers.get(email)!, email) }).toEqual({ email, ...expected });

      expect(await mailsTo(t, known)).toHaveLength(1);
      for (const email of [unknown, deactivated, locked, invited]) expect(await mailsTo(t, email)).toEqual([]);
      expect(await eventsOf(t, real.id, 'password.reset_requested')).toHaveLength(1);
      for (const user of [gone, notMe, newcomer]) {
        expect(await eventsOf(t, user.id, 'password.reset_requested')).toEqual([]);
        expect(
          await t.get(DataSource).getRepository(OneTimeToken).countBy({ userId: user.id, purpose: 'password-reset' }),
        ).toBe(0);
      }
    });

    it("a signed-in visitor's page keeps a working Log out button", async () => {
      const user = await createUser(t, { email: 'signedin@enum.test', organizer: 'Enum Org', twoFactor: false });
      const person = new Person(t.server);
      await person.login(user.email, DEFAULT_PASSWORD);
      const sent = await person.submit('/password/forgot', '/password/forgot', { email: 'someone@enum.test' });
      await settled(t);
      expect(sent.text).toContain('Check your email');
      const logout = await person.agent
        .post('/logout')
        .type('form')
        .send({ _csrf: csrfFrom(sent.text) })
        .redirects(0);
      expect(logout.headers.location).toBe('/login?reason=signed-out');
    });

    it('shows the typed address escaped, and sends to the account of its normal form', async () => {
      const email = 'casey@enum.test';
      await createUser(t, { email, organizer: 'Enum Org' });
      const answer = await askForLink(t, '  CASEY@Enum.Test ');
      expect(answer.status).toBe(200);
      expect(answer.text).toContain('<strong>CASEY@Enum.Test</strong>');
      expect(await mailsTo(t, email)).toHaveLength(1);
      const odd = await askForLink(t, '"<b>x</b>"@enum.test');
      // A quoted local part is refused on the form (SECURITY.md 27), escaped there too.
      expect(odd.status).toBe(400);
      expect(odd.text).not.toContain('<b>x</b>');
    });
  });

  describe('the email and its link', () => {
    it('emails a single-use link valid 1 hour with a "This wasn\'t me" link; the link page is not cached and sends no Referer', async () => {
      const { user } = await activeMember('mail@reset.test');
      await askForLink(t, user.email);
      const mail = await lastMailTo(t, user.email, RESET_SUBJECT);
      expect(mail.text).toContain('works once, for 1 hour');
      expect(mail.text).toContain('you can ignore this email: your password has not changed');
      expect(linkIn(mail, '/not-me/')).toMatch(/^\/not-me\//);
      const link = linkIn(mail, '/password/reset/');

      const page = await new Person(t.server).get(link);
      expect(page.status).toBe(200);
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.text).toContain(user.email);
      expect(page.text).toMatch(/<label for="newPassword">New password<\/label>/);
      expect(page.text).toMatch(/<label for="confirmPassword">Confirm password<\/label>/);
      expect(page.text).toMatch(/<button type="submit">Set password<\/button>/);
      // Opening the link changes nothing: it is still waiting.
      expect((await new Person(t.server).get(link)).status).toBe(200);
    });

    it('works once: a second use shows the unusable page and changes nothing', async () => {
      const { user } = await activeMember('once@reset.test');
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      const person = new Person(t.server);
      const done = await setPassword(person, link, NEW_PASSWORD);
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe('/login');
      const login = await person.get('/login');
      expect(login.text).toContain('Your password was changed. Sign in with your new password.');

      const again = await postToLink(new Person(t.server), link, 'yet another passphrase');
      expect(again.status).toBe(410);
      expect(again.text).toContain('already used');
      expect(again.text).toContain('href="/password/forgot"');
      expect((await new Person(t.server).get(link)).status).toBe(410);
      expect((await new Person(t.server).login(user.email, 'yet another passphrase')).status).toBe(401);
      expect((await new Person(t.server).login(user.email, NEW_PASSWORD)).headers.location).toBe('/2fa/verify');
    });

    it('expires after 1 hour (the injected clock)', async () => {
      const { user } = await activeMember('expiry@reset.test');
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      t.clock.advance(59 * MINUTE);
      const early = new Person(t.server);
      const form = await early.get(link);
      expect(form.status).toBe(200);
      t.clock.advance(MINUTE);
      const expired = await new Person(t.server).get(link);
      expect(expired.status).toBe(410);
      expect(expired.text).toContain('has expired');
      // A form opened before the hour ended is refused after it too.
      const late = await early.agent
        .post(link)
        .type('form')
        .send({ newPassword: NEW_PASSWORD, confirmPassword: NEW_PASSWORD, _csrf: csrfFrom(form.text) })
        .redirects(0);
      expect(late.status).toBe(410);
      expect((await new Person(t.server).login(user.email, NEW_PASSWORD)).status).toBe(401);
      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
    });

    it('a second request replaces the first link', async () => {
      const { user } = await activeMember('replace@reset.test');
      await askForLink(t, user.email);
      const first = await resetLinkOf(t, user.email);
      t.clock.advance(MINUTE);
      await askForLink(t, user.email);
      const second = await resetLinkOf(t, user.email);
      expect(second).not.toBe(first);
      const replaced = await new Person(t.server).get(first);
      expect(replaced.status).toBe(410);
      expect(replaced.text).toContain('a newer link replaced it');
      expect((await postToLink(new Person(t.server), first, NEW_PASSWORD)).status).toBe(410);
      expect((await setPassword(new Person(t.server), second, NEW_PASSWORD)).headers.location).toBe('/login');
    });

    it('an unknown or malformed token is the unusable page', async () => {
      for (const token of ['x'.repeat(43), 'short', 'a'.repeat(200)]) {
        const page = await new Person(t.server).get(`/password/reset/${token}`);
        expect(page.status).toBe(410);
        expect(page.text).toContain('This password reset link is not valid');
      }
    });

    it('a link sent before the account was deactivated no longer works', async () => {
      const user = await createUser(t, { email: 'deact@reset.test', organizer: 'Reset Org', twoFactor: false });
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      await t.get(DataSource).getRepository(User).update({ id: user.id }, { isActive: false });
      expect((await new Person(t.server).get(link)).status).toBe(410);
      expect((await postToLink(new Person(t.server), link, NEW_PASSWORD)).status).toBe(410);
    });
  });

  describe('POST /password/reset/:token: the new password', () => {
    it('applies the password policy on the same page, never echoes the passwords, and leaves the link usable', async () => {
      const { user } = await activeMember('policy@reset.test');
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      const person = new Person(t.server);
      const cases: [string, string, string][] = [
        ['', '', 'Enter a new password.'],
        ['short pass', 'short pass', 'Use at least 12 characters.'],
        ['password1234', 'password1234', 'This password is too common.'],
        [user.email, user.email, 'Do not use your email address'],
        ['x'.repeat(129), 'x'.repeat(129), 'Use at most 128 characters.'],
        [NEW_PASSWORD, 'a brand new passphrasE', 'The two passwords are not the same.'],
        [NEW_PASSWORD, '', 'Enter the same password again.'],
      ];
      for (const [password, confirm, message] of cases) {
        const answer = await setPassword(person, link, password, confirm);
        expect({ password, status: answer.status }).toEqual({ password, status: 400 });
        expect(answer.text).toContain(message);
        expect(answer.text).toMatch(/<button type="submit">Set password<\/button>/);
        expect(answer.text).toContain(`action="${link}"`);
        expect(answer.headers['referrer-policy']).toBe('no-referrer');
        if (password.length >= 5 && password !== user.email) expect(answer.text).not.toContain(password);
      }
      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
      expect((await setPassword(person, link, NEW_PASSWORD)).headers.location).toBe('/login');
    });

    it('two submissions of one link at once: exactly one sets its password', async () => {
      const { user } = await activeMember('race@reset.test');
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      const a = new Person(t.server);
      const b = new Person(t.server);
      const [pageA, pageB] = await Promise.all([a.get(link), b.get(link)]);
      const post = (person: Person, page: string, password: string) =>
        person.agent
          .post(link)
          .type('form')
          .send({ newPassword: password, confirmPassword: password, _csrf: csrfFrom(page) })
          .redirects(0);
      const [answerA, answerB] = await Promise.all([
        post(a, pageA.text, 'first racer passphrase'),
        post(b, pageB.text, 'second racer passphrase'),
      ]);
      expect([answerA.status, answerB.status].sort()).toEqual([303, 410]);
      const winner = answerA.status === 303 ? 'first racer passphrase' : 'second racer passphrase';
      const loser = answerA.status === 303 ? 'second racer passphrase' : 'first racer passphrase';
      expect((await new Person(t.server).login(user.email, loser)).status).toBe(401);
      expect((await new Person(t.server).login(user.email, winner)).headers.location).toBe('/2fa/verify');
      expect(await eventsOf(t, user.id, 'password.reset')).toHaveLength(1);
    });
  });

  describe('after the reset: the second factor is still owed, every session ended', () => {
    it('the link signs nobody in; the old password fails; the new one leads to the code, then in; a recovery code still works', async () => {
      const { user, secret, recoveryCodes } = await activeMember('factor@reset.test');
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      const person = new Person(t.server);
      expect((await setPassword(person, link, NEW_PASSWORD)).headers.location).toBe('/login');
      // Not signed in by the link.
      const home = await person.get('/');
      expect(home.status).toBe(303);
      expect(home.headers.location).toMatch(/^\/login/);

      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).status).toBe(401);
      const login = await person.login(user.email, NEW_PASSWORD);
      expect(login.headers.location).toBe('/2fa/verify');
      // Pending: nothing but the second factor.
      expect((await person.get('/')).headers.location).toBe('/2fa/verify');
      expect((await person.get('/account')).headers.location).toBe('/2fa/verify');
      t.clock.advance(30_000);
      const code = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(code.headers.location).toBe('/');
      expect((await person.get('/')).status).toBe(200);

      // Lost phone and password: the recovery code still works after the reset.
      const phoneless = new Person(t.server);
      expect((await phoneless.login(user.email, NEW_PASSWORD)).headers.location).toBe('/2fa/verify');
      const recovered = await phoneless.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[0] });
      expect(recovered.headers.location).toBe('/');
      expect((await phoneless.get('/')).status).toBe(200);
    });

    it('a person whose 2FA is pending sets it up after the new password', async () => {
      const user = await createUser(t, { email: 'pending@reset.test', organizer: 'Reset Org', twoFactor: true });
      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      expect((await setPassword(new Person(t.server), link, NEW_PASSWORD)).headers.location).toBe('/login');
      const person = new Person(t.server);
      expect((await person.login(user.email, NEW_PASSWORD)).headers.location).toBe('/2fa/setup');
      expect((await person.get('/')).headers.location).toBe('/2fa/setup');
    });

    it("ends every session of the person (signed in and half signed in), the resetting browser's own too", async () => {
      const { user, browser } = await activeMember('sessions@reset.test');
      const pending = new Person(t.server);
      expect((await pending.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
      const other = await createUser(t, { email: 'bystander@reset.test', organizer: 'Reset Org', twoFactor: false });
      const bystander = new Person(t.server);
      await bystander.login(other.email, DEFAULT_PASSWORD);
      expect((await browser.get('/')).status).toBe(200);
      expect(await sessionRows(t, user.id)).toBe(2);

      await askForLink(t, user.email, browser);
      const link = await resetLinkOf(t, user.email);
      const done = await setPassword(browser, link, NEW_PASSWORD);
      expect(done.headers.location).toBe('/login');
      expect(await sessionRows(t, user.id)).toBe(0);
      const login = await browser.get('/login');
      expect(login.status).toBe(200);
      expect(login.text).toContain('Your password was changed. Sign in with your new password.');
      expect((await browser.get('/')).headers.location).toMatch(/^\/login/);
      expect((await pending.get('/2fa/verify')).headers.location).toMatch(/^\/login/);
      // Someone else's session is untouched.
      expect((await bystander.get('/')).status).toBe(200);
    });

    it('lifts the password locks (the owner can sign in again) but not the code lock', async () => {
      const { user, browser, secret } = await activeMember('locks@reset.test');
      for (let i = 0; i < 10; i++) await new Person(t.server).login(user.email, `wrong password ${i}`);
      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).status).toBe(429);
      // The owner's own browser (its device cookie passes the untrusted lock) gets to the code step; five wrong codes lock it.
      const owner = new Person(t.server);
      owner.setCookie(`tixngo.device=${browser.cookie('tixngo.device')}`);
      expect((await owner.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
      for (let i = 0; i < 5; i++)
        await owner.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });
      expect(await codeLocked(t, user.id)).toBe(true);

      await askForLink(t, user.email);
      const link = await resetLinkOf(t, user.email);
      expect((await setPassword(new Person(t.server), link, NEW_PASSWORD)).headers.location).toBe('/login');
      const after = new Person(t.server);
      expect((await after.login(user.email, NEW_PASSWORD)).headers.location).toBe('/2fa/verify');
      expect(await codeLocked(t, user.id)).toBe(true);
      t.clock.advance(30_000);
      const refused = await after.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(refused.status).toBe(429);
    });
  });

  describe('the security email and the audit log', () => {
    it('emails the person that the password was reset (with "This wasn\'t me"), and records request and completion', async () => {
      const { user } = await activeMember('audit@reset.test', 'Audit Org');
      const { person: admin } = await adminOf(t, 'Audit Org', 'Ada Admin');
      const userPage = `/admin/users/${user.id}`;
      expect((await admin.get(userPage)).text).toMatch(/id="password-reset">None waiting</);

      await askForLink(t, user.email);
      const [requested] = await eventsOf(t, user.id, 'password.reset_requested');
      expect(requested).toMatchObject({ organizerId: user.organizerId, ip: expect.stringMatching(/127\.0\.0\.1/) });
      const token = await t
        .get(DataSource)
        .getRepository(OneTimeToken)
        .findOneByOrFail({ userId: user.id, purpose: 'password-reset' });
      const waiting = await admin.get(userPage);
      expect(waiting.text).toMatch(/id="password-reset">Waiting: sent [^<]+, works until [^<]+</);
      expect(waiting.text).toContain('Password reset link requested');

      const link = await resetLinkOf(t, user.email);
      expect((await setPassword(new Person(t.server), link, NEW_PASSWORD)).headers.location).toBe('/login');
      const [reset] = await eventsOf(t, user.id, 'password.reset');
      expect(reset.organizerId).toBe(user.organizerId);
      expect(JSON.parse(reset.detail!)).toEqual({ linkId: token.id });
      // No token, password or hash in any audit detail (SECURITY.md 28).
      const token64 = link.split('/').pop()!;
      for (const event of await t.get(DataSource).getRepository(AuditEvent).findBy({ userId: user.id }))
        expect(`${event.detail}`).not.toMatch(new RegExp(`${token64}|${NEW_PASSWORD}|\\$argon2`));

      const mail = await lastMailTo(t, user.email, /^Your password was changed$/);
      expect(mail.text).toContain('reset with a link emailed to this address, and every session was signed out');
      expect(linkIn(mail, '/not-me/')).toMatch(/^\/not-me\//);

      const after = await admin.get(userPage);
      expect(after.text).toMatch(/id="password-reset">None waiting</);
      expect(after.text).toContain('Password reset with an emailed link');
    });

    it('a password change from the account page still says "changed", not "reset"', async () => {
      const user = await createUser(t, { email: 'changer@reset.test', organizer: 'Reset Org', twoFactor: false });
      const person = new Person(t.server);
      await person.login(user.email, DEFAULT_PASSWORD);
      const change = await person.submit('/account', '/account/password', {
        currentPassword: DEFAULT_PASSWORD,
        newPassword: NEW_PASSWORD,
        confirmPassword: NEW_PASSWORD,
      });
      expect(change.status).toBe(303);
      const mail = await lastMailTo(t, user.email, /^Your password was changed$/);
      expect(mail.text).toContain('was just changed, and every other session was signed out');
      expect(mail.text).not.toContain('reset with a link');
    });
  });

  describe('limits, counted in the database', () => {
    it('per address: the 4th request within the hour is a 429, the same for an unknown address; an hour later it works again', async () => {
      const known = 'limit@count.test';
      const unknown = 'nope1@count.test';
      await createUser(t, { email: known, organizer: 'Reset Org', twoFactor: false });
      const answers: Record<string, number[]> = { [known]: [], [unknown]: [] };
      let lastKnown: request.Response | undefined;
      let lastUnknown: request.Response | undefined;
      for (let i = 0; i < 4; i++) {
        lastKnown = await askForLink(t, known);
        lastUnknown = await askForLink(t, unknown);
        answers[known].push(lastKnown.status);
        answers[unknown].push(lastUnknown.status);
      }
      expect(answers).toEqual({ [known]: [200, 200, 200, 429], [unknown]: [200, 200, 200, 429] });
      expect(lastKnown!.text).toContain('Too many reset requests');
      expect(lastKnown!.text).toContain('Try again later, in 60 minutes');
      expect(answerShape(lastUnknown!, unknown)).toEqual(answerShape(lastKnown!, known));
      expect(await mailsTo(t, known)).toHaveLength(3);

      t.clock.advance(60 * MINUTE);
      expect((await askForLink(t, known)).status).toBe(200);
      expect(await mailsTo(t, known)).toHaveLength(4);
    });
  });
});

describe('Forgot password: the per-client limit (default 10 an hour, IPv6 by /64)', () => {
  let c: TestApp;

  beforeAll(async () => {
    c = await createTestApp({ env: { TRUST_PROXY: '1' } });
  });
  afterAll(async () => c.close());

  async function askFrom(from: string, email: string) {
    const agent = request.agent(c.server);
    const form = await agent.get('/password/forgot').set('X-Forwarded-For', from);
    const answer = await agent
      .post('/password/forgot')
      .set('X-Forwarded-For', from)
      .type('form')
      .send({ email, _csrf: csrfFrom(form.text) })
      .redirects(0);
    await settled(c);
    return answer;
  }

  it('refuses the 11th request from one client across addresses, sends nothing for it; another client is not affected', async () => {
    const victim = await createUser(c, { email: 'victim@client.test', organizer: 'Client Org' });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await askFrom('203.0.113.7', `someone${i}@client.test`)).status);
    expect(statuses).toEqual(Array(10).fill(200));
    const refused = await askFrom('203.0.113.7', victim.email);
    expect(refused.status).toBe(429);
    expect(refused.text).toContain('Too many reset requests');
    expect(await mailsTo(c, victim.email)).toEqual([]);
    expect((await askFrom('198.51.100.20', victim.email)).status).toBe(200);
    expect(await mailsTo(c, victim.email)).toHaveLength(1);
  });

  it('counts IPv6 clients by their /64', async () => {
    for (let i = 1; i <= 10; i++)
      expect((await askFrom(`2001:db8:7:8::${i.toString(16)}`, `v6-${i}@client.test`)).status).toBe(200);
    expect((await askFrom('2001:db8:7:8:ffff::1', 'v6-last@client.test')).status).toBe(429);
    expect((await askFrom('2001:db8:7:9::1', 'v6-last@client.test')).status).toBe(200);
  });
});
