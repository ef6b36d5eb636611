import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AuditService } from '../../src/audit/audit.service';
import { UsersService } from '../../src/users/users.service';
import { manualKeyFrom, Person } from '../utils/agent';
import { adminOf, pressAndConfirm } from '../utils/admin';
import { deliverMail, linkIn, secretsIn, startSmtpServer, TestSmtpServer } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { totpDevices } from '../utils/factors';
import { formatDateTime } from '../../src/i18n/format';

/** An instant as the pages show it (the datetime helper, English, the organizer's UTC): Jan 15, 2026, 09:01 AM UTC. */
const minute = (ms: number) => formatDateTime(ms, 'en', 'UTC');

describe('mail over real SMTP (SMTP_URL)', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Backoffice Test <robot@backoffice.test>' } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });
  afterEach(() => smtp.refuse(false));

  /** What reached the SMTP server for `email`, once the outbox has delivered what is due. */
  const to = async (email: string) => {
    await deliverMail(t);
    return smtp.received.filter((mail) => mail.to.includes(email));
  };

  it('sends the invitation over SMTP: recipient, sender, subject, the link in text and HTML, no secret or image, and no .eml outbox', async () => {
    const { person } = await adminOf(t, 'Smtp Org', 'Sid Admin');
    const created = await person.submit('/admin/users/new', '/admin/users', {
      email: 'invitee@smtp.test',
      name: 'Ivo Invitee',
      role: 'member',
      twoFactor: 'on',
    });
    expect(created.status).toBe(303);

    const [mail] = await to('invitee@smtp.test');
    expect(mail).toBeDefined();
    expect(mail.to).toEqual(['invitee@smtp.test']);
    expect(mail.from).toBe('"Backoffice Test" <robot@backoffice.test>');
    expect(mail.subject).toBe('You are invited to TIXNGO Backoffice');
    expect(mail.text).toContain('Hello Ivo Invitee');
    expect(mail.html).toContain('<p>Hello Ivo Invitee,</p>');
    const link = linkIn(mail, '/invitations/');
    expect(secretsIn(mail)).toEqual([]);
    expect(existsSync(join(t.dataDir, 'mail')) ? readdirSync(join(t.dataDir, 'mail')) : []).toEqual([]);

    // The link works.
    const invitee = new Person(t.server);
    expect((await invitee.get(link)).status).toBe(200);
  });

  it('sends the Resend QR email over SMTP with the link and no otpauth URI, base32 secret or image', async () => {
    const org = 'Smtp Reset Org';
    const { person } = await adminOf(t, org, 'Rex Admin');
    const member = await createUser(t, {
      organizer: org,
      email: 'reset.me@smtp.test',
      name: 'Rosa Reset',
      twoFactor: true,
    });
    const browser = new Person(t.server);
    await browser.login(member.email, DEFAULT_PASSWORD);
    const { secret } = await browser.setUpTwoFactor(t.clock);

    const userPage = `/admin/users/${member.id}`;
    const { result } = await pressAndConfirm(person, userPage, `${userPage}/resend-qr`);
    expect(result.status).toBe(303);
    expect((await person.get(userPage)).text).toContain(
      'an email with a link valid 24 hours is queued for reset.me@smtp.test',
    );

    const mail = (await to(member.email)).find(
      (received) => received.subject === 'Set up your authenticator app again',
    )!;
    expect(mail).toBeDefined();
    expect(mail.to).toEqual(['reset.me@smtp.test']);
    expect(mail.attachments).toEqual([]);
    expect(secretsIn(mail, [secret])).toEqual([]);
    const link = linkIn(mail, '/2fa/reset/');

    // The link leads to a new secret, which is in no email either.
    const phone = new Person(t.server);
    await phone.submit(link, link, { password: DEFAULT_PASSWORD });
    const fresh = manualKeyFrom((await phone.get('/2fa/setup')).text);
    for (const received of await to(member.email)) expect(secretsIn(received, [fresh, secret])).toEqual([]);
    // The setup email (two-factor-setup) also went over SMTP when 2FA was first set up.
    expect((await to(member.email)).map((received) => received.subject)).toContain(
      'Two-factor authentication is set up',
    );
  });

  it.each(['rcpt', 'data'] as const)(
    'when the SMTP server refuses the message (%s): Resend QR stands, the page says the email is queued, shows the refusal and the next try, and the email arrives once the server accepts',
    async (mode) => {
      const org = `Smtp Refusing Org ${mode}`;
      const { person } = await adminOf(t, org, 'Ria Admin');
      const member = await createUser(t, {
        organizer: org,
        email: `refused.${mode}@smtp.test`,
        name: 'Rob Refused',
        twoFactor: true,
      });
      const browser = new Person(t.server);
      await browser.login(member.email, DEFAULT_PASSWORD);
      await browser.setUpTwoFactor(t.clock);
      await deliverMail(t);
      const received = smtp.received.length;

      smtp.refuse(mode);
      const userPage = `/admin/users/${member.id}`;
      const { result } = await pressAndConfirm(person, userPage, `${userPage}/resend-qr`);
      expect(result.status).toBe(303);
      expect(result.headers.location).toBe(userPage);
      await deliverMail(t);

      const page = await person.get(userPage);
      expect(page.status).toBe(200);
      expect(page.text).toContain(`an email with a link valid 24 hours is queued for ${member.email}`);
      expect(page.text).toMatch(/class="flash flash-success"/);
      expect(page.text).toMatch(/id="two-factor-state">Pending setup</);
      // The Emails table: the refusal and when the next try is (1 minute later).
      expect(page.text).toMatch(
        new RegExp(
          `Set up your authenticator app again</td>\\s*<td class="email-retrying">Retrying, next try ${minute(t.clock.nowMs() + 60_000)} \\(attempt 1: [^)]*${mode === 'rcpt' ? '550' : '554'}`,
        ),
      );

      const stored = await t.get(UsersService).getById(member.id);
      expect((await totpDevices(t, member.id)).active).toBeNull();
      expect(stored.secondFactorResetAt).not.toBeNull();
      expect((await browser.get('/')).status).toBe(303);
      expect(smtp.received.length).toBe(received);
      // Not given up on: no mail.failed within the 24 hours.
      const events = await t.get(AuditService).recentForUser(member.id);
      expect(events.map((event) => event.type)).not.toContain('mail.failed');
      expect(events.map((event) => event.type)).toContain('two_factor.reset');

      // The server accepts again: at the next try the same email arrives, once, with a working link.
      smtp.refuse(false);
      t.clock.advance(60_000);
      const mails = (await to(member.email)).filter((m) => m.subject === 'Set up your authenticator app again');
      expect(mails).toHaveLength(1);
      expect((await new Person(t.server).get(linkIn(mails[0], '/2fa/reset/'))).status).toBe(200);
      expect((await person.get(userPage)).text).toContain(
        `<td class="email-sent">Sent ${minute(t.clock.nowMs())}</td>`,
      );
    },
  );

  it('when the invitation cannot be sent yet: the account exists, the page says it is queued, and it arrives at the next try', async () => {
    const { person } = await adminOf(t, 'Smtp Invite Fail Org', 'Ina Admin');
    smtp.refuse('rcpt');
    const created = await person.submit('/admin/users/new', '/admin/users', {
      email: 'unlucky@smtp.test',
      name: 'Una Lucky',
      role: 'member',
      twoFactor: 'on',
    });
    expect(created.status).toBe(303);
    const user = (await t.get(UsersService).findByEmail('unlucky@smtp.test'))!;
    expect(user).not.toBeNull();
    await deliverMail(t);
    const page = await person.get(created.headers.location);
    expect(page.text).toContain('An invitation to choose a password, valid 72 hours, is queued for unlucky@smtp.test');
    expect(page.text).toMatch(/class="email-retrying">Retrying, next try [^<]*\(attempt 1: [^<]*550/);
    expect(await to('unlucky@smtp.test')).toEqual([]);

    smtp.refuse(false);
    t.clock.advance(60_000);
    const [mail, ...more] = await to('unlucky@smtp.test');
    expect(more).toEqual([]);
    expect(mail.subject).toBe('You are invited to TIXNGO Backoffice');
    expect((await new Person(t.server).get(linkIn(mail, '/invitations/'))).status).toBe(200);
  });
});
