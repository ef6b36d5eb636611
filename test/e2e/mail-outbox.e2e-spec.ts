import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { AuditService } from '../../src/audit/audit.service';
import { KeyRing } from '../../src/common/crypto/key-ring';
import { MailService } from '../../src/mail/mail.service';
import { OutboxMessage } from '../../src/mail/outbox-message.entity';
import { OutboxWorker } from '../../src/mail/outbox.worker';
import { MetricsService } from '../../src/operations/metrics.service';
import { SecurityNoticesService } from '../../src/users/security-notices.service';
import { UsersService } from '../../src/users/users.service';
import { Person } from '../utils/agent';
import { adminOf, pressAndConfirm, signedIn } from '../utils/admin';
import { deliverMail, linkIn, mailsTo, startSmtpServer, TestSmtpServer } from '../utils/mail';
import { createTestApp, createUser, TestApp } from '../utils/test-app';
import { formatDateTime } from '../../src/i18n/format';

const MINUTE = 60_000;
const TEST_FAR_FUTURE = Date.UTC(2030, 0, 1);
const RESET_SUBJECT = 'Set up your authenticator app again';

/** An instant as the pages show it (the datetime helper, English, the organizer's UTC): Jan 15, 2026, 09:01 AM UTC. */
const minute = (at: Date | number) => formatDateTime(at, 'en', 'UTC');

function rows(t: TestApp) {
  return t.get(DataSource).getRepository(OutboxMessage);
}

/** The outbox rows to one address, oldest first. */
function rowsTo(t: TestApp, to: string): Promise<OutboxMessage[]> {
  return rows(t).find({ where: { toAddress: to }, order: { createdAt: 'ASC', id: 'ASC' } });
}

describe('the mail outbox (issue 15): every email queued with its action, delivered by the worker', () => {
  let smtp: TestSmtpServer;
  let t: TestApp;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ env: { SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await t.close();
    await smtp.close();
  });
  afterEach(async () => {
    smtp.stall(false);
    smtp.cutStalled();
    smtp.refuse(false);
  });

  const arrived = (email: string) => smtp.received.filter((mail) => mail.to.includes(email));

  /** An admin and `count` members with a password and 2FA required (Resend QR applies to them). */
  async function organizerWith(name: string, count: number) {
    const { person, admin } = await adminOf(t, name, `${name} Admin`);
    const members = [];
    for (let i = 0; i < count; i++)
      members.push(
        await createUser(t, { organizer: name, email: `m${i}@${name.replace(/\W/g, '').toLowerCase()}.test` }),
      );
    return { person, admin, members };
  }

  async function resendQr(person: Person, userId: string) {
    const userPage = `/admin/users/${userId}`;
    const started = performance.now();
    const { result } = await pressAndConfirm(person, userPage, `${userPage}/resend-qr`);
    return { result, ms: performance.now() - started };
  }

  it('a stalled, then refusing mail server: Resend QR answers at once without talking to it; once it accepts, each email arrives exactly once with its Message-ID', async () => {
    const { person, members } = await organizerWith('Outage Org', 3);
    await deliverMail(t);
    const before = smtp.connections();

    // The server accepts connections and never answers.
    smtp.stall(true);
    const first = await resendQr(person, members[0].id);
    expect(first.result.status).toBe(303);
    // The worker took the first email and is stuck waiting for the greeting...
    await smtp.connected(before + 1);
    // ...while the next two actions answer, and no request opens a connection of its own.
    const others = [await resendQr(person, members[1].id), await resendQr(person, members[2].id)];
    for (const other of others) expect(other.result.status).toBe(303);
    expect(smtp.connections()).toBe(before + 1);
    const times = [first, ...others].map((answer) => Math.round(answer.ms));
    console.log(
      `Resend QR with a stalled SMTP server: ${times.join(', ')} ms (transport timeouts: 10 s + 10 s + 20 s)`,
    );
    // Far below the 10 s greeting timeout a request waiting for the server would have hit.
    for (const ms of times) expect(ms).toBeLessThan(5000);

    const page = await person.get(`/admin/users/${members[2].id}`);
    expect(page.text).toContain(`an email with a link valid 24 hours is queued for ${members[2].email}`);
    expect(page.text).not.toMatch(/was emailed|was sent/);
    expect(page.text).toMatch(new RegExp(`${RESET_SUBJECT}</td>\\s*<td class="email-queued">Queued</td>`));

    // The server now says "try again later" (421); the stalled connection is cut.
    smtp.stall(false);
    smtp.refuse('connect');
    smtp.cutStalled();
    await deliverMail(t);
    for (const member of members) {
      const [row] = (await rowsTo(t, member.email)).filter((r) => r.subject === RESET_SUBJECT);
      expect(row).toMatchObject({ state: 'queued', attempts: 1 });
      expect(row.nextAttemptAt.getTime()).toBe(t.clock.nowMs() + MINUTE);
      expect(arrived(member.email)).toEqual([]);
    }
    const retrying = await person.get(`/admin/users/${members[2].id}`);
    expect(retrying.text).toMatch(
      new RegExp(`email-retrying">Retrying, next try ${minute(t.clock.nowMs() + MINUTE)} \\(attempt 1: [^<]*421`),
    );

    // Not due yet: draining now tries nothing.
    const connections = smtp.connections();
    await deliverMail(t);
    expect(smtp.connections()).toBe(connections);

    // The server is back; a minute later each email arrives, once, with the row's Message-ID.
    smtp.refuse(false);
    t.clock.advance(MINUTE);
    await deliverMail(t);
    t.clock.advance(60 * MINUTE);
    await deliverMail(t);
    for (const member of members) {
      const mails = arrived(member.email);
      expect(mails.map((mail) => mail.subject)).toEqual([RESET_SUBJECT]);
      const [row] = await rowsTo(t, member.email);
      expect(mails[0].messageId).toBe(row.messageId);
      expect(row.messageId).toMatch(/^<[0-9a-f-]{36}@localhost>$/);
      expect(row).toMatchObject({ state: 'sent', attempts: 1, bodySealed: null });
      expect((await new Person(t.server).get(linkIn(mails[0], '/2fa/reset/'))).status).toBe(200);
    }
    expect(new Set(smtp.received.map((mail) => mail.messageId)).size).toBe(smtp.received.length);
  });

  it('retries after 1 min, 5 min, 30 min, 2 h, 12 h and at 24 h, then marks it failed, audits mail.failed and shows it', async () => {
    const { person, admin, members } = await organizerWith('Retry Org', 1);
    const [member] = members;
    await deliverMail(t);
    smtp.refuse('rcpt');
    const { result } = await resendQr(person, member.id);
    expect(result.status).toBe(303);
    const queuedAt = t.clock.nowMs();

    const tries: number[] = [];
    for (let i = 0; i < 10; i++) {
      await deliverMail(t);
      const [row] = await rowsTo(t, member.email);
      if (row.state !== 'queued') break;
      // Just before the next try nothing happens.
      t.clock.set(row.nextAttemptAt.getTime() - 1);
      await deliverMail(t);
      expect((await rowsTo(t, member.email))[0].attempts).toBe(row.attempts);
      t.clock.set(row.nextAttemptAt);
      tries.push((row.nextAttemptAt.getTime() - queuedAt) / MINUTE);
    }
    // Minutes after queueing: 1, 1+5, 6+30, 36+120, 156+720, and the last at 24 h.
    expect(tries).toEqual([1, 6, 36, 156, 876, 1440]);

    const [row] = await rowsTo(t, member.email);
    expect(row).toMatchObject({ state: 'failed', attempts: 7, bodySealed: null, sentAt: null });
    expect(row.failedAt!.getTime()).toBe(queuedAt + 24 * 60 * MINUTE);
    expect(row.lastError).toMatch(/550/);
    expect(arrived(member.email)).toEqual([]);

    const failed = (await t.get(AuditService).recentForUser(member.id)).filter((e) => e.type === 'mail.failed');
    expect(failed).toHaveLength(1);
    const detail = JSON.parse(failed[0].detail!);
    expect(detail).toEqual({ template: 'totp-reset', error: row.lastError });
    expect(failed[0].detail).not.toContain('/2fa/reset/');
    // The metrics count it (issue 15, Operations: outbox depth and failures).
    expect(await t.get(MailService).countsByState()).toMatchObject({ failed: 1 });
    const scrape = (await t.get(MetricsService).scrape()).body;
    expect(scrape).toMatch(/^tixngo_outbox_failures_total 1$/m);
    expect(scrape).toMatch(/^tixngo_outbox_messages\{state="failed"\} 1$/m);

    // A day later the admin signs in again (sessions last 12 hours at most).
    const page = await (await signedIn(t, admin)).get(`/admin/users/${member.id}`);
    expect(page.text).toMatch(
      new RegExp(`email-failed"><strong>Failed ${minute(row.failedAt!)}</strong>: [^<]*550 Mailbox unavailable`),
    );
    expect(page.text).toContain('Email could not be sent');

    // A failed email is never tried again.
    smtp.refuse(false);
    t.clock.advance(48 * 60 * MINUTE);
    await deliverMail(t);
    expect(arrived(member.email)).toEqual([]);
  });

  it('an email queued in a transaction that rolls back is never sent', async () => {
    const user = await createUser(t, { organizer: 'Rollback Org', email: 'rolled.back@outbox.test' });
    await deliverMail(t);
    const connections = smtp.connections();
    let draining: Promise<void> = Promise.resolve();
    await expect(
      t.get(UsersService).transaction(async (manager) => {
        await t.get(SecurityNoticesService).send(user, 'account.unlocked', { adminName: 'Nobody' }, null, manager);
        expect(await manager.getRepository(OutboxMessage).countBy({ toAddress: user.email })).toBe(1);
        // The worker runs while the transaction is open (on SQLite, on the same connection): it must
        // not see the uncommitted email.
        draining = t.get(OutboxWorker).drain();
        throw new Error('the action failed');
      }),
    ).rejects.toThrow('the action failed');
    await draining;
    await deliverMail(t);
    expect(await rowsTo(t, user.email)).toEqual([]);
    expect(arrived(user.email)).toEqual([]);
    expect(smtp.connections()).toBe(connections);
  });

  it('the body is encrypted at rest, bound to its row, and erased once sent; subject and recipient stay for the admin page', async () => {
    const { person, members } = await organizerWith('Sealed Org', 1);
    const [member] = members;
    await deliverMail(t);
    smtp.refuse('connect');
    await resendQr(person, member.id);
    await deliverMail(t);

    const [row] = await rowsTo(t, member.email);
    expect(row.state).toBe('queued');
    const sealed = row.bodySealed!;
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toMatch(/2fa\/reset|not-me|Hello|authenticator/i);
    const body = JSON.parse(t.get(KeyRing).decrypt(sealed, `outbox:${row.id}`));
    expect(body.text).toContain('/2fa/reset/');
    // Moved to another row, it does not open.
    expect(() => t.get(KeyRing).decrypt(sealed, `outbox:${row.id.replace(/.$/, '0')}x`)).toThrow();

    smtp.refuse(false);
    t.clock.advance(MINUTE);
    await deliverMail(t);
    const [sent] = await rowsTo(t, member.email);
    expect(sent).toMatchObject({ state: 'sent', bodySealed: null, subject: RESET_SUBJECT, toAddress: member.email });
    expect(sent.sentAt!.getTime()).toBe(t.clock.nowMs());
    const [mail] = arrived(member.email);
    expect(linkIn(mail, '/2fa/reset/')).toBe(body.text.match(/http:\/\/localhost:3000(\/2fa\/reset\/[\w-]+)/)[1]);
  });

  it('a link in a queued email keeps the expiry it got when it was made (24 h for Resend QR), however late the email leaves', async () => {
    const { person, members } = await organizerWith('Expiry Org', 2);
    await deliverMail(t);
    smtp.refuse('connect');
    for (const member of members) await resendQr(person, member.id);
    await deliverMail(t);

    // The server is down for 23 h 30 min.
    smtp.refuse(false);
    t.clock.advance(23 * 60 * MINUTE + 30 * MINUTE);
    await deliverMail(t);
    const [early, late] = members.map((member) => linkIn(arrived(member.email)[0], '/2fa/reset/'));
    // Half an hour left on each link: the first is used in time, the second after 24 h.
    expect((await new Person(t.server).get(early)).status).toBe(200);
    t.clock.advance(31 * MINUTE);
    const expired = await new Person(t.server).get(late);
    expect(expired.text).toMatch(/expired/i);
  });

  it('the Emails table shows only that user’s emails; another organizer’s user page is a 404', async () => {
    const { person, members } = await organizerWith('Own Org', 1);
    const other = await organizerWith('Other Org', 1);
    await resendQr(other.person, other.members[0].id);
    await deliverMail(t);
    const page = await person.get(`/admin/users/${members[0].id}`);
    expect(page.text).not.toContain(RESET_SUBJECT);
    expect((await person.get(`/admin/users/${other.members[0].id}`)).status).toBe(404);
  });

  it('prune() deletes sent and failed emails queued more than 30 days ago, and keeps recent and queued ones', async () => {
    const user = await createUser(t, { organizer: 'Prune Org', email: 'old.mail@outbox.test' });
    const mail = t.get(MailService);
    // Subjects are message keys (issue 17): each email is told apart by the value in its subject.
    const queue = (label: string) =>
      mail.queue({
        to: user.email,
        subject: 'mail.notMeAlert.subject',
        subjectValues: { email: label },
        template: 'account-unlocked',
        context: {},
        userId: user.id,
      });
    const subjectOf = (label: string) => `Security report: ${label} says a change was not theirs`;
    const [, failed, queued] = [await queue('Old sent'), await queue('Old failed'), await queue('Old queued')];
    await deliverMail(t);
    await rows(t).update({ id: failed.id }, { state: 'failed' });
    await rows(t).update({ id: queued.id }, { state: 'queued', nextAttemptAt: new Date(TEST_FAR_FUTURE) });
    t.clock.advance(31 * 24 * 60 * MINUTE);
    await queue('Recent sent');
    await deliverMail(t);
    // (Other tests' emails are older than 30 days by now too.)
    expect(await mail.prune()).toBeGreaterThanOrEqual(2);
    expect((await rowsTo(t, user.email)).map((row) => row.subject)).toEqual([
      subjectOf('Old queued'),
      subjectOf('Recent sent'),
    ]);
  });
});

describe('the .eml mode (no SMTP_URL) goes through the same outbox', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('queues, then the worker writes the file with the row’s Message-ID and marks it sent', async () => {
    const { person } = await adminOf(t, 'Eml Org', 'Eve Admin');
    const created = await person.submit('/admin/users/new', '/admin/users', {
      email: 'eml.invitee@outbox.test',
      name: 'Emil Invitee',
      role: 'member',
      twoFactor: 'on',
    });
    expect(created.status).toBe(303);
    const [mail, ...more] = await mailsTo(t, 'eml.invitee@outbox.test');
    expect(more).toEqual([]);
    const [row] = await rowsTo(t, 'eml.invitee@outbox.test');
    expect(row).toMatchObject({ state: 'sent', bodySealed: null, template: 'invitation' });
    expect(mail.messageId).toBe(row.messageId);
    const dir = join(t.dataDir, 'mail');
    expect(existsSync(dir)).toBe(true);
    const files = readdirSync(dir).filter((name) => name.endsWith('.eml'));
    expect(files.some((name) => readFileSync(join(dir, name), 'utf8').includes(`Message-ID: ${row.messageId}`))).toBe(
      true,
    );
    // Draining again sends nothing twice.
    await t.get(OutboxWorker).drain();
    expect(await mailsTo(t, 'eml.invitee@outbox.test')).toHaveLength(1);
  });
});
