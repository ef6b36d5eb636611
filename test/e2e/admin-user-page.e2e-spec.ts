import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { SessionRecord } from '../../src/auth/session.entity';
import { RecoveryCode } from '../../src/two-factor/recovery-code.entity';
import { OneTimeTokensService } from '../../src/users/one-time-tokens.service';
import { UsersService } from '../../src/users/users.service';
import { csrfFrom, Person } from '../utils/agent';
import { codeFailures } from '../utils/attempts';
import { adminOf, hasButton, press, pressAndConfirm, signedIn } from '../utils/admin';
import { lastMailTo, linkIn, mailsTo } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { totpDevices } from '../utils/factors';

describe('a user’s page (GET /admin/users/:id) and Enable / Disable 2FA (journey 5)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  describe('GET /admin/users/:id', () => {
    it('shows the details, the 2FA state, the buttons, and the last 20 events newest first, with who acted', async () => {
      const org = 'Page Org';
      const { admin, person } = await adminOf(t, org, 'Pia Admin');
      const member = await createUser(t, {
        organizer: org,
        email: 'page.member@page.test',
        name: 'Max Member',
        twoFactor: true,
      });
      const audit = t.get(AuditService);
      for (let i = 1; i <= 24; i++) {
        t.clock.advance(1000);
        await audit.record({
          type: 'login.failed',
          organizerId: member.organizerId,
          userId: member.id,
          ip: `10.0.0.${i}`,
        });
      }
      t.clock.advance(1000);
      await audit.record({
        type: 'two_factor.enabled',
        organizerId: member.organizerId,
        userId: member.id,
        actorId: admin.id,
        ip: '10.9.9.9',
      });

      const page = await person.get(`/admin/users/${member.id}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain('<h1>Max Member</h1>');
      expect(page.text).toContain('page.member@page.test');
      expect(page.text).toMatch(/<dt>Role<\/dt><dd>Member<\/dd>/);
      expect(page.text).toMatch(/id="two-factor-state">Pending setup</);
      expect(hasButton(page.text, `/admin/users/${member.id}/resend-qr`, 'Resend QR')).toBe(true);
      expect(hasButton(page.text, `/admin/users/${member.id}/two-factor`, 'Disable 2FA')).toBe(true);
      expect(page.text).not.toContain('>Enable 2FA<');

      const rows = [...(page.text.match(/<table id="events">[\s\S]*?<\/table>/)?.[0] ?? '').matchAll(/<tr>\s*<td>/g)];
      expect(rows).toHaveLength(20);
      const table = page.text.match(/<table id="events">[\s\S]*?<\/table>/)![0];
      expect(table.indexOf('2FA enabled')).toBeLessThan(table.indexOf('Wrong password'));
      expect(table).toContain('Pia Admin');
      expect(table).toContain('10.0.0.24');
      expect(table).not.toContain('10.0.0.4<');
    });

    it('offers Enable 2FA when 2FA is off, and no 2FA buttons on the admin’s own page', async () => {
      const org = 'Buttons Org';
      const { admin, person } = await adminOf(t, org, 'Bo Admin');
      const off = await createUser(t, { organizer: org, email: 'off@buttons.test', twoFactor: false });
      const page = await person.get(`/admin/users/${off.id}`);
      expect(page.text).toMatch(/id="two-factor-state">Off</);
      expect(hasButton(page.text, `/admin/users/${off.id}/two-factor`, 'Enable 2FA')).toBe(true);
      expect(page.text).not.toContain('/resend-qr');
      expect(page.text).not.toContain('>Disable 2FA<');

      const own = await person.get(`/admin/users/${admin.id}`);
      expect(own.status).toBe(200);
      expect(own.text).not.toContain('/two-factor"');
      expect(own.text).not.toContain('/resend-qr"');
      expect(own.text).toContain('This is your own account');
    });

    it('answers 404 for an unknown or malformed id', async () => {
      const { person } = await adminOf(t, 'Unknown Org', 'Uma Admin');
      for (const id of ['00000000-0000-4000-8000-000000000000', 'nope', 'x'.repeat(40)]) {
        expect((await person.get(`/admin/users/${id}`)).status).toBe(404);
      }
    });
  });

  describe('Enable 2FA', () => {
    it('asks for confirmation, then requires 2FA (Pending setup), ends the user’s sessions, emails and audits; the next sign-in sets it up', async () => {
      const org = 'Enable Org';
      const { admin, person } = await adminOf(t, org, 'Ena Admin');
      const member = await createUser(t, {
        organizer: org,
        email: 'enable.me@enable.test',
        name: 'Ed Enable',
        twoFactor: false,
      });
      const memberBrowser = await signedIn(t, member);
      const userPage = `/admin/users/${member.id}`;

      const { step, result } = await pressAndConfirm(person, userPage, `${userPage}/two-factor`, {
        twoFactor: 'enable',
      });
      expect(step.status).toBe(200);
      expect(step.text).toContain('Enable two-factor authentication for Ed Enable');
      expect(hasButton(step.text, `${userPage}/two-factor`, 'Enable 2FA')).toBe(true);
      expect(result.status).toBe(303);

      const page = await person.get(userPage);
      expect(page.text).toContain('Two-factor authentication is now required for Ed Enable');
      expect(page.text).toMatch(/id="two-factor-state">Pending setup</);
      expect((await t.get(UsersService).getById(member.id)).twoFactorRequired).toBe(true);

      expect((await memberBrowser.get('/')).status).toBe(303);
      const mail = await lastMailTo(t, member.email);
      expect(mail.subject).toBe('Two-factor authentication is now required for your account');
      const events = await t.get(AuditService).recentForUser(member.id);
      expect(events[0]).toMatchObject({ type: 'two_factor.enabled', actorId: admin.id });

      const again = new Person(t.server);
      expect((await again.login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/2fa/setup');
      await again.setUpTwoFactor(t.clock);
      expect((await person.get(userPage)).text).toMatch(/id="two-factor-state">Active</);
    });

    it('changes nothing and sends nothing on the first press alone', async () => {
      const org = 'Enable Org 2';
      const { person } = await adminOf(t, org, 'En Admin');
      const member = await createUser(t, { organizer: org, email: 'enable.unconfirmed@enable.test', twoFactor: false });
      const step = await press(person, `/admin/users/${member.id}`, `/admin/users/${member.id}/two-factor`);
      expect(step.status).toBe(200);
      expect((await t.get(UsersService).getById(member.id)).twoFactorRequired).toBe(false);
      expect(await mailsTo(t, member.email)).toHaveLength(0);
    });
  });

  describe('Disable 2FA', () => {
    it('asks for confirmation, then clears the secret, pending secret, recovery codes and reset links, turns 2FA Off, ends sessions, emails and audits', async () => {
      const org = 'Disable Org';
      const { admin, person } = await adminOf(t, org, 'Dee Admin');
      const member = await createUser(t, {
        organizer: org,
        email: 'disable.me@disable.test',
        name: 'Di Sable',
        twoFactor: true,
      });
      const memberBrowser = new Person(t.server);
      await memberBrowser.login(member.email, DEFAULT_PASSWORD);
      await memberBrowser.setUpTwoFactor(t.clock);
      const userPage = `/admin/users/${member.id}`;

      // A Resend QR link first, so that there is one to cancel.
      await pressAndConfirm(person, userPage, `${userPage}/resend-qr`);
      const resetLink = linkIn(await lastMailTo(t, member.email, /authenticator/i), '/2fa/reset/');
      const phone = new Person(t.server);
      await phone.submit(resetLink, resetLink, { password: DEFAULT_PASSWORD });
      expect((await phone.get('/2fa/setup')).text).toContain('id="manual-key"');
      expect((await totpDevices(t, member.id)).pending).not.toBeNull();

      const { step, result } = await pressAndConfirm(person, userPage, `${userPage}/two-factor`, {
        twoFactor: 'disable',
      });
      expect(step.status).toBe(200);
      expect(step.text).toContain('Disable two-factor authentication for Di Sable');
      expect(result.status).toBe(303);
      expect((await person.get(userPage)).text).toMatch(/id="two-factor-state">Off</);

      const stored = await t.get(UsersService).getById(member.id);
      expect(stored).toMatchObject({ twoFactorRequired: false, secondFactorResetAt: null });
      expect(await totpDevices(t, member.id)).toEqual({ active: null, pending: null });
      expect(await codeFailures(t, member.id)).toBe(0);
      expect(await t.get(DataSource).getRepository(RecoveryCode).countBy({ userId: member.id })).toBe(0);
      expect((await t.get(OneTimeTokensService).latest(member.id, 'totp-reset'))!.status(t.clock.now())).toBe(
        'revoked',
      );
      expect((await new Person(t.server).get(resetLink)).status).toBe(410);
      expect(await t.get(DataSource).getRepository(SessionRecord).countBy({ userId: member.id })).toBe(0);
      expect((await phone.get('/2fa/setup')).status).toBe(303);

      const mail = await lastMailTo(t, member.email);
      expect(mail.subject).toBe('Two-factor authentication was turned off for your account');
      const events = await t.get(AuditService).recentForUser(member.id);
      expect(events[0]).toMatchObject({ type: 'two_factor.disabled', actorId: admin.id });

      // The password alone signs in now.
      expect((await new Person(t.server).login(member.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
    });

    it('refuses to change the admin’s own 2FA, and an unknown choice is a 400', async () => {
      const org = 'Self Org';
      const { admin, person } = await adminOf(t, org, 'Sal Admin');
      const token = csrfFrom((await person.get('/')).text);
      const self = await person.agent
        .post(`/admin/users/${admin.id}/two-factor`)
        .type('form')
        .send({ twoFactor: 'enable', confirm: 'yes', _csrf: token })
        .redirects(0);
      expect(self.status).toBe(303);
      expect((await person.get(`/admin/users/${admin.id}`)).text).toContain(
        'You cannot change your own two-factor authentication here',
      );
      expect((await t.get(UsersService).getById(admin.id)).twoFactorRequired).toBe(false);
      const odd = await person.agent
        .post(`/admin/users/${admin.id}/two-factor`)
        .type('form')
        .send({ twoFactor: 'sideways', confirm: 'yes', _csrf: token })
        .redirects(0);
      expect(odd.status).toBe(400);
    });
  });
});
