import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { PasswordHasher } from '../../src/users/password-hasher';
import { User } from '../../src/users/user.entity';
import { hiddenFields, wrongCode } from '../utils/admin';
import { codeAt, csrfFrom, Person } from '../utils/agent';
import { mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const MINUTE = 60_000;

/**
 * SECURITY.md 3, 24, 26: every attempt is reserved before its secret is checked (no more
 * than the limit are ever checked, however many arrive at once); the owner's own browser
 * (a device cookie) is not locked by someone guessing elsewhere; one client is limited
 * across accounts; Unlock account lifts every lock.
 */
describe('attempt limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** How many passwords were checked against `user`'s real hash since the call. */
  function passwordChecks(app: TestApp, user: User): { count(): number; restore(): void } {
    const spy = jest.spyOn(app.get(PasswordHasher), 'verify');
    return {
      count: () => spy.mock.calls.filter(([hash]) => hash === user.passwordHash).length,
      restore: () => spy.mockRestore(),
    };
  }

  const events = (app: TestApp, userId: string, type: string) =>
    app
      .get(DataSource)
      .getRepository(AuditEvent)
      .countBy({ userId, type: type as never });

  /** `n` browsers, each with the login page open (its CSRF token). */
  async function browsersAtLogin(app: TestApp, n: number): Promise<{ person: Person; csrf: string }[]> {
    return Promise.all(
      Array.from({ length: n }, async () => {
        const person = new Person(app.server);
        const page = await person.agent.get('/login');
        return { person, csrf: csrfFrom(page.text) };
      }),
    );
  }

  async function logOut(person: Person): Promise<void> {
    const res = await person.post('/logout', {}, '/');
    expect(res.headers.location).toBe('/login?reason=signed-out');
  }

  describe('passwords sent at the same moment', () => {
    it('checks at most 10 of 40 (39 wrong, then the right one), refuses the right one, and sends one lock email', async () => {
      const user = await createUser(t, { twoFactor: false });
      const browsers = await browsersAtLogin(t, 40);
      const checks = passwordChecks(t, user);
      const responses = await Promise.all(
        browsers.map(({ person, csrf }, i) =>
          person.agent
            .post('/login')
            .type('form')
            .send({
              email: user.email,
              password: i === 39 ? DEFAULT_PASSWORD : `wrong password number ${i}`,
              _csrf: csrf,
            })
            .redirects(0),
        ),
      );
      const checked = checks.count();
      checks.restore();

      expect(checked).toBeLessThanOrEqual(10);
      expect(responses[39].status).toBe(429);
      expect(responses.filter((res) => res.status === 303)).toHaveLength(0);
      expect(responses.filter((res) => res.status === 401).length).toBeLessThanOrEqual(9);
      expect(await events(t, user.id, 'login.failed')).toBe(checked);
      expect(await events(t, user.id, 'login.locked')).toBe(1);
      expect((await mailsTo(t, user.email)).filter((mail) => /locked/i.test(mail.subject))).toHaveLength(1);
      console.log(
        `40 passwords at once: ${checked} checked, statuses ${JSON.stringify(countBy(responses.map((res) => res.status)))}`,
      );
    });

    it('checks at most 5 of 20 wrong codes sent at once, then refuses the right code', async () => {
      const user = await createUser(t, { twoFactor: true });
      const setup = new Person(t.server);
      await setup.login(user.email, DEFAULT_PASSWORD);
      const { secret } = await setup.setUpTwoFactor(t.clock);
      t.clock.advance(MINUTE);

      const pending: { person: Person; csrf: string }[] = [];
      for (let i = 0; i < 21; i++) {
        const person = new Person(t.server);
        await person.login(user.email, DEFAULT_PASSWORD);
        pending.push({ person, csrf: csrfFrom((await person.agent.get('/2fa/verify')).text) });
      }
      const wrong = wrongCode(secret, t.clock);
      const responses = await Promise.all(
        pending.map(({ person, csrf }, i) =>
          person.agent
            .post('/2fa/verify')
            .type('form')
            .send({ code: i === 20 ? codeAt(secret, t.clock) : wrong, _csrf: csrf })
            .redirects(0),
        ),
      );
      expect(await events(t, user.id, 'code.failed')).toBeLessThanOrEqual(5);
      expect(await events(t, user.id, 'code.locked')).toBe(1);
      expect(responses[20].status).toBe(429);
      expect(responses.filter((res) => res.status === 303)).toHaveLength(0);
    });
  });

  describe('device cookies', () => {
    it('someone locking the untrusted pool does not lock the owner’s own browser', async () => {
      const user = await createUser(t, { twoFactor: false });
      const owner = new Person(t.server);
      expect(String((await owner.login(user.email, DEFAULT_PASSWORD)).headers['set-cookie'])).toMatch(
        /tixngo\.device=.+HttpOnly/i,
      );
      await logOut(owner);

      const attacker = new Person(t.server);
      for (let i = 0; i < 9; i++) expect((await attacker.login(user.email, `guess number ${i}`)).status).toBe(401);
      expect((await attacker.login(user.email, 'guess number 9')).status).toBe(429);
      expect((await attacker.login(user.email, DEFAULT_PASSWORD)).status).toBe(429);
      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).status).toBe(429);

      const back = await owner.login(user.email, DEFAULT_PASSWORD);
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe('/');
      const failed = await t
        .get(DataSource)
        .getRepository(AuditEvent)
        .findBy({ userId: user.id, type: 'login.failed' });
      expect(failed.map((event) => JSON.parse(event.detail!).pool)).toEqual(new Array(10).fill('untrusted'));
    });

    it('counts the owner’s browser on its own: its lock leaves other browsers alone', async () => {
      const user = await createUser(t, { twoFactor: false });
      const owner = new Person(t.server);
      await owner.login(user.email, DEFAULT_PASSWORD);
      await logOut(owner);
      for (let i = 0; i < 9; i++) expect((await owner.login(user.email, `typo number ${i}`)).status).toBe(401);
      expect((await owner.login(user.email, 'typo number 9')).status).toBe(429);
      expect((await owner.login(user.email, DEFAULT_PASSWORD)).status).toBe(429);
      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    });

    it('ignores a forged cookie, another account’s cookie and an expired one (untrusted pool)', async () => {
      const user = await createUser(t, { twoFactor: false });
      const other = await createUser(t, { twoFactor: false });
      const otherBrowser = new Person(t.server);
      await otherBrowser.login(other.email, DEFAULT_PASSWORD);
      const valid = deviceCookieOf(otherBrowser)!;
      const [userId, issuedAt, deviceId, mac] = valid.split('.');
      const forgedForUser = [user.id, issuedAt, deviceId, mac].join('.');
      const flipped = [userId, issuedAt, deviceId, mac.slice(0, -1) + (mac.endsWith('A') ? 'B' : 'A')].join('.');

      const attacker = new Person(t.server);
      for (let i = 0; i < 10; i++) await attacker.login(user.email, `guess number ${i}`);
      for (const cookie of [forgedForUser, flipped, valid]) {
        const res = await withDeviceCookie(cookie).login(user.email, DEFAULT_PASSWORD);
        expect(res.status).toBe(429);
      }

      // A cookie older than DEVICE_COOKIE_DAYS (180) is not trusted anymore.
      const owner = new Person(t.server);
      await owner.login(other.email, DEFAULT_PASSWORD);
      await logOut(owner);
      t.clock.advance(181 * 24 * 60 * MINUTE);
      for (let i = 0; i < 10; i++) await new Person(t.server).login(other.email, `guess number ${i}`);
      expect((await owner.login(other.email, DEFAULT_PASSWORD)).status).toBe(429);
    });

    function withDeviceCookie(value: string): Person {
      const person = new Person(t.server);
      person.setCookie(`tixngo.device=${value}; Path=/`);
      return person;
    }
  });

  describe('Unlock account', () => {
    it('lifts a password lock and a code lock, is audited and emailed', async () => {
      const admin = await createUser(t, { role: 'admin', twoFactor: false, organizer: 'Unlock Org' });
      const adminBrowser = new Person(t.server);
      await adminBrowser.login(admin.email, DEFAULT_PASSWORD);
      const member = await createUser(t, { twoFactor: true, organizer: 'Unlock Org' });
      const setup = new Person(t.server);
      await setup.login(member.email, DEFAULT_PASSWORD);
      const { secret } = await setup.setUpTwoFactor(t.clock);
      t.clock.advance(MINUTE);

      const guesser = new Person(t.server);
      for (let i = 0; i < 10; i++) await guesser.login(member.email, `guess number ${i}`);
      const userPage = `/admin/users/${member.id}`;
      const page = await adminBrowser.get(userPage);
      expect(page.text).toContain('Sign-in locked until');
      expect(page.text).toContain('Unlock account');

      const confirm = await adminBrowser.post(`${userPage}/unlock`, {}, userPage);
      expect(confirm.status).toBe(200);
      expect(confirm.text).toContain('after wrong passwords');
      const done = await adminBrowser.agent
        .post(`${userPage}/unlock`)
        .type('form')
        .send(hiddenFields(confirm.text, `${userPage}/unlock`))
        .redirects(0);
      expect(done.headers.location).toBe(userPage);

      const fresh = new Person(t.server);
      expect((await fresh.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
      for (let i = 0; i < 5; i++)
        await fresh.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });
      expect((await adminBrowser.get(userPage)).text).toMatch(/id="two-factor-state">Locked</);
      const again = await adminBrowser.post(`${userPage}/unlock`, {}, userPage);
      await adminBrowser.agent
        .post(`${userPage}/unlock`)
        .type('form')
        .send(hiddenFields(again.text, `${userPage}/unlock`))
        .redirects(0);
      expect((await adminBrowser.get(userPage)).text).toMatch(/id="two-factor-state">Active</);
      const verified = await fresh.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(verified.headers.location).toBe('/');

      const unlocks = await t
        .get(DataSource)
        .getRepository(AuditEvent)
        .find({ where: { userId: member.id, type: 'account.unlocked' }, order: { createdAt: 'ASC', id: 'ASC' } });
      expect(unlocks.map((event) => JSON.parse(event.detail!).lifted)).toEqual([['password'], ['code']]);
      expect(unlocks.every((event) => event.actorId === admin.id)).toBe(true);
      expect(
        (await mailsTo(t, member.email)).filter((mail) => mail.subject === 'Your account was unlocked'),
      ).toHaveLength(2);

      const nothing = await adminBrowser.post(`${userPage}/unlock`, {}, userPage);
      expect(nothing.headers.location).toBe(userPage);
      expect((await adminBrowser.get(userPage)).text).toContain('nothing to unlock');
    });
  });

  describe('per client address', () => {
    let c: TestApp;

    beforeAll(async () => {
      // The default limit (20 per 15 minutes), behind one proxy: the client is X-Forwarded-For.
      c = await createTestApp({ env: { TRUST_PROXY: '1', CLIENT_MAX_FAILURES: '' } });
    });
    afterAll(async () => c.close());

    async function attempt(from: string, email: string, password = 'not the password at all') {
      const agent = request.agent(c.server);
      const page = await agent.get('/login').set('X-Forwarded-For', from);
      return agent
        .post('/login')
        .set('X-Forwarded-For', from)
        .type('form')
        .send({ email, password, _csrf: csrfFrom(page.text) })
        .redirects(0);
    }

    it('refuses the 20th wrong sign-in on from one client across 25 emails, with the same page for every email', async () => {
      const real: User[] = [];
      for (let i = 0; i < 12; i++) real.push(await createUser(c, { twoFactor: false }));
      const emails = [
        ...real.map((user) => user.email),
        ...Array.from({ length: 13 }, (_, i) => `nobody${i}@nowhere.test`),
      ];
      const statuses: number[] = [];
      const refusals: string[] = [];
      for (const email of emails) {
        const res = await attempt('203.0.113.5', email);
        statuses.push(res.status);
        if (res.status === 429)
          refusals.push(res.text.replace(/name="_csrf" value="[^"]+"/g, '').replaceAll(email, 'EMAIL'));
      }
      expect(statuses.slice(0, 19)).toEqual(new Array(19).fill(401));
      expect(statuses.slice(19)).toEqual(new Array(6).fill(429));
      expect(new Set(refusals).size).toBe(1);
      expect(refusals[0]).toContain('Too many failed sign-ins from your network');
      // The right password from that client waits too; another client is not affected.
      expect((await attempt('203.0.113.5', real[0].email, DEFAULT_PASSWORD)).status).toBe(429);
      expect((await attempt('203.0.113.6', real[0].email, DEFAULT_PASSWORD)).headers.location).toBe('/');
      c.clock.advance(15 * MINUTE + 1000);
      expect((await attempt('203.0.113.5', real[1].email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    });

    it('counts IPv6 addresses by their /64', async () => {
      for (let i = 1; i <= 20; i++) await attempt(`2001:db8:77:1::${i.toString(16)}`, `someone${i}@nowhere.test`);
      expect((await attempt('2001:db8:77:1:ffff::1', 'someone@nowhere.test')).status).toBe(429);
      expect((await attempt('2001:db8:77:2::1', 'someone@nowhere.test')).status).toBe(401);
    });

    it('does not stop a browser that signed in to the account before', async () => {
      const user = await createUser(c, { twoFactor: false });
      const owner = request.agent(c.server);
      const from = '198.51.100.9';
      const page = await owner.get('/login').set('X-Forwarded-For', from);
      await owner
        .post('/login')
        .set('X-Forwarded-For', from)
        .type('form')
        .send({ email: user.email, password: DEFAULT_PASSWORD, _csrf: csrfFrom(page.text) });
      const home = await owner.get('/').set('X-Forwarded-For', from);
      await owner
        .post('/logout')
        .set('X-Forwarded-For', from)
        .type('form')
        .send({ _csrf: csrfFrom(home.text) });
      for (let i = 0; i < 20; i++) await attempt(from, `stranger${i}@nowhere.test`);
      expect((await attempt(from, user.email, DEFAULT_PASSWORD)).status).toBe(429);
      const again = await owner.get('/login').set('X-Forwarded-For', from);
      const res = await owner
        .post('/login')
        .set('X-Forwarded-For', from)
        .type('form')
        .send({ email: user.email, password: DEFAULT_PASSWORD, _csrf: csrfFrom(again.text) })
        .redirects(0);
      expect(res.headers.location).toBe('/');
    });
  });
});

function deviceCookieOf(person: Person): string | undefined {
  return person.cookie('tixngo.device');
}

function countBy(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
