import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { Passkey } from '../../src/two-factor/passkeys/passkey.entity';
import { adminOf, hiddenFields, pressAndConfirm, signedIn } from '../utils/admin';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom, Person, recoveryCodesFrom } from '../utils/agent';
import { hasFactor } from '../utils/factors';
import { lastMailTo, linkIn } from '../utils/mail';
import { SoftAuthenticator } from '../utils/soft-authenticator';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const ORIGIN = 'http://localhost:3000';

/**
 * Issue 13 (first part): passkeys as a second factor, through HTTP with a software
 * authenticator (test/utils/soft-authenticator.ts, ES256). SECURITY.md 29: relying party and
 * origin from PUBLIC_URL only, challenges single use and server-side, a counter that goes
 * backwards refused and audited, a credential bound to its user.
 */
describe('passkeys (SECURITY.md 29)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const events = async (userId: string) =>
    (await t.get(DataSource).getRepository(AuditEvent).findBy({ userId })).map((e) => e.type);

  /** A member with an authenticator app, fully signed in (a fresh second factor). */
  async function signedInMember(organizer = 'Passkey Org') {
    const user = await createUser(t, { organizer, twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret } = await person.setUpTwoFactor(t.clock);
    return { user, person, secret };
  }

  /** The JSON answer of a ceremony's options route, posted with the page's CSRF token. */
  async function options(person: Person, route: string, page: string) {
    const token = csrfFrom((await person.get(page)).text);
    const answer = await person.agent.post(route).type('form').send({ _csrf: token }).redirects(0);
    return answer.body as { options?: never; confirmUrl?: string };
  }

  async function addPasskey(person: Person, authenticator: SoftAuthenticator, name = 'YubiKey 5') {
    const { options: creation } = await options(person, '/account/passkeys/options', '/account');
    const response = authenticator.register(creation!, ORIGIN);
    return person.post('/account/passkeys', { response: JSON.stringify(response), passkeyName: name }, '/account');
  }

  /** Password, then the passkey at the second step. */
  async function signInWithPasskey(
    email: string,
    authenticator: SoftAuthenticator,
    override?: Parameters<SoftAuthenticator['authenticate']>[2],
    origin = ORIGIN,
    anyCredential = false,
  ) {
    const person = new Person(t.server);
    await person.login(email, DEFAULT_PASSWORD);
    const { options: request } = await options(person, '/2fa/passkey/options', '/2fa/verify');
    // `anyCredential`: an authenticator that answers with a credential the page did not ask for.
    const asked = anyCredential ? { ...(request as unknown as object), allowCredentials: [] } : request;
    const response = authenticator.authenticate(asked as never, origin, override);
    const answer = await person.post('/2fa/passkey', { response: JSON.stringify(response) }, '/2fa/verify');
    return { person, answer, response };
  }

  it('adds a passkey on /account, names it, lists it, emails and audits it; then it signs in as the second factor', async () => {
    const { user, person } = await signedInMember();
    const authenticator = new SoftAuthenticator();
    const saved = await addPasskey(person, authenticator);
    expect(saved.headers.location).toBe('/account');
    const page = await person.get('/account');
    expect(page.text).toMatch(/<strong id="passkey-[0-9a-f-]+">YubiKey 5<\/strong>/);
    expect(page.text).toContain('not used yet');
    expect(await events(user.id)).toContain('passkey.added');
    expect((await lastMailTo(t, user.email)).subject).toBe('A passkey was added to your account');

    const { person: later, answer } = await signInWithPasskey(user.email, authenticator);
    expect(answer.headers.location).toBe('/');
    expect((await later.get('/')).text).toContain('Signed in as');
    const succeeded = await t
      .get(DataSource)
      .getRepository(AuditEvent)
      .findBy({ userId: user.id, type: 'login.succeeded' });
    expect(succeeded.map((event) => JSON.parse(event.detail!).method)).toContain('passkey');
    expect((await t.get(DataSource).getRepository(Passkey).findOneByOrFail({ userId: user.id })).counter).toBe(1);
  });

  it('shows "Use a passkey" on /2fa/verify only to a person who has one', async () => {
    const { user } = await signedInMember();
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    expect((await person.get('/2fa/verify')).text).not.toContain('Use a passkey');
  });

  it('SECURITY.md 29: refuses a replayed challenge, an answer for another origin, another user’s credential, and a counter that goes backwards (audited)', async () => {
    const { user, person } = await signedInMember();
    const authenticator = new SoftAuthenticator();
    await addPasskey(person, authenticator);
    const { person: first, response } = await signInWithPasskey(user.email, authenticator);
    expect((await first.get('/')).status).toBe(200);

    // The same answer again, in a new pending session: its challenge was used and is not this session's.
    const replayer = new Person(t.server);
    await replayer.login(user.email, DEFAULT_PASSWORD);
    await options(replayer, '/2fa/passkey/options', '/2fa/verify');
    const replay = await replayer.post('/2fa/passkey', { response: JSON.stringify(response) }, '/2fa/verify');
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('There is a problem');

    // The origin is PUBLIC_URL's only.
    const phished = await signInWithPasskey(user.email, authenticator, undefined, 'https://evil.test');
    expect(phished.answer.status).toBe(401);

    // Another user's credential.
    const other = await signedInMember();
    const otherKey = new SoftAuthenticator();
    await addPasskey(other.person, otherKey, 'Other key');
    const mixed = await signInWithPasskey(user.email, otherKey, undefined, ORIGIN, true);
    expect(mixed.answer.status).toBe(401);
    expect(mixed.answer.text).toContain('not registered to your account');

    // A cloned authenticator: the counter goes back to 1 after 2 uses.
    await signInWithPasskey(user.email, authenticator);
    const cloned = await signInWithPasskey(user.email, authenticator, { counter: 1 });
    expect(cloned.answer.status).toBe(401);
    expect(cloned.answer.text).toContain('counter went backwards');
    expect(await events(user.id)).toContain('passkey.counter_rejected');
  });

  it('counts failed passkeys toward the code lock (5 → locked, 429)', async () => {
    const { user, person } = await signedInMember();
    const authenticator = new SoftAuthenticator();
    await addPasskey(person, authenticator);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await signInWithPasskey(user.email, authenticator, undefined, 'https://evil.test')).answer.status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    expect((await signInWithPasskey(user.email, authenticator)).answer.status).toBe(429);
  });

  it('removes a passkey after a confirmation step, and refuses to remove the last factor while 2FA is required', async () => {
    const { user, person } = await signedInMember();
    await addPasskey(person, new SoftAuthenticator(), 'Old phone');
    const passkey = await t.get(DataSource).getRepository(Passkey).findOneByOrFail({ userId: user.id });
    // The Remove form's own hidden fields, as a browser sends them (its token is the page's, inside the list too).
    const account = await person.get('/account');
    const step = await person.agent
      .post(`/account/passkeys/${passkey.id}/remove`)
      .type('form')
      .send(hiddenFields(account.text, `/account/passkeys/${passkey.id}/remove`))
      .redirects(0);
    expect(step.status).toBe(200);
    expect(step.text).toContain('Remove the passkey “Old phone”?');
    const done = await person.post(`/account/passkeys/${passkey.id}/remove`, { confirm: 'yes' }, '/account');
    expect(done.headers.location).toBe('/account');
    expect(await t.get(DataSource).getRepository(Passkey).countBy({ userId: user.id })).toBe(0);
    expect(await events(user.id)).toContain('passkey.removed');

    // A person whose only factor is a passkey (2FA off, then the passkey) and whom 2FA is then required of.
    const solo = await createUser(t, { organizer: 'Passkey Org', twoFactor: false });
    const soloBrowser = new Person(t.server);
    await soloBrowser.login(solo.email, DEFAULT_PASSWORD);
    const first = await addPasskey(soloBrowser, new SoftAuthenticator(), 'Only key');
    // Recovery codes follow the first factor, whichever kind it is.
    expect(first.headers.location).toBe('/2fa/recovery-codes');
    expect(recoveryCodesFrom((await soloBrowser.get('/2fa/recovery-codes')).text)).toHaveLength(10);
    expect(await hasFactor(t, solo.id)).toBe(true);
    await t.get(DataSource).getRepository('User').update(solo.id, { twoFactorRequired: true });
    const only = await t.get(DataSource).getRepository(Passkey).findOneByOrFail({ userId: solo.id });
    const refused = await soloBrowser.post(`/account/passkeys/${only.id}/remove`, { confirm: 'yes' }, '/account');
    expect(refused.headers.location).toBe('/account');
    expect((await soloBrowser.get('/account')).text).toContain('This is your only second factor');
    expect(await t.get(DataSource).getRepository(Passkey).countBy({ userId: solo.id })).toBe(1);
  });

  it('asks "Confirm it is you" first when the last code is more than 5 minutes old', async () => {
    const { person, secret } = await signedInMember();
    t.clock.advance(6 * 60_000);
    const answer = await options(person, '/account/passkeys/options', '/account');
    expect(answer).toEqual({ confirmUrl: '/account/confirm?continue=passkey' });
    const confirmed = await person.submit('/account/confirm?continue=passkey', '/account/confirm', {
      code: codeAt(secret, t.clock),
      continue: 'passkey',
    });
    expect(confirmed.headers.location).toBe('/account');
    expect((await options(person, '/account/passkeys/options', '/account')).options).toBeDefined();
  });

  it('"Confirm it is you" takes a passkey too (a person whose only factor is a passkey)', async () => {
    const solo = await createUser(t, { organizer: 'Passkey Org', twoFactor: false });
    const browser = new Person(t.server);
    await browser.login(solo.email, DEFAULT_PASSWORD);
    const authenticator = new SoftAuthenticator();
    await addPasskey(browser, authenticator, 'Only key');
    t.clock.advance(6 * 60_000);
    expect(await options(browser, '/account/passkeys/options', '/account')).toEqual({
      confirmUrl: '/account/confirm?continue=passkey',
    });
    const page = await browser.get('/account/confirm?continue=passkey');
    expect(page.text).toContain('Use a passkey');
    // No authenticator app: the page does not ask for its code.
    expect(page.text).not.toContain('authenticator app');
    expect(page.text).not.toContain('name="code"');
    const { options: request } = await options(
      browser,
      '/account/confirm/passkey/options',
      '/account/confirm?continue=passkey',
    );
    const response = JSON.stringify(authenticator.authenticate(request!, ORIGIN));
    const confirmed = await browser.post(
      '/account/confirm/passkey',
      { response, continue: 'passkey' },
      '/account/confirm?continue=passkey',
    );
    expect(confirmed.headers.location).toBe('/account');
    expect((await options(browser, '/account/passkeys/options', '/account')).options).toBeDefined();
  });

  it('a name is required, and Resend QR removes the passkeys with the rest', async () => {
    const { user, person } = await signedInMember('Reset Passkey Org');
    const unnamed = await addPasskey(person, new SoftAuthenticator(), '   ');
    expect(unnamed.status).toBe(400);
    expect(unnamed.text).toContain('Give the passkey a name');
    await addPasskey(person, new SoftAuthenticator(), 'Laptop');
    const { person: admin } = await adminOf(t, 'Reset Passkey Org', 'Rita Reset');
    await pressAndConfirm(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/resend-qr`);
    expect(await t.get(DataSource).getRepository(Passkey).countBy({ userId: user.id })).toBe(0);
    expect(await hasFactor(t, user.id)).toBe(false);
  });

  it('shows the person’s factors on the admin’s user page, in the list and the CSV; another organizer’s admin gets a 404', async () => {
    const { person: admin } = await adminOf(t, 'Factors Org', 'Fay Factors');
    const { user, person } = await signedInMember('Factors Org');
    await addPasskey(person, new SoftAuthenticator(), 'Desk key');
    const page = await admin.get(`/admin/users/${user.id}`);
    expect(page.text).toMatch(/<li>Authenticator app, since /);
    expect(page.text).toContain('Passkey “Desk key”');
    expect(page.text).toContain('10 recovery codes left');
    expect((await admin.get('/admin/users')).text).toContain('Authenticator app, Passkey');
    const csv = (await admin.get('/admin/users/export.csv')).text;
    expect(csv.split('\r\n').find((line) => line.includes(user.email))).toMatch(/"?Authenticator app, Passkey"?$/);
    const { person: outsider } = await adminOf(t, 'Other Factors Org', 'Oscar Outside');
    expect((await outsider.get(`/admin/users/${user.id}`)).status).toBe(404);
  });

  describe('Use a passkey instead (the setup page)', () => {
    async function passkeyAtSetup(person: Person, authenticator: SoftAuthenticator, name = 'First key') {
      const { options: creation } = await options(person, '/2fa/setup/passkey/options', '/2fa/setup');
      const response = authenticator.register(creation!, ORIGIN);
      return person.post('/2fa/setup/passkey', { response: JSON.stringify(response), passkeyName: name }, '/2fa/setup');
    }

    it('sets up a passkey as the first factor at the first sign-in, with recovery codes; later sign-ins use it', async () => {
      const user = await createUser(t, { organizer: 'Setup Org', twoFactor: true });
      const person = new Person(t.server);
      expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/setup');
      expect((await person.get('/2fa/setup')).text).toContain('Use a passkey instead');
      const authenticator = new SoftAuthenticator();
      const saved = await passkeyAtSetup(person, authenticator);
      expect(saved.headers.location).toBe('/2fa/recovery-codes');
      expect(recoveryCodesFrom((await person.get('/2fa/recovery-codes')).text)).toHaveLength(10);
      expect(await events(user.id)).toEqual(
        expect.arrayContaining(['passkey.added', 'two_factor.setup', 'login.succeeded']),
      );
      expect((await signInWithPasskey(user.email, authenticator)).answer.headers.location).toBe('/');
    });

    it('works with a Resend QR link, which it spends; without the link the option is refused', async () => {
      const { person: admin } = await adminOf(t, 'Setup Reset Org', 'Rob Reset');
      const { user } = await signedInMember('Setup Reset Org');
      await pressAndConfirm(admin, `/admin/users/${user.id}`, `/admin/users/${user.id}/resend-qr`);
      const noLink = new Person(t.server);
      await noLink.login(user.email, DEFAULT_PASSWORD);
      expect(await options(noLink, '/2fa/setup/passkey/options', '/2fa/setup')).toEqual({
        error: expect.stringContaining('link in the email'),
      });

      const link = linkIn(await lastMailTo(t, user.email, /authenticator app again/), '/2fa/reset/');
      const person = new Person(t.server);
      expect((await person.submit(link, link, { password: DEFAULT_PASSWORD })).headers.location).toBe('/2fa/setup');
      expect((await passkeyAtSetup(person, new SoftAuthenticator(), 'New phone')).headers.location).toBe(
        '/2fa/recovery-codes',
      );
      expect((await new Person(t.server).get(link)).status).toBe(410);
      expect((await admin.get(`/admin/users/${user.id}`)).text).toContain('Passkey “New phone”');
    });
  });

  describe('Sign in with a passkey (alone)', () => {
    async function passkeyOnly(authenticator: SoftAuthenticator, next = '') {
      const visitor = new Person(t.server);
      const { options: request } = await options(visitor, '/login/passkey/options', '/login');
      const response = authenticator.authenticate(request!, ORIGIN);
      const answer = await visitor.post('/login/passkey', { response: JSON.stringify(response), next }, '/login');
      return { visitor, answer };
    }

    it('signs its owner in fully with user verification, to the page asked for; audited as a passkey alone', async () => {
      const { user, person } = await signedInMember('Alone Org');
      const authenticator = new SoftAuthenticator();
      await addPasskey(person, authenticator);
      const { visitor, answer } = await passkeyOnly(authenticator, '/account');
      expect(answer.headers.location).toBe('/account');
      expect((await visitor.get('/account')).status).toBe(200);
      const succeeded = await t
        .get(DataSource)
        .getRepository(AuditEvent)
        .findBy({ userId: user.id, type: 'login.succeeded' });
      expect(succeeded.map((event) => JSON.parse(event.detail!).method)).toContain('passkey-only');
    });

    it('SECURITY.md 29: refuses a passkey without user verification, an unknown one, and a replayed answer', async () => {
      const { person } = await signedInMember('Alone Org');
      const withoutVerification = new SoftAuthenticator({ userVerification: false });
      await addPasskey(person, withoutVerification, 'Plain key');
      const plain = await passkeyOnly(withoutVerification);
      expect(plain.answer.status).toBe(401);
      expect(plain.answer.text).toContain('did not verify that it is you');
      expect(plain.answer.text).toContain('Sign in with a passkey');

      const stranger = new SoftAuthenticator();
      stranger.register(
        {
          challenge: 'x',
          rp: { id: 'localhost', name: 'x' },
          user: { id: 'eA', name: 'x', displayName: 'x' },
          pubKeyCredParams: [],
        } as never,
        ORIGIN,
      );
      expect((await passkeyOnly(stranger)).answer.status).toBe(401);

      const good = new SoftAuthenticator();
      await addPasskey(person, good, 'Good key');
      const visitor = new Person(t.server);
      const { options: request } = await options(visitor, '/login/passkey/options', '/login');
      const response = JSON.stringify(good.authenticate(request!, ORIGIN));
      expect((await visitor.post('/login/passkey', { response }, '/login')).headers.location).toBe('/');
      const again = new Person(t.server);
      await options(again, '/login/passkey/options', '/login');
      expect((await again.post('/login/passkey', { response }, '/login')).status).toBe(401);
    });

    it('is refused once the organizer turns "Allow sign-in with a passkey alone" off; the second step still works', async () => {
      const { person: admin } = await adminOf(t, 'Switch Org', 'Sue Switch');
      const { user, person } = await signedInMember('Switch Org');
      const authenticator = new SoftAuthenticator();
      await addPasskey(person, authenticator);
      expect((await admin.get('/admin/organizer')).text).toContain('Allow sign-in with a passkey alone');
      const saved = await admin.post('/admin/organizer/passkeys', {}, '/admin/organizer');
      expect(saved.headers.location).toBe('/admin/organizer');
      const refused = await passkeyOnly(authenticator);
      expect(refused.answer.status).toBe(403);
      expect(refused.answer.text).toContain('does not allow signing in with a passkey alone');
      expect((await signInWithPasskey(user.email, authenticator)).answer.headers.location).toBe('/');
      await admin.post('/admin/organizer/passkeys', { allowPasskeySignIn: 'on' }, '/admin/organizer');
      expect((await passkeyOnly(authenticator)).answer.headers.location).toBe('/');
    });
  });

  describe('Require a passkey for admins', () => {
    const DAY = 24 * 60 * 60_000;
    const reload = (id: string) => t.get(DataSource).getRepository(User).findOneByOrFail({ id });

    it('gives admins without a passkey a deadline and a banner, then only their account page until they add one', async () => {
      const { admin: owner, person: ownerBrowser } = await adminOf(t, 'Strict Org', 'Olga Owner');
      const other = await createUser(t, {
        organizer: 'Strict Org',
        role: 'admin',
        twoFactor: false,
        name: 'Ada Other',
      });
      const member = await createUser(t, { organizer: 'Strict Org', twoFactor: false });
      const saved = await ownerBrowser.post(
        '/admin/organizer/passkeys',
        { allowPasskeySignIn: 'on', requireAdminPasskey: 'on', adminPasskeyGraceDays: '2' },
        '/admin/organizer',
      );
      expect(saved.headers.location).toBe('/admin/organizer');
      const deadline = t.clock.nowMs() + 2 * DAY;
      expect((await reload(other.id)).passkeyDeadline?.getTime()).toBe(deadline);
      expect((await reload(owner.id)).passkeyDeadline?.getTime()).toBe(deadline);
      expect((await reload(member.id)).passkeyDeadline).toBeNull();
      expect((await ownerBrowser.get('/admin/users')).text).toContain('2 days left to add one');
      // An admin created now gets the same rule.
      const newcomer = await createUser(t, { organizer: 'Strict Org', role: 'admin', twoFactor: false });
      expect((await reload(newcomer.id)).passkeyDeadline?.getTime()).toBe(deadline);

      t.clock.advance(2 * DAY + 60_000);
      const late = await signedIn(t, await reload(other.id));
      const sent = await late.get('/admin/users');
      expect(sent.headers.location).toBe('/account');
      expect((await late.get('/account')).text).toContain('Your organizer requires a passkey for admins');
      const first = await addPasskey(late, new SoftAuthenticator(), 'Admin key');
      expect(first.headers.location).toBe('/2fa/recovery-codes');
      expect((await late.get('/admin/users')).status).toBe(200);
      // A member is not concerned.
      expect((await (await signedIn(t, member)).get('/')).status).toBe(200);
    });

    it('turning it off removes the deadlines; a shorter grace period brings them forward, a longer one never pushes them back', async () => {
      const { admin, person } = await adminOf(t, 'Grace Org', 'Gil Grace');
      const save = (on: boolean, days: string) =>
        person.post(
          '/admin/organizer/passkeys',
          { allowPasskeySignIn: 'on', ...(on ? { requireAdminPasskey: 'on' } : {}), adminPasskeyGraceDays: days },
          '/admin/organizer',
        );
      await save(true, '10');
      const first = (await reload(admin.id)).passkeyDeadline!.getTime();
      await save(true, '20');
      expect((await reload(admin.id)).passkeyDeadline!.getTime()).toBe(first);
      await save(true, '3');
      expect((await reload(admin.id)).passkeyDeadline!.getTime()).toBe(t.clock.nowMs() + 3 * DAY);
      await save(false, '3');
      expect((await reload(admin.id)).passkeyDeadline).toBeNull();
      const refused = await person.post(
        '/admin/organizer/passkeys',
        { requireAdminPasskey: 'on', adminPasskeyGraceDays: '99' },
        '/admin/organizer',
      );
      expect(refused.headers.location).toBe('/admin/organizer');
      expect((await person.get('/admin/organizer')).text).toContain('Passkey settings not saved');
    });
  });
});
