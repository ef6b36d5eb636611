import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditEvent } from '../../src/audit/audit-event.entity';
import { AuditType, SECURITY_EVENTS } from '../../src/audit/security-events';
import { Catalogue, MessageValues } from '../../src/i18n/catalogue';
import { formatDate, formatDateTime, timeZoneChoices } from '../../src/i18n/format';
import { Language, LANGUAGES } from '../../src/i18n/languages';
import { Organizer } from '../../src/organizers/organizer.entity';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { parseCsv } from '../utils/csv';
import { langOf, readableText, untranslated } from '../utils/i18n';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';

const catalogue = Catalogue.load();
const PAGE = '/admin/organizer';
const LOG = '/admin/security-log';
const DAY = 24 * 60 * 60 * 1000;
/** The time zones' IANA names are data (the select shows them as they are): "New_York" is no English sentence. */
const ZONES = timeZoneChoices();

/** A detail for each type that has a note (what the app records), so that every note is rendered. */
const DETAILS: Partial<Record<AuditType, object>> = {
  'login.succeeded': { method: 'totp' },
  'login.passkey_failed': { reason: 'ceremony' },
  'login.failed': { pool: 'untrusted' },
  'login.locked': { minutes: 15, pool: 'untrusted' },
  'code.failed': { during: 'setup' },
  'two_factor.setup': { viaResetLink: true },
  'two_factor.enabled': { via: 'command line' },
  'recovery_code.used': { remaining: 7 },
  'session.ended': { device: 'Firefox, Linux' },
  'session.ended_others': { count: 2 },
  'session.ended_all': { count: 1 },
  'mail.failed': { template: 'totp-reset' },
  'organizer.time_zone_changed': { timeZone: 'Europe/Rome', previous: 'UTC' },
};

/**
 * Issue 17, the organizer area: /admin/organizer (each policy state, every message after saving
 * the policy, the passkey settings and the time zone, the errors) and the security log (rows of
 * every event type, the filters and their errors, the chart, the pages, the empty log, the CSV),
 * in each of the five languages: `<html lang>` right, no raw key, no English word left.
 */
describe.each(LANGUAGES.map((language) => [language]))('the organizer area in %s', (lang: Language) => {
  let t: TestApp;
  let admin: User;
  let person: Person;
  const organizer = `Org ${lang}`;
  const names = (...more: string[]) => [organizer, ...ZONES, ...more];
  const text = (key: string, values?: MessageValues) => catalogue.format(lang, key, values);

  const expectPage = (html: string, ...more: string[]) => {
    expect(langOf(html)).toBe(lang);
    expect(untranslated(html, lang, names(admin.name, admin.email, ...more))).toEqual([]);
  };
  /** The flash shown on `path` (the next page), as a person reads it. */
  const flashAt = async (path: string, ...more: string[]) => {
    const page = await person.get(path);
    expectPage(page.text, ...more);
    const flash = /<p class="flash flash-\w+"[^>]*>([\s\S]*?)<\/p>/.exec(page.text)?.[1] ?? '';
    return readableText(flash).trim();
  };
  const savePolicy = (on: boolean, graceDays: string) =>
    person.submit(PAGE, PAGE, { ...(on ? { requireTwoFactor: 'on' } : {}), graceDays });
  const savePasskeys = (fields: Record<string, string>) => person.submit(PAGE, `${PAGE}/passkeys`, fields);
  const saveTimeZone = (timeZone: string) => person.submit(PAGE, `${PAGE}/time-zone`, { timeZone });
  const organizerRow = () => t.get(DataSource).getRepository(Organizer).findOneByOrFail({ id: admin.organizerId });
  const seed = (events: (Partial<AuditEvent> & { type: AuditType; createdAt: Date })[]) =>
    t
      .get(DataSource)
      .getRepository(AuditEvent)
      .save(
        events.map((event) => ({
          id: randomUUID(),
          organizerId: admin.organizerId,
          userId: null,
          actorId: null,
          ip: null,
          detail: null,
          ...event,
        })),
      );

  beforeAll(async () => {
    t = await createTestApp();
    // An admin with an authenticator app: a policy "at their next sign-in" does not stop them.
    admin = await createUser(t, { organizer, role: 'admin', name: `Ada ${lang}`, twoFactor: true });
    await t.get(DataSource).getRepository(User).update({ id: admin.id }, { language: lang });
    person = new Person(t.server);
    await person.login(admin.email, DEFAULT_PASSWORD);
    await person.setUpTwoFactor(t.clock);
  });
  afterAll(async () => t.close());

  it('/admin/organizer in each policy state, with every message after saving the policy', async () => {
    await createUser(t, { organizer, name: `Mo ${lang}`, twoFactor: false });
    const off = await person.get(PAGE);
    expect(off.status).toBe(200);
    expectPage(off.text);
    expect(off.text).toContain(`<title>${text('organizer.title')} · TIXNGO Backoffice</title>`);

    // On, with a grace period: the users without an authenticator get a deadline (a date in the language).
    const now = t.clock.nowMs();
    expect((await savePolicy(true, '7')).status).toBe(303);
    const by = formatDateTime(now + 7 * DAY, lang, 'UTC');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.onWithin', { users: 1, days: 7, by }));
    const on = await person.get(PAGE);
    expectPage(on.text);
    expect(on.text).toContain(text('organizer.lastChanged', { at: formatDateTime(now, lang, 'UTC'), by: admin.name }));

    await savePolicy(true, '7');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.unchanged'));
    await savePolicy(true, '3');
    expect(await flashAt(PAGE)).toBe(
      text('organizer.policy.shortened', { days: 3, deadlines: 1, by: formatDateTime(now + 3 * DAY, lang, 'UTC') }),
    );
    await savePolicy(true, '10');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.lengthened', { days: 10 }));
    await savePolicy(true, '0');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.shortenedToNow', { days: 0, deadlines: 1 }));
    await savePolicy(false, '0');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.off', { deadlines: 1 }));
    await savePolicy(false, '1');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.graceSaved', { days: 1 }));
    await savePolicy(true, '0');
    expect(await flashAt(PAGE)).toBe(text('organizer.policy.onNextSignIn', { users: 1 }));
    await savePolicy(false, '1');

    // Bad input: the form again with the message (400).
    for (const [graceDays, key] of [
      ['abc', 'organizer.graceDaysRange'],
      ['', 'organizer.graceDaysEmpty'],
      ['31', 'organizer.graceDaysRange'],
    ]) {
      const bad = await savePolicy(true, graceDays);
      expect(bad.status).toBe(400);
      expectPage(bad.text);
      expect(readableText(bad.text)).toContain(text(key));
    }
  });

  it('the passkey settings: saved, nothing changed, refused', async () => {
    await savePasskeys({ allowPasskeySignIn: 'on', requireAdminPasskey: 'on', adminPasskeyGraceDays: '5' });
    expect(await flashAt(PAGE)).toBe(text('organizer.passkeys.saved'));
    await savePasskeys({ allowPasskeySignIn: 'on', requireAdminPasskey: 'on', adminPasskeyGraceDays: '5' });
    expect(await flashAt(PAGE)).toBe(text('organizer.passkeys.unchanged'));
    await savePasskeys({ adminPasskeyGraceDays: '99' });
    expect(await flashAt(PAGE)).toBe(
      text('organizer.passkeys.refused', { reason: text('twoFactor.policy.graceRange', { max: 30 }) }),
    );
    // Back to no passkey rule: the admin's pages stay reachable.
    await savePasskeys({ adminPasskeyGraceDays: '0' });
    expect(await flashAt(PAGE)).toBe(text('organizer.passkeys.saved'));
  });

  it('the time zone: saved (audited, then every time in it), nothing changed, a zone that is none (400)', async () => {
    const page = await person.get(PAGE);
    expect(page.text).toMatch(/<select id="timeZone" name="timeZone"/);
    expect(page.text).toContain('<option value="UTC" selected>UTC</option>');

    const bad = await saveTimeZone('Mars/Olympus_Mons');
    expect(bad.status).toBe(400);
    expectPage(bad.text);
    expect(readableText(bad.text)).toContain(text('organizer.timeZone.invalid'));
    expect((await organizerRow()).timeZone).toBe('UTC');

    expect((await saveTimeZone('Europe/Paris')).status).toBe(303);
    expect(await flashAt(PAGE)).toBe(text('organizer.timeZone.saved', { zone: 'Europe/Paris' }));
    expect((await organizerRow()).timeZone).toBe('Europe/Paris');
    await saveTimeZone('Europe/Paris');
    expect(await flashAt(PAGE)).toBe(text('organizer.timeZone.unchanged', { zone: 'Europe/Paris' }));
    const after = await person.get(PAGE);
    expect(after.text).toContain('<option value="Europe/Paris" selected>Europe/Paris</option>');

    const events = await t
      .get(DataSource)
      .getRepository(AuditEvent)
      .findBy({ organizerId: admin.organizerId, type: 'organizer.time_zone_changed' });
    expect(events).toHaveLength(1);
    expect(events[0].actorId).toBe(admin.id);
    expect(JSON.parse(events[0].detail!)).toEqual({ timeZone: 'Europe/Paris', previous: 'UTC' });

    // The log shows it, its times in the organizer's zone (the date filters stay UTC days).
    const log = await person.get(`${LOG}?kind=organizer.time_zone_changed`);
    expectPage(log.text);
    expect(log.text).toContain(text('audit.event.organizerTimeZoneChanged'));
    expect(log.text).toContain(formatDateTime(events[0].createdAt, lang, 'Europe/Paris'));
    expect(formatDateTime(events[0].createdAt, lang, 'Europe/Paris')).not.toBe(
      formatDateTime(events[0].createdAt, lang, 'UTC'),
    );
    // And the organizer page's "Last changed".
    expect(after.text).toContain(formatDateTime((await lastPolicyChange()).createdAt, lang, 'Europe/Paris'));
    await saveTimeZone('UTC');
  });

  async function lastPolicyChange(): Promise<AuditEvent> {
    const [event] = await t
      .get(DataSource)
      .getRepository(AuditEvent)
      .find({
        where: { organizerId: admin.organizerId, type: 'organizer.policy_changed' },
        order: { createdAt: 'DESC' },
        take: 1,
      });
    return event;
  }

  it('the security log: rows of every event type, the filters, their errors, the chart, the pages, the CSV', async () => {
    const member = await createUser(t, { organizer, name: `Lu ${lang}`, email: `lu-${lang}@log.test` });
    const at = new Date(t.clock.nowMs() - DAY);
    const types = Object.keys(SECURITY_EVENTS) as AuditType[];
    await seed(
      types.map((type, index) => ({
        type,
        userId: member.id,
        // An admin of the organizer (named), one the page cannot name, or no one (the person, or the command line).
        actorId:
          DETAILS[type] && 'via' in DETAILS[type]
            ? null
            : index % 3 === 0
              ? admin.id
              : index % 3 === 1
                ? randomUUID()
                : null,
        createdAt: new Date(at.getTime() + index * 1000),
        ip: `10.9.0.${index}`,
        detail: DETAILS[type] ? JSON.stringify(DETAILS[type]) : null,
      })),
    );
    const extra = [member.name, member.email, 'ceremony', 'Firefox, Linux', 'Europe/Rome'];
    const page = await person.get(LOG);
    expect(page.status).toBe(200);
    expectPage(page.text, ...extra);
    for (const type of types) expect(page.text).toContain(text(SECURITY_EVENTS[type].label));
    expect(page.text).toContain(text('audit.by.admin'));
    expect(page.text).toContain(text('audit.by.commandLine'));
    expect(page.text).toContain(text('securityLog.byTheUser'));
    expect(page.text).toContain(text('audit.note.method.totp'));
    expect(page.text).toContain(text('audit.note.mail.totpReset'));
    expect(page.text).toContain(text('audit.note.sessionsEnded', { count: 2 }));
    expect(page.text).toContain(`<desc id="chart-desc">`);
    expect(page.text).toContain(
      `<title id="chart-title">${text('securityLog.chart.title')}</title>`.replace(/'/g, '&#x27;'),
    );

    // Filters: a group, one kind, a person, days; each shows the events it selects with its caption.
    for (const query of [
      'kind=failed-sign-ins',
      'kind=password.changed',
      `person=${encodeURIComponent(member.email)}`,
      'from=2020-01-01&to=2099-12-31',
      'from=2020-01-01',
      'to=2099-12-31',
      'kind=locks&from=2099-01-01',
    ]) {
      const filtered = await person.get(`${LOG}?${query}`);
      expect({ query, status: filtered.status }).toEqual({ query, status: 200 });
      expectPage(filtered.text, ...extra);
    }
    const none = await person.get(`${LOG}?kind=locks&from=2099-01-01`);
    expect(none.text).toContain(text('securityLog.empty.noMatch'));

    // Their errors: the page with the messages (400), and the same for the CSV (nothing sent).
    for (const [query, key, values] of [
      ['person=nobody%40nowhere.test', 'securityLog.error.noSuchEmail', { email: 'nobody@nowhere.test' }],
      [`user=${randomUUID()}`, 'securityLog.error.notInOrganizer', {}],
      ['kind=everything', 'securityLog.error.kind', {}],
      ['from=2026-02-30', 'securityLog.error.fromNotDate', { value: '2026-02-30' }],
      ['to=tomorrow', 'securityLog.error.toNotDate', { value: 'tomorrow' }],
      ['from=2026-01-02&to=2026-01-01', 'securityLog.error.toBeforeFrom', {}],
      ['before=forged', 'securityLog.error.cursor', {}],
    ] as [string, string, MessageValues][]) {
      const wrong = await person.get(`${LOG}?${query}`);
      expect({ query, status: wrong.status }).toEqual({ query, status: 400 });
      expectPage(wrong.text, 'nobody@nowhere.test', 'tomorrow');
      expect(readableText(wrong.text)).toContain(text(key, values));
      if (!query.startsWith('before')) {
        const csv = await person.get(`${LOG}/export.csv?${query}`);
        expect({ query, status: csv.status }).toEqual({ query, status: 400 });
        expect(csv.headers['content-disposition']).toBeUndefined();
        expectPage(csv.text, 'nobody@nowhere.test', 'tomorrow');
      }
    }

    // Pages: Older, then the older events' caption, then Newest.
    await seed(
      Array.from({ length: 60 }, (_, index) => ({
        type: 'login.failed' as const,
        userId: member.id,
        createdAt: new Date(at.getTime() - (index + 1) * 60_000),
        detail: JSON.stringify({ pool: 'untrusted' }),
      })),
    );
    const first = await person.get(`${LOG}?kind=login.failed`);
    expectPage(first.text, ...extra);
    const older = /href="([^"]+)" rel="next"/
      .exec(first.text)![1]
      .replace(/&amp;/g, '&')
      .replace(/&#x3D;/g, '=');
    const second = await person.get(older);
    expectPage(second.text, ...extra);
    expect(second.text).toContain(text('securityLog.pages.newest'));
    expect(second.text).toContain(
      text('securityLog.summaryOlder', {
        summary: text('securityLog.summary', {
          person: 'none',
          kind: 'yes',
          kindLabel: text('audit.event.loginFailed'),
          dates: 'none',
        }),
      }).replace(/'/g, '&#x27;'),
    );

    // The CSV: headers and words in the admin's language, times ISO 8601.
    const csv = await person.get(`${LOG}/export.csv`);
    expect(csv.status).toBe(200);
    const rows = parseCsv(csv.text);
    expect(rows[0]).toEqual(
      ['time', 'person', 'email', 'event', 'note', 'by', 'clientAddress'].map((column) =>
        text(`securityLog.col.${column}`),
      ),
    );
    expect(rows.slice(1).every((row) => /^\d{4}-\d\d-\d\dT/.test(row[0]))).toBe(true);
    expect(rows.some((row) => row[3] === text('audit.event.passwordChanged'))).toBe(true);
    expect(untranslated(csv.text, lang, names(admin.name, admin.email, ...extra))).toEqual([]);
  });

  it('the security log of an organizer with no event yet', async () => {
    await t.get(DataSource).getRepository(AuditEvent).delete({ organizerId: admin.organizerId });
    const empty = await person.get(LOG);
    expect(empty.status).toBe(200);
    expectPage(empty.text);
    expect(empty.text).toContain(text('securityLog.empty.none'));
    const today = Math.floor(t.clock.nowMs() / DAY) * DAY;
    const description = text('securityLog.chart.descriptionEmpty', {
      from: formatDate(today - 29 * DAY, lang, 'UTC'),
      to: formatDate(today, lang, 'UTC'),
      totals: text('securityLog.chart.totals', { signIns: 0, failed: 0, locks: 0 }),
    });
    expect(readableText(/<desc id="chart-desc">([\s\S]*?)<\/desc>/.exec(empty.text)![1])).toBe(description);
  });
});
