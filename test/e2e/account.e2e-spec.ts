import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { SessionRecord } from '../../src/auth/session.entity';
import { RecoveryCode } from '../../src/two-factor/recovery-code.entity';
import { codeAt, csrfFrom, manualKeyFrom, Person, recoveryCodesFrom } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { hasFactor } from '../utils/factors';

const MINUTE = 60_000;

describe('account page (/account)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  async function signedInWithTwoFactor() {
    const user = await createUser(t, { twoFactor: true });
    const person = new Person(t.server);
    await person.login(user.email, DEFAULT_PASSWORD);
    const { secret, recoveryCodes } = await person.setUpTwoFactor(t.clock);
    t.clock.advance(60_000);
    return { user, person, secret, recoveryCodes };
  }

  it("shows the 2FA state and the user's own recent security events", async () => {
    const { person } = await signedInWithTwoFactor();
    const page = await person.get('/account');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Active');
    expect(page.text).toContain('10 recovery codes left');
    expect(page.text).toContain('Authenticator app set up');
  });

  describe('change password', () => {
    it('needs the current password, keeps this session and ends all others', async () => {
      const { user, person, secret } = await signedInWithTwoFactor();
      const other = new Person(t.server);
      await other.login(user.email, DEFAULT_PASSWORD);
      await other.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) });
      expect((await other.get('/')).status).toBe(200);

      const wrongCurrent = await person.submit('/account', '/account/password', {
        currentPassword: 'not my password at all',
        newPassword: 'a brand new passphrase',
        confirmPassword: 'a brand new passphrase',
      });
      expect(wrongCurrent.status).toBe(401);
      expect(wrongCurrent.text).toContain('current password is not correct');

      const mismatch = await person.submit('/account', '/account/password', {
        currentPassword: DEFAULT_PASSWORD,
        newPassword: 'a brand new passphrase',
        confirmPassword: 'a different passphrase',
      });
      expect(mismatch.status).toBe(400);
      expect(mismatch.text).toContain('do not match');

      const weak = await person.submit('/account', '/account/password', {
        currentPassword: DEFAULT_PASSWORD,
        newPassword: 'short',
        confirmPassword: 'short',
      });
      expect(weak.status).toBe(400);
      expect(weak.text).toContain('at least 12');

      const changed = await person.submit('/account', '/account/password', {
        currentPassword: DEFAULT_PASSWORD,
        newPassword: 'a brand new passphrase',
        confirmPassword: 'a brand new passphrase',
      });
      expect(changed.headers.location).toBe('/account');
      expect((await person.get('/account')).status).toBe(200);
      expect((await other.get('/')).headers.location).toBe('/login?reason=ended');

      const oldPassword = await new Person(t.server).login(user.email, DEFAULT_PASSWORD);
      expect(oldPassword.status).toBe(401);
      const newPassword = await new Person(t.server).login(user.email, 'a brand new passphrase');
      expect(newPassword.headers.location).toBe('/2fa/verify');
      const rows = await t.get(DataSource).getRepository(SessionRecord).countBy({ userId: user.id });
      expect(rows).toBe(2); // this session and the new login's pending one
    });

    it('never answers 500 to odd input', async () => {
      const { person } = await signedInWithTwoFactor();
      const res = await person.submit('/account', '/account/password', {
        currentPassword: ['a', 'b'],
        newPassword: '',
        confirmPassword: '',
      });
      expect(res.status).toBe(400);
      expect(res.text).toContain('role="alert"');
    });
  });

  describe('re-authentication for recovery codes and a new authenticator', () => {
    it('asks for a fresh code after 5 minutes, then regenerates recovery codes', async () => {
      const { user, person, secret, recoveryCodes } = await signedInWithTwoFactor();
      t.clock.advance(6 * MINUTE);
      const asked = await person.post('/account/recovery-codes', {}, '/account');
      expect(asked.headers.location).toBe('/account/confirm?continue=recovery-codes');
      const page = await person.get(asked.headers.location);
      expect(page.text).toContain('New recovery codes');
      expect(await t.get(DataSource).getRepository(RecoveryCode).countBy({ userId: user.id })).toBe(10);

      const wrong = await person.submit(asked.headers.location, '/account/confirm', {
        code: '000000',
        continue: 'recovery-codes',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain('name="continue" value="recovery-codes"');
      // The right code goes on with the change that asked for it: no second click.
      const regenerated = await person.submit(asked.headers.location, '/account/confirm', {
        code: codeAt(secret, t.clock),
        continue: 'recovery-codes',
      });
      expect(regenerated.headers.location).toBe('/2fa/recovery-codes');
      const fresh = recoveryCodesFrom((await person.get('/2fa/recovery-codes')).text);
      expect(fresh).toHaveLength(10);
      expect(fresh).not.toContain(recoveryCodes[0]);
      // Within the 5 minutes the button works at once; an unknown "continue" only confirms.
      expect((await person.post('/account/recovery-codes', {}, '/account')).headers.location).toBe(
        '/2fa/recovery-codes',
      );
      t.clock.advance(6 * MINUTE);
      const odd = await person.submit('/account/confirm?continue=delete-everything', '/account/confirm', {
        code: codeAt(secret, t.clock),
        continue: 'delete-everything',
      });
      expect(odd.headers.location).toBe('/account');
      const latest = recoveryCodesFrom((await person.get('/2fa/recovery-codes')).text);

      // The old codes stopped working.
      t.clock.advance(MINUTE);
      const other = new Person(t.server);
      await other.login(user.email, DEFAULT_PASSWORD);
      expect((await other.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: recoveryCodes[0] })).status).toBe(
        401,
      );
      expect((await other.submit('/2fa/recovery', '/2fa/recovery', { recoveryCode: latest[0] })).headers.location).toBe(
        '/',
      );
      const events = (await t.get(AuditService).recentForUser(user.id)).map((e) => e.type);
      expect(events).toContain('recovery_codes.regenerated');
    });

    it('replaces the authenticator only after a fresh code; the old one works until the new one is confirmed', async () => {
      const { user, person, secret } = await signedInWithTwoFactor();
      // Never shown again without a reason.
      expect((await person.get('/2fa/setup')).headers.location).toBe('/');

      t.clock.advance(6 * MINUTE);
      expect((await person.post('/account/authenticator', {}, '/account')).headers.location).toBe(
        '/account/confirm?continue=authenticator',
      );
      const start = await person.submit('/account/confirm?continue=authenticator', '/account/confirm', {
        code: codeAt(secret, t.clock),
        continue: 'authenticator',
      });
      expect(start.headers.location).toBe('/2fa/setup');
      const setup = await person.get('/2fa/setup');
      const newSecret = manualKeyFrom(setup.text);
      expect(newSecret).not.toBe(secret);

      t.clock.advance(30_000);
      const confirm = await person.agent
        .post('/2fa/setup')
        .type('form')
        .send({ code: codeAt(newSecret, t.clock), _csrf: csrfFrom(setup.text) })
        .redirects(0);
      expect(confirm.headers.location).toBe('/2fa/recovery-codes');

      t.clock.advance(60_000);
      const later = new Person(t.server);
      await later.login(user.email, DEFAULT_PASSWORD);
      expect((await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(secret, t.clock) })).status).toBe(401);
      expect(
        (await later.submit('/2fa/verify', '/2fa/verify', { code: codeAt(newSecret, t.clock) })).headers.location,
      ).toBe('/');
      expect(await hasFactor(t, user.id)).toBe(true);
    });
  });
});
