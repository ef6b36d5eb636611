import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { SessionRecord } from '../../src/auth/session.entity';
import { InvitationsService } from '../../src/users/invitations.service';
import { OneTimeTokensService } from '../../src/users/one-time-tokens.service';
import { User } from '../../src/users/user.entity';
import { codeAt, csrfFrom } from '../utils/agent';
import { codeFailures, codeLocked } from '../utils/attempts';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import { Browser, Instance, setUpTwoFactorAcross, startTwoInstances, TwoInstances, wrongCode } from './two-instances';

const STEP_MS = 30_000;
const MINUTE_MS = 60_000;

/**
 * Issue 5: two instances of the app (two ports, one PostgreSQL, same APP_SECRET) behave
 * as one app. Every guarantee that rests on the database is raced across them.
 */
describe('two instances on one PostgreSQL', () => {
  let two: TwoInstances;
  let A: Instance;
  let B: Instance;

  beforeAll(async () => {
    two = await startTwoInstances();
    ({ A, B } = two);
  });
  afterAll(async () => two?.close());

  const countEvents = (userId: string, type: string) =>
    A.t
      .get(DataSource)
      .getRepository(AuditEvent)
      .countBy({ userId, type: type as never });

  describe('sessions', () => {
    it('password on A, code on B: the session started on one instance goes on on the other; logout on B ends it on A', async () => {
      const user = await createUser(A.t, { twoFactor: true });
      const { secret } = await setUpTwoFactorAcross(two, user.email, DEFAULT_PASSWORD);
      two.advance(STEP_MS);

      const browser = new Browser();
      const login = await browser.login(A, user.email, DEFAULT_PASSWORD);
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe('/2fa/verify');
      const pendingId = browser.sessionCookie();

      // The pending session is known to B: it may reach the code page and nothing else.
      expect((await browser.get(B, '/')).headers.location).toBe('/2fa/verify');
      const verify = await browser.submit(B, '/2fa/verify', '/2fa/verify', { code: codeAt(secret, B.t.clock) });
      expect(verify.status).toBe(303);
      expect(verify.headers.location).toBe('/');
      expect(browser.sessionCookie()).not.toBe(pendingId);

      const onA = await browser.get(A, '/');
      expect(onA.status).toBe(200);
      expect(onA.text).toContain('Signed in as');

      const logout = await browser.submit(A, '/', '/logout', {}, B);
      expect(logout.status).toBe(303);
      const afterLogout = await browser.get(A, '/');
      expect(afterLogout.status).toBe(303);
      expect(afterLogout.headers.location).toMatch(/^\/login/);
      expect(await A.t.get(DataSource).getRepository(SessionRecord).countBy({ userId: user.id })).toBe(0);
    });
  });

  describe('replay protection', () => {
    it('the same code sent to A and B at the same moment from two pending sessions: exactly one succeeds, 50 times in a row', async () => {
      const user = await createUser(A.t, { twoFactor: true });
      const { secret } = await setUpTwoFactorAcross(two, user.email, DEFAULT_PASSWORD);
      const rounds: { round: number; statuses: number[]; winners: string[] }[] = [];

      for (let round = 0; round < 50; round++) {
        two.advance(STEP_MS);
        const first = new Browser();
        const second = new Browser();
        expect((await first.login(A, user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
        expect((await second.login(B, user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
        const tokens = [await first.tokenFrom(A, '/2fa/verify'), await second.tokenFrom(B, '/2fa/verify')];
        const code = codeAt(secret, A.t.clock);
        expect(codeAt(secret, B.t.clock)).toBe(code);

        // Both requests leave before either answer is read; which one goes first alternates.
        const sends = [
          () => first.post(A, '/2fa/verify', { code, _csrf: tokens[0] }),
          () => second.post(B, '/2fa/verify', { code, _csrf: tokens[1] }),
        ];
        if (round % 2) sends.reverse();
        const responses = await Promise.all(sends.map((send) => send()));
        if (round % 2) responses.reverse();

        const winners = responses.flatMap((res, i) =>
          res.status === 303 && res.headers.location === '/' ? [i === 0 ? 'A' : 'B'] : [],
        );
        rounds.push({ round, statuses: responses.map((res) => res.status), winners });
        for (const res of responses.filter((r) => r.status !== 303)) {
          expect(res.status).toBe(401);
          expect(res.text).toContain('This code was already used');
        }
      }

      expect(rounds.filter((r) => r.winners.length !== 1)).toEqual([]);
      expect(await countEvents(user.id, 'code.replayed')).toBe(50);
      // A replay counts as a wrong code (as in django-otp), and the next round's right code clears it.
      expect(await codeFailures(A.t, user.id)).toBeLessThanOrEqual(1);
      expect(await codeLocked(A.t, user.id)).toBe(false);
    });

    it('the same recovery code sent to A and B at once: exactly one sign-in', async () => {
      const user = await createUser(A.t, { twoFactor: true });
      const { recoveryCodes } = await setUpTwoFactorAcross(two, user.email, DEFAULT_PASSWORD);

      // Three rounds: each loser counts as one wrong code, and five in a row would lock.
      for (const recoveryCode of recoveryCodes.slice(0, 3)) {
        two.advance(STEP_MS);
        const first = new Browser();
        const second = new Browser();
        await first.login(A, user.email, DEFAULT_PASSWORD);
        await second.login(B, user.email, DEFAULT_PASSWORD);
        const tokens = [await first.tokenFrom(A, '/2fa/recovery'), await second.tokenFrom(B, '/2fa/recovery')];
        const responses = await Promise.all([
          first.post(A, '/2fa/recovery', { recoveryCode, _csrf: tokens[0] }),
          second.post(B, '/2fa/recovery', { recoveryCode, _csrf: tokens[1] }),
        ]);
        expect(responses.map((res) => res.status).sort()).toEqual([303, 401]);
      }
      expect(await countEvents(user.id, 'recovery_code.used')).toBe(3);
    });
  });

  describe('lockout counters', () => {
    it('wrong codes spread over A and B lock at 5 in all; then a right code is refused on both until the lock ends', async () => {
      const user = await createUser(A.t, { twoFactor: true });
      const { secret } = await setUpTwoFactorAcross(two, user.email, DEFAULT_PASSWORD);
      two.advance(STEP_MS);

      const browser = new Browser();
      await browser.login(A, user.email, DEFAULT_PASSWORD);
      const instances = [A, B, A, B, A];
      const statuses: number[] = [];
      for (const [i, on] of instances.entries()) {
        const res = await browser.submit(on, '/2fa/verify', '/2fa/verify', { code: wrongCode(secret, on.t.clock, i) });
        statuses.push(res.status);
        if (i === 4) expect(res.text).toContain('Too many wrong codes');
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
      expect(await codeLocked(A.t, user.id)).toBe(true);

      for (const on of [B, A]) {
        const right = await browser.submit(on, '/2fa/verify', '/2fa/verify', { code: codeAt(secret, on.t.clock) });
        expect(right.status).toBe(429);
      }
      expect(await countEvents(user.id, 'code.locked')).toBe(1);

      // 15 minutes later (the pending session has timed out by then): a right code on B works.
      two.advance(15 * MINUTE_MS + STEP_MS);
      const later = new Browser();
      expect((await later.login(B, user.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/verify');
      const ok = await later.submit(B, '/2fa/verify', '/2fa/verify', { code: codeAt(secret, B.t.clock) });
      expect(ok.headers.location).toBe('/');
    });

    it('six wrong codes at once from two sessions on A and B: one lock, set once', async () => {
      const user = await createUser(A.t, { twoFactor: true });
      const { secret } = await setUpTwoFactorAcross(two, user.email, DEFAULT_PASSWORD);
      two.advance(STEP_MS);

      const browsers = [new Browser(), new Browser()];
      await browsers[0].login(A, user.email, DEFAULT_PASSWORD);
      await browsers[1].login(B, user.email, DEFAULT_PASSWORD);
      // One form token per browser (a new one would replace its CSRF cookie), used by three posts each.
      const tokens = [await browsers[0].tokenFrom(A, '/2fa/verify'), await browsers[1].tokenFrom(B, '/2fa/verify')];
      const responses = await Promise.all(
        [0, 1, 2, 3, 4, 5].map((i) =>
          browsers[i % 2].post(i % 2 ? B : A, '/2fa/verify', {
            code: wrongCode(secret, A.t.clock, i),
            _csrf: tokens[i % 2],
          }),
        ),
      );
      const statuses = responses.map((res) => res.status);
      expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
      expect(statuses).toContain(429);

      expect(await countEvents(user.id, 'code.locked')).toBe(1);
      expect(await codeLocked(A.t, user.id)).toBe(true);
      for (const [i, on] of [A, B].entries()) {
        const right = await browsers[i].submit(on, '/2fa/verify', '/2fa/verify', { code: codeAt(secret, on.t.clock) });
        expect(right.status).toBe(429);
      }
    });

    it('wrong passwords spread over A and B lock at 10 in all; the right password is then refused on both', async () => {
      const user = await createUser(A.t, { twoFactor: false });
      const browser = new Browser();
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await browser.login(i % 2 ? B : A, user.email, `wrong password number ${i}`);
        statuses.push(res.status);
      }
      expect(statuses).toEqual([...Array(9).fill(401), 429]);
      for (const on of [B, A]) {
        const right = await browser.login(on, user.email, DEFAULT_PASSWORD);
        expect(right.status).toBe(429);
        expect(right.text).toContain('Too many failed attempts');
      }
      expect(await countEvents(user.id, 'login.locked')).toBe(1);

      two.advance(15 * MINUTE_MS + 1000);
      const ok = await browser.login(B, user.email, DEFAULT_PASSWORD);
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toBe('/');
    });

    it('twelve wrong passwords at once on A and B: the name locks once', async () => {
      const user = await createUser(A.t, { twoFactor: false });
      const browsers = Array.from({ length: 12 }, () => new Browser());
      const tokens = await Promise.all(browsers.map((browser, i) => browser.tokenFrom(i % 2 ? B : A, '/login')));
      const responses = await Promise.all(
        browsers.map((browser, i) =>
          browser.post(i % 2 ? B : A, '/login', {
            email: user.email,
            password: `wrong password ${i}`,
            next: '',
            _csrf: tokens[i],
          }),
        ),
      );
      expect(responses.every((res) => res.status === 401 || res.status === 429)).toBe(true);
      expect(await countEvents(user.id, 'login.locked')).toBe(1);
      const right = await new Browser().login(B, user.email, DEFAULT_PASSWORD);
      expect(right.status).toBe(429);
    });
  });

  describe('ending sessions everywhere', () => {
    it("Resend QR on A ends the member's session on B; the old authenticator no longer signs in on either", async () => {
      const member = await createUser(A.t, { twoFactor: true, organizer: 'Resend Org' });
      const admin = await createUser(A.t, { role: 'admin', twoFactor: false, organizer: 'Resend Org' });
      const { secret } = await setUpTwoFactorAcross(two, member.email, DEFAULT_PASSWORD);
      two.advance(STEP_MS);
      const memberBrowser = new Browser();
      await memberBrowser.login(B, member.email, DEFAULT_PASSWORD);
      await memberBrowser.submit(B, '/2fa/verify', '/2fa/verify', { code: codeAt(secret, B.t.clock) });
      expect((await memberBrowser.get(B, '/')).status).toBe(200);

      const adminBrowser = new Browser();
      expect((await adminBrowser.login(A, admin.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
      const action = `/admin/users/${member.id}/resend-qr`;
      const confirm = await adminBrowser.submit(A, `/admin/users/${member.id}`, action, {});
      expect(confirm.text).toContain('name="confirm" value="yes"');
      const reset = await adminBrowser.post(A, action, { confirm: 'yes', _csrf: csrfFrom(confirm.text) });
      expect(reset.status).toBe(303);

      const onB = await memberBrowser.get(B, '/');
      expect(onB.status).toBe(303);
      expect(onB.headers.location).toMatch(/^\/login/);
      expect(await B.t.get(DataSource).getRepository(SessionRecord).countBy({ userId: member.id })).toBe(0);

      // The password alone now leads to "check your email", on either instance, never to a code page.
      two.advance(STEP_MS);
      for (const on of [B, A]) {
        const again = new Browser();
        expect((await again.login(on, member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/setup');
        const setup = await again.get(on, '/2fa/setup');
        expect(setup.text).not.toContain('id="manual-key"');
        const oldCode = await again.post(on, '/2fa/verify', {
          code: codeAt(secret, on.t.clock),
          _csrf: csrfFrom(setup.text),
        });
        expect(oldCode.headers.location).not.toBe('/');
        expect((await again.get(on, '/')).status).toBe(303);
      }
    });
  });

  describe('single-use links', () => {
    it('one invitation link submitted on A and B at the same moment: exactly one password is set, 10 times', async () => {
      const rounds: { statuses: number[] }[] = [];
      for (let i = 0; i < 10; i++) {
        const { user, link } = await A.t.get(InvitationsService).createAccount(
          {
            organizerId: (await createUser(A.t)).organizerId,
            email: `invited-${i}-${Date.now()}@example.com`,
            name: `Invited ${i}`,
            role: 'member',
            twoFactorRequired: false,
          },
          null,
          null,
        );
        const path = new URL(link!).pathname;
        const browsers = [new Browser(), new Browser()];
        const tokens = [await browsers[0].tokenFrom(A, path), await browsers[1].tokenFrom(B, path)];
        const passwords = [`first choice of password ${i}`, `second choice of password ${i}`];
        const responses = await Promise.all(
          [A, B].map((on, k) =>
            browsers[k].post(on, path, { newPassword: passwords[k], confirmPassword: passwords[k], _csrf: tokens[k] }),
          ),
        );
        const statuses = responses.map((res) => res.status);
        rounds.push({ statuses });
        expect(statuses.slice().sort()).toEqual([303, 410]);

        // The winner's password is the account's; the loser's is not.
        const winner = statuses.indexOf(303);
        expect((await new Browser().login(B, user.email, passwords[winner])).status).toBe(303);
        expect((await new Browser().login(A, user.email, passwords[1 - winner])).status).toBe(401);
      }
      expect(rounds).toHaveLength(10);
    });

    it('the token primitive: OneTimeTokensService.spend raced on A and B, exactly one true, 20 times', async () => {
      const results: boolean[][] = [];
      for (let i = 0; i < 20; i++) {
        const invited = await createUser(A.t, { password: null });
        const { record } = await A.t
          .get(OneTimeTokensService)
          .issue(invited.id, 'invitation', 72 * 60 * MINUTE_MS, null);
        results.push(
          await Promise.all([
            A.t.get(OneTimeTokensService).spend(record.id),
            B.t.get(OneTimeTokensService).spend(record.id),
          ]),
        );
      }
      expect(results.filter((pair) => pair.filter(Boolean).length !== 1)).toEqual([]);
    });
  });

  describe('unique emails', () => {
    it('two admins create the same email on A and B at the same moment: one account, the other admin gets the form with "already exists"', async () => {
      const admins = [
        await createUser(A.t, { role: 'admin', twoFactor: false, organizer: 'Twin Org' }),
        await createUser(A.t, { role: 'admin', twoFactor: false, organizer: 'Twin Org' }),
      ];
      for (let i = 0; i < 5; i++) {
        const email = `twin-${i}-${Date.now()}@example.com`;
        const browsers = [new Browser(), new Browser()];
        await browsers[0].login(A, admins[0].email, DEFAULT_PASSWORD);
        await browsers[1].login(B, admins[1].email, DEFAULT_PASSWORD);
        const tokens = [
          await browsers[0].tokenFrom(A, '/admin/users/new'),
          await browsers[1].tokenFrom(B, '/admin/users/new'),
        ];
        const responses = await Promise.all(
          [A, B].map((on, k) =>
            browsers[k].post(on, '/admin/users', {
              email,
              name: `Twin ${k}`,
              role: 'member',
              twoFactor: 'on',
              _csrf: tokens[k],
            }),
          ),
        );
        expect(responses.map((res) => res.status).sort()).toEqual([303, 409]);
        expect(responses.find((res) => res.status === 409)!.text).toContain('already exists');
        expect(await A.t.get(DataSource).getRepository(User).countBy({ email })).toBe(1);
      }
    });
  });

  describe('CSRF tokens', () => {
    it('a form opened on A is accepted on B (one APP_SECRET), a forged one on neither', async () => {
      const user = await createUser(A.t, { twoFactor: false });
      const browser = new Browser();
      const form = await browser.get(A, '/login');
      const forged = await browser.post(B, '/login', {
        email: user.email,
        password: DEFAULT_PASSWORD,
        next: '',
        _csrf: csrfFrom(form.text).replace(/^./, (c) => (c === 'a' ? 'b' : 'a')),
      });
      expect(forged.status).toBe(403);
      const ok = await browser.post(B, '/login', {
        email: user.email,
        password: DEFAULT_PASSWORD,
        next: '',
        _csrf: csrfFrom(form.text),
      });
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toBe('/');
    });
  });
});
