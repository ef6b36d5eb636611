import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { PasswordHasher } from '../../src/users/password-hasher';
import { User } from '../../src/users/user.entity';
import { codeAt } from '../utils/agent';
import { mailsTo } from '../utils/mail';
import { createUser, DEFAULT_PASSWORD } from '../utils/test-app';
import { Browser, Instance, setUpTwoFactorAcross, startTwoInstances, TwoInstances, wrongCode } from './two-instances';

/**
 * SECURITY.md 24 and 26 across two instances on one PostgreSQL: attempts are reserved in
 * the database before a secret is checked, so two instances together check no more than
 * the limit; the per-client limit adds up the failures both instances saw.
 */
describe('attempt limits on two instances', () => {
  let two: TwoInstances;
  let A: Instance;
  let B: Instance;

  beforeAll(async () => {
    // The default per-client limit (20 per 15 minutes), behind one proxy.
    two = await startTwoInstances({ TRUST_PROXY: '1', CLIENT_MAX_FAILURES: '' });
    ({ A, B } = two);
  });
  afterAll(async () => two?.close());

  const countEvents = (userId: string, type: string) =>
    A.t
      .get(DataSource)
      .getRepository(AuditEvent)
      .countBy({ userId, type: type as never });

  function passwordChecks(user: User) {
    const spies = [A, B].map((on) => jest.spyOn(on.t.get(PasswordHasher), 'verify'));
    return {
      count: () =>
        spies.reduce((sum, spy) => sum + spy.mock.calls.filter(([hash]) => hash === user.passwordHash).length, 0),
      restore: () => spies.forEach((spy) => spy.mockRestore()),
    };
  }

  it('40 passwords at once, half on A and half on B (39 wrong, then the right one): at most 10 checked, one lock email', async () => {
    const user = await createUser(A.t, { twoFactor: false });
    const browsers = Array.from({ length: 40 }, (_, i) => ({
      browser: new Browser({ 'X-Forwarded-For': `192.0.2.${i + 1}` }),
      on: i % 2 ? B : A,
    }));
    const tokens = await Promise.all(browsers.map(({ browser, on }) => browser.tokenFrom(on, '/login')));
    const checks = passwordChecks(user);
    const responses = await Promise.all(
      browsers.map(({ browser, on }, i) =>
        browser.post(on, '/login', {
          email: user.email,
          password: i === 39 ? DEFAULT_PASSWORD : `wrong password number ${i}`,
          _csrf: tokens[i],
        }),
      ),
    );
    const checked = checks.count();
    checks.restore();
    console.log(
      `two instances, 40 passwords at once: ${checked} checked; statuses ${responses.map((res) => res.status).join(' ')}`,
    );

    expect(checked).toBeLessThanOrEqual(10);
    expect(responses[39].status).toBe(429);
    expect(responses.filter((res) => res.status === 303)).toHaveLength(0);
    expect(await countEvents(user.id, 'login.failed')).toBe(checked);
    expect(await countEvents(user.id, 'login.locked')).toBe(1);
    expect(
      (await mailsTo(A.t, user.email))
        .concat(await mailsTo(B.t, user.email))
        .filter((mail) => /locked/i.test(mail.subject)),
    ).toHaveLength(1);
  });

  it('20 wrong codes at once across A and B: at most 5 checked, the right code refused', async () => {
    const user = await createUser(A.t, { twoFactor: true });
    const { secret } = await setUpTwoFactorAcross(two, user.email, DEFAULT_PASSWORD);
    two.advance(60_000);
    const pending: { browser: Browser; on: Instance; token: string }[] = [];
    for (let i = 0; i < 21; i++) {
      const browser = new Browser({ 'X-Forwarded-For': '198.51.100.50' });
      const on = i % 2 ? B : A;
      await browser.login(on, user.email, DEFAULT_PASSWORD);
      pending.push({ browser, on, token: await browser.tokenFrom(on, '/2fa/verify') });
    }
    const responses = await Promise.all(
      pending.map(({ browser, on, token }, i) =>
        browser.post(on, '/2fa/verify', {
          code: i === 20 ? codeAt(secret, A.t.clock) : wrongCode(secret, A.t.clock, i),
          _csrf: token,
        }),
      ),
    );
    expect(await countEvents(user.id, 'code.failed')).toBeLessThanOrEqual(5);
    expect(await countEvents(user.id, 'code.locked')).toBe(1);
    expect(responses[20].status).toBe(429);
    expect(responses.filter((res) => res.status === 303)).toHaveLength(0);
  });

  it('one client’s wrong sign-ins on A and B add up: the 20th across 25 emails is refused on both', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) {
      const on = i % 2 ? B : A;
      const res = await new Browser({ 'X-Forwarded-For': '203.0.113.77' }).login(
        on,
        `nobody${i}@nowhere.test`,
        'not the password at all',
      );
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 19)).toEqual(new Array(19).fill(401));
    expect(statuses.slice(19)).toEqual(new Array(6).fill(429));
    expect(
      (
        await new Browser({ 'X-Forwarded-For': '203.0.113.78' }).login(
          B,
          'nobody@nowhere.test',
          'not the password at all',
        )
      ).status,
    ).toBe(401);
  });
});
