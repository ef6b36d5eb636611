import request from 'supertest';
import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { SessionRecord } from '../../src/auth/session.entity';
import { codeAt, csrfFrom, Person } from '../utils/agent';
import { codeFailures, codeLocked } from '../utils/attempts';
import { PasswordHasher } from '../../src/users/password-hasher';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const MINUTE = 60_000;

describe('sign-in security rules (journeys 3, 6, 7)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** A member with 2FA set up; returns their secret and a signed-out person. */
  async function memberWithTwoFactor() {
    const user = await createUser(t, { twoFactor: true });
    const setup = new Person(t.server);
    await setup.login(user.email, DEFAULT_PASSWORD);
    const { secret, recoveryCodes } = await setup.setUpTwoFactor(t.clock);
    t.clock.advance(60_000); // past the setup code's step (spent) and its neighbour
    return { user, secret, recoveryCodes, person: new Person(t.server) };
  }

  const sessionRows = () => t.get(DataSource).getRepository(SessionRecord).count();

  describe('later logins', () => {
    it('asks only for the code, then goes to the page first asked for', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      const first = await person.get('/admin/users?page=2');
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe('/login?next=%2Fadmin%2Fusers%3Fpage%3D2');

      const login = await person.login(user.email, DEFAULT_PASSWORD, '/some/page?x=1');
      expect(login.headers.location).toBe('/2fa/verify');
      const setup = await person.get('/2fa/setup');
      expect(setup.headers.location).toBe('/2fa/verify');

      const verify = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(verify.status).toBe(303);
      expect(verify.headers.location).toBe('/some/page?x=1');
    });

    it('never redirects off-site after sign-in', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD, 'https://evil.example/');
      const verify = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(verify.headers.location).toBe('/');
    });

    it('accepts a pasted code with spaces and the neighbouring steps only', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD);
      const tooOld = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock, -2) });
      expect(tooOld.status).toBe(401);
      const previous = codeAt(secret, t.clock, -1);
      const ok = await person.submit('/2fa/verify', '/2fa/verify', {
        code: `${previous.slice(0, 3)} ${previous.slice(3)}`,
      });
      expect(ok.headers.location).toBe('/');
    });

    it('refuses a replayed code, and accepts the next step', async () => {
      const { user, secret } = await memberWithTwoFactor();
      const code = codeAt(secret, t.clock);
      const first = new Person(t.server);
      await first.login(user.email, DEFAULT_PASSWORD);
      expect((await first.submit('/2fa/verify', '/2fa/verify', { code })).headers.location).toBe('/');

      const second = new Person(t.server);
      await second.login(user.email, DEFAULT_PASSWORD);
      const replay = await second.submit('/2fa/verify', '/2fa/verify', { code });
      expect(replay.status).toBe(401);
      expect(replay.text).toContain('already used');
      const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
      expect(events).toContain('code.replayed');

      t.clock.advance(30_000);
      const next = await second.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(next.headers.location).toBe('/');
    });

    it('says the phone clock is off for a code 3 steps old, and still refuses it', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD);
      const old = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock, -3) });
      expect(old.status).toBe(401);
      expect(old.text).toContain('clock seems 90 seconds behind');
      const random = await person.submit('/2fa/verify', '/2fa/verify', {
        code: codeAt(secret, t.clock) === '000000' ? '111111' : '000000',
      });
      expect(random.text).not.toContain('clock seems');
    });
  });

  describe('lockout', () => {
    it('locks 2FA after 5 wrong codes, refuses a correct code while locked, and releases after 15 minutes', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD);
      const wrong = codeAt(secret, t.clock, 5);
      for (let i = 0; i < 4; i++)
        expect((await person.submit('/2fa/verify', '/2fa/verify', { code: wrong })).status).toBe(401);
      const fifth = await person.submit('/2fa/verify', '/2fa/verify', { code: wrong });
      expect(fifth.status).toBe(429);
      expect(fifth.text).toContain('Too many wrong codes');

      expect(await codeLocked(t, user.id)).toBe(true);

      const correctWhileLocked = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(correctWhileLocked.status).toBe(429);

      t.clock.advance(15 * MINUTE + 1000);
      const again = new Person(t.server);
      await again.login(user.email, DEFAULT_PASSWORD);
      const released = await again.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect(released.headers.location).toBe('/');
      const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
      expect(events).toEqual(expect.arrayContaining(['code.failed', 'code.locked']));
    });

    it('counts wrong codes across sessions (in the database, not the session)', async () => {
      const { user, secret } = await memberWithTwoFactor();
      const wrong = codeAt(secret, t.clock, 7);
      for (let i = 0; i < 5; i++) {
        const person = new Person(t.server);
        await person.login(user.email, DEFAULT_PASSWORD);
        await person.submit('/2fa/verify', '/2fa/verify', { code: wrong });
      }
      expect(await codeLocked(t, user.id)).toBe(true);
    });

    it('locks the password after 10 wrong ones in a row for 15 minutes, even for the right password', async () => {
      const user = await createUser(t, { twoFactor: false });
      const person = new Person(t.server);
      for (let i = 0; i < 9; i++) expect((await person.login(user.email, 'wrong password here')).status).toBe(401);
      const tenth = await person.login(user.email, 'wrong password here');
      expect(tenth.status).toBe(429);
      expect(tenth.text).toContain('Too many failed attempts');
      expect((await person.login(user.email, DEFAULT_PASSWORD)).status).toBe(429);
      t.clock.advance(15 * MINUTE + 1000);
      expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    });

    it('locks an unknown email exactly like a real one (no enumeration through the lock)', async () => {
      const person = new Person(t.server);
      const answers: number[] = [];
      for (let i = 0; i < 10; i++)
        answers.push((await person.login('nobody-here@example.com', 'wrong password here')).status);
      expect(answers).toEqual([401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
    });
  });

  describe('recovery codes', () => {
    it('work once each instead of a code', async () => {
      const { user, recoveryCodes } = await memberWithTwoFactor();
      const person = new Person(t.server);
      await person.login(user.email, DEFAULT_PASSWORD);
      const used = await person.submit('/2fa/recovery', '/2fa/recovery', {
        recoveryCode: recoveryCodes[0].toUpperCase(),
      });
      expect(used.headers.location).toBe('/');
      expect((await person.get('/')).status).toBe(200);

      const other = new Person(t.server);
      await other.login(user.email, DEFAULT_PASSWORD);
      const again = await other.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[0] });
      expect(again.status).toBe(401);
      expect(again.text).toContain('not valid or was already used');
      const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
      expect(events).toContain('recovery_code.used');
    });
  });

  describe('the pending (password-only) session', () => {
    it('reaches nothing but the 2FA pages and logout', async () => {
      const { user, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD);
      for (const path of ['/', '/admin/users', '/admin/users/new', '/2fa/recovery-codes', '/anything']) {
        const res = await person.get(path);
        expect([303, 404]).toContain(res.status);
        if (res.status === 303) expect(res.headers.location).toBe('/2fa/verify');
      }
      expect((await person.get('/2fa/verify')).status).toBe(200);
      expect((await person.get('/2fa/recovery')).status).toBe(200);
    });

    it('expires after 5 minutes', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD);
      const page = await person.get('/2fa/verify');
      t.clock.advance(5 * MINUTE + 1000);
      const late = await person.agent
        .post('/2fa/verify')
        .type('form')
        .send({ code: codeAt(secret, t.clock), _csrf: csrfFrom(page.text) })
        .redirects(0);
      expect(late.status).toBe(303);
      expect(late.headers.location).toBe('/login?reason=timeout');
    });
  });

  describe('sessions', () => {
    it('get a new id after the password and again after the code', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      const sid = (res: request.Response) =>
        (res.headers['set-cookie'] as unknown as string[] | undefined)
          ?.find((c) => c.startsWith('tixngo.sid='))
          ?.split(';')[0];
      const login = await person.login(user.email, DEFAULT_PASSWORD);
      const afterPassword = sid(login);
      expect(afterPassword).toBeDefined();
      const verify = await person.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      const afterCode = sid(verify);
      expect(afterCode).toBeDefined();
      expect(afterCode).not.toBe(afterPassword);
    });

    it('set the cookie HttpOnly, SameSite=Lax, Path=/', async () => {
      const user = await createUser(t, { twoFactor: false });
      const login = await new Person(t.server).login(user.email, DEFAULT_PASSWORD);
      const cookie = (login.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('tixngo.sid='))!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Lax/);
      expect(cookie).toMatch(/Path=\//);
    });

    it('end after 30 minutes idle', async () => {
      const user = await createUser(t, { twoFactor: false });
      const person = new Person(t.server);
      await person.login(user.email, DEFAULT_PASSWORD);
      t.clock.advance(29 * MINUTE);
      expect((await person.get('/')).status).toBe(200);
      t.clock.advance(29 * MINUTE);
      expect((await person.get('/')).status).toBe(200);
      t.clock.advance(31 * MINUTE);
      // The browser still holds the cookie: the login page says the session ended.
      expect((await person.get('/')).headers.location).toBe('/login?reason=ended');
    });

    it('end 12 hours after sign-in even when active', async () => {
      const user = await createUser(t, { twoFactor: false });
      const person = new Person(t.server);
      await person.login(user.email, DEFAULT_PASSWORD);
      for (let i = 0; i < 24; i++) {
        t.clock.advance(29 * MINUTE);
        expect((await person.get('/')).status).toBe(200);
      }
      t.clock.advance(29 * MINUTE);
      const last = await person.get('/');
      expect(last.status).toBe(303);
      expect(last.headers.location).toBe('/login?reason=ended');
    });

    it('are destroyed on the server at logout', async () => {
      const user = await createUser(t, { twoFactor: false });
      const person = new Person(t.server);
      await person.login(user.email, DEFAULT_PASSWORD);
      const before = await sessionRows();
      const logout = await person.post('/logout', {});
      expect(logout.headers.location).toBe('/login?reason=signed-out');
      expect(await sessionRows()).toBe(before - 1);
      // The cookie was cleared too: the next visit is a plain anonymous one.
      expect(String(logout.headers['set-cookie'])).toMatch(/tixngo\.sid=;.*Expires=Thu, 01 Jan 1970/);
      expect((await person.get('/')).headers.location).toBe('/login');
      const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
      expect(events[0]).toBe('session.logout');
    });

    it('end everywhere when the security stamp changes', async () => {
      const user = await createUser(t, { twoFactor: false });
      const a = new Person(t.server);
      const b = new Person(t.server);
      await a.login(user.email, DEFAULT_PASSWORD);
      await b.login(user.email, DEFAULT_PASSWORD);
      const { AuthSessionService } = await import('../../src/auth/auth-session.service');
      await t.get(AuthSessionService).endAllForUser(user.id);
      expect((await a.get('/')).headers.location).toBe('/login?reason=ended');
      expect((await b.get('/')).headers.location).toBe('/login?reason=ended');
    });

    it('are not created for anonymous visitors: GET /login writes no row', async () => {
      const before = await sessionRows();
      for (let i = 0; i < 5; i++) {
        const res = await request(t.server).get('/login');
        expect(res.status).toBe(200);
        expect((res.headers['set-cookie'] as unknown as string[]).some((c) => c.startsWith('tixngo.sid='))).toBe(false);
      }
      expect(await sessionRows()).toBe(before);
    });
  });

  describe('no user enumeration', () => {
    it('answers an unknown email and a wrong password the same way', async () => {
      const user = await createUser(t, { twoFactor: false });
      const unknown = await new Person(t.server).login('no-such-user@example.com', 'some wrong password');
      const wrong = await new Person(t.server).login(user.email, 'some wrong password');
      expect(unknown.status).toBe(wrong.status);
      const strip = (html: string, email: string) =>
        html.replace(/name="_csrf" value="[^"]+"/g, '').replace(email, 'EMAIL');
      expect(strip(unknown.text, 'no-such-user@example.com')).toBe(strip(wrong.text, user.email));
      const cookieNames = (res: request.Response) =>
        ((res.headers['set-cookie'] as unknown as string[]) ?? []).map((c) => c.split('=')[0]).sort();
      expect(cookieNames(unknown)).toEqual(cookieNames(wrong));
    });

    it('does the same work for both: one argon2id verification each', async () => {
      // Counted, not timed (the machine is shared): an unknown email that skipped the hash
      // would answer several times faster; here both verify one argon2id hash.
      const user = await createUser(t, { twoFactor: false });
      const hasher = t.get(PasswordHasher);
      const verify = jest.spyOn(hasher, 'verify');
      try {
        for (const [email, storedHash] of [
          [user.email, user.passwordHash],
          ['missing-person@example.com', undefined],
        ] as const) {
          verify.mockClear();
          await new Person(t.server).login(email, 'some wrong password');
          // No stored hash: PasswordHasher verifies against its dummy argon2id hash (password-hasher.spec.ts).
          expect(verify.mock.calls).toEqual([[storedHash, 'some wrong password']]);
        }
      } finally {
        verify.mockRestore();
      }
    });
  });

  describe('CSRF', () => {
    it('refuses a POST without a valid token with 403 and changes nothing', async () => {
      const { user, secret, person } = await memberWithTwoFactor();
      const noToken = await request(t.server)
        .post('/login')
        .type('form')
        .send({ email: user.email, password: DEFAULT_PASSWORD });
      expect(noToken.status).toBe(403);
      expect(noToken.headers['set-cookie']?.toString() ?? '').not.toContain('tixngo.sid=');

      await person.login(user.email, DEFAULT_PASSWORD);
      const forged = await person.agent
        .post('/2fa/verify')
        .type('form')
        .send({ code: codeAt(secret, t.clock), _csrf: 'forged' })
        .redirects(0);
      expect(forged.status).toBe(403);
      expect((await person.get('/')).headers.location).toBe('/2fa/verify');
      expect(await codeFailures(t, user.id)).toBe(0);

      const logout = await person.agent.post('/logout').type('form').send({}).redirects(0);
      expect(logout.status).toBe(403);
      expect((await person.get('/2fa/verify')).status).toBe(200);
    });

    it('does not accept a token from before sign-in after it', async () => {
      const user = await createUser(t, { twoFactor: false });
      const person = new Person(t.server);
      const page = await person.get('/login');
      const anonymousToken = csrfFrom(page.text);
      await person.agent
        .post('/login')
        .type('form')
        .send({ email: user.email, password: DEFAULT_PASSWORD, _csrf: anonymousToken });
      const logout = await person.agent.post('/logout').type('form').send({ _csrf: anonymousToken }).redirects(0);
      expect(logout.status).toBe(403);
    });
  });

  describe('bad input', () => {
    it('never answers 500, and keeps the email', async () => {
      const person = new Person(t.server);
      const cases: Record<string, unknown>[] = [
        {},
        { email: '', password: '' },
        { email: 'a@b.c' },
        { email: ['a@b.c', 'd@e.f'], password: 'x' },
        { 'email[a]': 'x', password: 'y' },
        { email: 'x'.repeat(5000) + '@example.com', password: 'y' },
        { email: 'kept@example.com', password: 'p'.repeat(5000) },
        { email: '<script>alert(1)</script>', password: 'whatever' },
      ];
      for (const fields of cases) {
        const res = await person.submit('/login', '/login', fields as Record<string, string>);
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
        expect(res.text).not.toContain('<script>alert(1)</script>');
      }
      const kept = await person.submit('/login', '/login', { email: 'kept@example.com', password: 'wrong password' });
      expect(kept.text).toContain('value="kept@example.com"');
      expect(kept.text).toContain('role="alert"');
    });

    it('refuses malformed codes without a 500 and without counting them', async () => {
      const { user, person } = await memberWithTwoFactor();
      await person.login(user.email, DEFAULT_PASSWORD);
      for (const code of ['', 'abcdef', '12345', '1234567', 'x'.repeat(10000)]) {
        const res = await person.submit('/2fa/verify', '/2fa/verify', { code });
        expect(res.status).toBe(401);
        expect(res.text).toContain('Enter the 6-digit code');
      }
      const arrays = await person.submit('/2fa/verify', '/2fa/verify', { code: ['123456', '654321'] });
      expect(arrays.status).toBe(401);
      for (const path of ['/2fa/recovery', '/2fa/setup']) {
        const res = await person.submit('/2fa/verify', path, { recoveryCode: ['a', 'b'], code: ['1'] } as never);
        expect(res.status).toBeLessThan(500);
      }
      expect(await codeFailures(t, user.id)).toBe(0);
    });

    it('answers an unknown page with the 404 page in the layout', async () => {
      const res = await request(t.server).get('/no/such/page');
      expect(res.status).toBe(404);
      expect(res.text).toContain('Page not found');
    });
  });

  describe('headers', () => {
    it('send a CSP without inline script and frame-ancestors none', async () => {
      const res = await request(t.server).get('/login');
      const csp = res.headers['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
    });
  });

  describe('GET /healthz', () => {
    it('answers 200 {"status":"ok"} when the database answers', async () => {
      const res = await request(t.server).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });
  });
});

describe('sign-in without 2FA required', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('goes straight to the dashboard', async () => {
    const user = await createUser(t, { twoFactor: false });
    const person = new Person(t.server);
    const login = await person.login(user.email, DEFAULT_PASSWORD);
    expect(login.headers.location).toBe('/');
    expect((await person.get('/')).text).toContain('Signed in as');
  });
});

describe('over https', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { PUBLIC_URL: 'https://backoffice.example.com' } });
  });
  afterAll(async () => t.close());

  it('uses Secure __Host- cookies', async () => {
    const user = await createUser(t, { twoFactor: false });
    const page = await request(t.server).get('/login');
    const csrfCookie = (page.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('__Host-tixngo.csrf='),
    )!;
    expect(csrfCookie).toMatch(/Secure/);
    const login = await request(t.server)
      .post('/login')
      .set('Cookie', csrfCookie.split(';')[0])
      .type('form')
      .send({ email: user.email, password: DEFAULT_PASSWORD, _csrf: csrfFrom(page.text) });
    // express-session refuses to set a Secure cookie over plain http unless behind a trusted proxy.
    const cookies = ((login.headers['set-cookie'] as unknown as string[]) ?? []).join('\n');
    expect(cookies).not.toMatch(/(^|\n)tixngo\.sid=/);
  });
});
