import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditEvent, AuditType } from '../../src/audit/audit-event.entity';
import { CSV_BATCH, EVENTS_PER_PAGE } from '../../src/admin/security-log/security-log.service';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { chartNumbers } from '../utils/security-log';
import { adminOf, hrefsIn, signedIn } from '../utils/admin';
import { parseCsv } from '../utils/csv';
import { createTestApp, createUser, TestApp } from '../utils/test-app';

const DAY = 86_400_000;

/** The rows of the log's table as a reader sees them: time (ISO), person, event, by, client address. */
function logRows(html: string) {
  const table = /<table id="security-events">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => {
    const cells = [...row[1].matchAll(/<td>([\s\S]*?)<\/td>/g)].map((cell) => textOf(cell[1]));
    return {
      iso: /datetime="([^"]+)"/.exec(row[1])![1],
      person: cells[1],
      event: cells[2],
      by: cells[3],
      ip: cells[4],
    };
  });
}

function textOf(html: string): string {
  return decode(html.replace(/<[^>]+>/g, ' '))
    .replace(/\s+/g, ' ')
    .trim();
}

function decode(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x3D;/g, '=')
    .replace(/&#x60;/g, '`')
    .replace(/&amp;/g, '&');
}

function linkNamed(html: string, rel: string): string | undefined {
  const match = new RegExp(`<a href="([^"]*)" rel="${rel}">`).exec(html);
  return match ? decode(match[1]) : undefined;
}

describe('the security log (GET /admin/security-log, issue 14)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** Events written straight through the repository (many rows, exact instants). */
  async function seed(events: (Partial<AuditEvent> & { type: AuditType; createdAt: Date })[]): Promise<AuditEvent[]> {
    const repository = t.get(DataSource).getRepository(AuditEvent);
    const rows = events.map((event) =>
      repository.create({
        id: randomUUID(),
        organizerId: null,
        userId: null,
        actorId: null,
        ip: null,
        detail: null,
        ...event,
      }),
    );
    for (let i = 0; i < rows.length; i += 200) await repository.insert(rows.slice(i, i + 200));
    return rows;
  }

  /** The order the log promises: newest first, ties broken by id (descending). */
  const newestFirst = (a: AuditEvent, b: AuditEvent) =>
    b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  describe('who sees what', () => {
    let admin: User;
    let person: Person;
    let member: User;
    let other: { admin: User; person: Person; member: User };

    beforeAll(async () => {
      ({ admin, person } = await adminOf(t, 'Log Org A', 'Ada Admin'));
      member = await createUser(t, {
        organizer: 'Log Org A',
        name: 'Mia Member',
        email: 'mia@log-a.test',
        twoFactor: false,
      });
      const b = await adminOf(t, 'Log Org B', 'Bea Admin');
      other = {
        ...b,
        member: await createUser(t, {
          organizer: 'Log Org B',
          name: 'Bob Other',
          email: 'bob@log-b.test',
          twoFactor: false,
        }),
      };
      // Real actions: a wrong password and a sign-in in each organizer.
      t.clock.advance(60_000);
      await new Person(t.server).login(member.email, 'not the password at all');
      t.clock.advance(60_000);
      await signedIn(t, member);
      t.clock.advance(60_000);
      await new Person(t.server).login(other.member.email, 'not the password at all');
      await signedIn(t, other.member);
    });

    it('shows the admin’s organizer’s events newest first, with the person, the event through the one renderer, who and where', async () => {
      const page = await person.get('/admin/security-log');
      expect(page.status).toBe(200);
      expect(page.text).toContain('<h1>Security log</h1>');
      const rows = logRows(page.text);
      const mia = rows.filter((row) => row.person.includes('mia@log-a.test'));
      expect(mia.map((row) => row.event)).toEqual(['Signed in (With password only)', 'Wrong password']);
      expect(mia[0].person).toBe('Mia Member mia@log-a.test');
      expect(mia[0].by).toBe('The user');
      expect(mia[0].ip).toMatch(/127\.0\.0\.1/);
      expect(page.text).toContain(`href="/admin/users/${member.id}"`);
      const times = rows.map((row) => row.iso);
      expect([...times].sort().reverse()).toEqual(times);
      expect(page.text).not.toContain('log-b.test');
      expect(page.text).not.toContain('Bob Other');
      expect(page.text).not.toContain('Bea Admin');
    });

    it('never shows another organizer’s events, nor an event about another organizer’s person, nor one of no organizer', async () => {
      const at = new Date(t.clock.nowMs() + 1000);
      await seed([
        {
          type: 'password.changed',
          organizerId: other.admin.organizerId,
          userId: other.member.id,
          createdAt: at,
          ip: '198.51.100.1',
        },
        // A row that says organizer A but is about B's person: still B's.
        {
          type: 'password.changed',
          organizerId: admin.organizerId,
          userId: other.member.id,
          createdAt: at,
          ip: '198.51.100.2',
        },
        { type: 'login.failed', organizerId: null, userId: null, createdAt: at, ip: '198.51.100.3' },
      ]);
      const page = await person.get('/admin/security-log');
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) expect(page.text).not.toContain(ip);
      const csv = await person.get('/admin/security-log/export.csv');
      for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) expect(csv.text).not.toContain(ip);
      expect(csv.text).not.toContain('log-b.test');
      // B's admin sees B's own events (and not A's).
      const theirs = await other.person.get('/admin/security-log');
      expect(theirs.text).toContain('198.51.100.1');
      expect(theirs.text).not.toContain('mia@log-a.test');
    });

    it('is for admins only: a member gets 403 for the page and the CSV, a visitor is sent to sign in', async () => {
      const asMember = await signedIn(t, member);
      expect((await asMember.get('/admin/security-log')).status).toBe(403);
      expect((await asMember.get('/admin/security-log/export.csv')).status).toBe(403);
      const visitor = new Person(t.server);
      const answer = await visitor.get('/admin/security-log');
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toMatch(/^\/login/);
      expect((await visitor.get('/admin/security-log/export.csv')).status).toBe(303);
    });

    it('is in the main menu for admins, marked as the current page there, and linked from a user’s page', async () => {
      const dashboard = await person.get('/');
      expect(dashboard.text).toMatch(/<a href="\/admin\/security-log">Security log<\/a>/);
      const page = await person.get('/admin/security-log');
      expect(page.text).toMatch(/<a href="\/admin\/security-log" aria-current="page">Security log<\/a>/);
      expect(page.text).toMatch(/<a href="\/admin\/users">Users<\/a>/);
      const asMember = await signedIn(t, member);
      expect((await asMember.get('/')).text).not.toContain('Security log');

      const userPage = await person.get(`/admin/users/${member.id}`);
      const link = hrefsIn(userPage.text).find((href) => href.startsWith('/admin/security-log?'));
      expect(link).toBe(`/admin/security-log?user=${member.id}`);
      expect(userPage.text).toContain('Security log of this person');
      const filtered = await person.get(link!);
      expect(filtered.status).toBe(200);
      expect(filtered.text).toContain('value="mia@log-a.test"');
      const rows = logRows(filtered.text);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((row) => row.person.includes('mia@log-a.test'))).toBe(true);
    });

    it('filters by person (exact email or id of their organizer); another organizer’s person shows nothing', async () => {
      const byEmail = await person.get('/admin/security-log?person=MIA@log-a.test');
      expect(byEmail.status).toBe(200);
      const rows = logRows(byEmail.text);
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows.every((row) => row.person === 'Mia Member mia@log-a.test')).toBe(true);
      expect(byEmail.text).toContain('about Mia Member (mia@log-a.test)');

      for (const query of ['person=bob%40log-b.test', `user=${other.member.id}`, 'person=nobody%40log-a.test']) {
        const answer = await person.get(`/admin/security-log?${query}`);
        expect(answer.status).toBe(400);
        expect(logRows(answer.text)).toEqual([]);
        expect(answer.text).toContain('There is a problem');
        expect(answer.text).not.toContain('Bob Other');
        expect(answer.text).not.toContain('198.51.100.1');
      }
      const unknown = await person.get('/admin/security-log?person=bob%40log-b.test');
      expect(unknown.text).toContain('No one in your organizer has the email address “bob@log-b.test”');
      expect(unknown.text).toContain('value="bob@log-b.test"');
      const csv = await person.get(`/admin/security-log/export.csv?user=${other.member.id}`);
      expect(csv.status).toBe(400);
      expect(csv.text).not.toContain('198.51.100');
    });
  });

  describe('filters', () => {
    let person: Person;
    let ada: User;
    let ben: User;
    const day = (iso: string) => new Date(`${iso}T00:00:00.000Z`);

    beforeAll(async () => {
      let admin: User;
      ({ admin, person } = await adminOf(t, 'Filter Org', 'Fay Admin'));
      ada = await createUser(t, { organizer: 'Filter Org', name: 'Ada Filter', email: 'ada@filter.test' });
      ben = await createUser(t, { organizer: 'Filter Org', name: 'Ben Filter', email: 'ben@filter.test' });
      const org = admin.organizerId;
      await seed([
        {
          type: 'login.succeeded',
          organizerId: org,
          userId: ada.id,
          createdAt: new Date(day('2025-12-01').getTime() - 1),
          ip: '10.2.0.1',
          detail: '{"method":"totp"}',
        },
        { type: 'login.failed', organizerId: org, userId: ada.id, createdAt: day('2025-12-01'), ip: '10.2.0.2' },
        {
          type: 'code.failed',
          organizerId: org,
          userId: ben.id,
          createdAt: new Date(day('2025-12-02').getTime() + 12 * 3600_000),
          ip: '10.2.0.3',
        },
        {
          type: 'login.locked',
          organizerId: org,
          userId: ben.id,
          createdAt: new Date(day('2025-12-04').getTime() - 1),
          ip: '10.2.0.4',
          detail: '{"minutes":15,"pool":"device"}',
        },
        {
          type: 'two_factor.reset',
          organizerId: org,
          userId: ben.id,
          actorId: admin.id,
          createdAt: day('2025-12-04'),
          ip: '10.2.0.5',
        },
        { type: 'password.changed', organizerId: org, userId: ada.id, createdAt: day('2025-12-05'), ip: '10.2.0.6' },
      ]);
    });

    const ips = async (query: string) => {
      const answer = await person.get(`/admin/security-log?${query}`);
      expect(answer.status).toBe(200);
      // The seeded events only (not the admin's own sign-in).
      return logRows(answer.text)
        .map((row) => row.ip)
        .filter((ip) => ip.startsWith('10.'));
    };

    it('by kind: a group of events or one event type, named by SECURITY_EVENTS’ labels', async () => {
      expect(await ips('kind=failed-sign-ins')).toEqual(['10.2.0.3', '10.2.0.2']);
      expect(await ips('kind=locks')).toEqual(['10.2.0.4']);
      expect(await ips('kind=sign-ins')).toEqual(['10.2.0.1']);
      expect(await ips('kind=two_factor.reset')).toEqual(['10.2.0.5']);
      const page = await person.get('/admin/security-log?kind=two_factor.reset');
      expect(page.text).toContain('<option value="two_factor.reset" selected>QR resent (2FA reset)</option>');
      expect(page.text).toContain('<option value="failed-sign-ins">Failed sign-ins</option>');
      expect(logRows(page.text)[0].by).toBe('Fay Admin');
      const bad = await person.get('/admin/security-log?kind=everything');
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('Choose a kind of event from the list.');
    });

    it('by days, UTC and inclusive: from the first instant of "from" to the last of "to"', async () => {
      expect(await ips('from=2025-12-01&to=2025-12-03')).toEqual(['10.2.0.4', '10.2.0.3', '10.2.0.2']);
      expect(await ips('from=2025-12-01&to=2025-12-04')).toEqual(['10.2.0.5', '10.2.0.4', '10.2.0.3', '10.2.0.2']);
      expect(await ips('from=2025-12-04&to=2025-12-04')).toEqual(['10.2.0.5']);
      expect(await ips('to=2025-11-30')).toEqual(['10.2.0.1']);
      expect(await ips('from=2025-12-05')).toEqual(['10.2.0.6']);
    });

    it('combines person, kind and days, and keeps them in the form and in the Export CSV link', async () => {
      const query = 'person=ben%40filter.test&kind=failed-sign-ins&from=2025-12-01&to=2025-12-31';
      expect(await ips(query)).toEqual(['10.2.0.3']);
      const page = await person.get(`/admin/security-log?${query}`);
      expect(page.text).toContain('value="ben@filter.test"');
      expect(page.text).toContain('value="2025-12-01"');
      expect(page.text).toContain('value="2025-12-31"');
      expect(hrefsIn(page.text)).toContain(`/admin/security-log/export.csv?${query}`);
      const csv = parseCsv((await person.get(`/admin/security-log/export.csv?${query}`)).text);
      expect(csv.slice(1).map((row) => row[6])).toEqual(['10.2.0.3']);
      expect(csv).toHaveLength(2);
    });

    it('a date that is not one, or a last day before the first, is the same page with the message and the input kept (400, no 500)', async () => {
      const bad = await person.get('/admin/security-log?from=2025-02-30&to=tomorrow&kind=locks');
      expect(bad.status).toBe(400);
      expect(bad.text).toContain('“2025-02-30” is not a date');
      expect(bad.text).toContain('“tomorrow” is not a date');
      expect(bad.text).toContain('value="2025-02-30"');
      expect(bad.text).toContain('value="tomorrow"');
      expect(bad.text).toContain('<option value="locks" selected>');
      expect(bad.text).toContain('href="#from"');
      expect(logRows(bad.text)).toEqual([]);
      expect(bad.text).toContain('id="chart-title"');

      const reversed = await person.get('/admin/security-log?from=2025-12-05&to=2025-12-01');
      expect(reversed.status).toBe(400);
      expect(reversed.text).toContain('The last day is before the first day.');
      expect(reversed.text).toContain('value="2025-12-05"');
      expect(reversed.text).toContain('value="2025-12-01"');

      for (const query of [
        'from=99999-01-01',
        'to=2025-13-01',
        'from[]=x',
        'from=2025-12-01&from=2025-12-02',
        `person=${'x'.repeat(400)}`,
      ]) {
        const answer = await person.get(`/admin/security-log?${query}`);
        expect(answer.status).toBeLessThan(500);
      }
      const csv = await person.get('/admin/security-log/export.csv?from=2025-12-05&to=2025-12-01');
      expect(csv.status).toBe(400);
      expect(csv.headers['content-disposition']).toBeUndefined();
    });
  });

  describe('keyset pages', () => {
    let person: Person;
    let seeded: AuditEvent[];

    beforeAll(async () => {
      let admin: User;
      ({ admin, person } = await adminOf(t, 'Paging Org', 'Pat Admin'));
      const user = await createUser(t, { organizer: 'Paging Org', name: 'Paul Paged', email: 'paul@paging.test' });
      const start = Date.UTC(2025, 10, 1);
      const events = Array.from({ length: 137 }, (_, i) => ({
        type: 'login.failed' as const,
        organizerId: admin.organizerId,
        userId: user.id,
        ip: `10.3.${Math.floor(i / 200)}.${i % 200}`,
        // Groups of events at the same millisecond, one of them across the first page's end (rows 45–54).
        createdAt: new Date(start + (i >= 82 && i < 92 ? 82 : i) * 1000),
      }));
      seeded = (await seed(events)).sort(newestFirst);
    });

    it('walks every event exactly once, newest first with ties broken by id, with Older links; Newest goes back', async () => {
      const seen: string[] = [];
      let path: string | undefined = '/admin/security-log';
      let pages = 0;
      let second: string | undefined;
      while (path) {
        const page = await person.get(path);
        expect(page.status).toBe(200);
        const rows = logRows(page.text);
        expect(rows.length).toBeLessThanOrEqual(EVENTS_PER_PAGE);
        seen.push(...rows.map((row) => row.ip).filter((ip) => ip.startsWith('10.')));
        pages += 1;
        if (pages === 2) second = page.text;
        path = linkNamed(page.text, 'next');
        if (path) expect(path).toMatch(/^\/admin\/security-log\?before=[A-Za-z0-9_-]+$/);
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(seeded.map((event) => event.ip));
      expect(new Set(seen).size).toBe(137);
      expect(linkNamed(second!, 'first')).toBe('/admin/security-log');
      expect(second).toContain('older events');
    });

    it('keeps the filters in the Older link', async () => {
      const page = await person.get('/admin/security-log?kind=failed-sign-ins&from=2025-11-01');
      const older = linkNamed(page.text, 'next')!;
      expect(older).toMatch(/^\/admin\/security-log\?kind=failed-sign-ins&from=2025-11-01&before=/);
      const next = await person.get(older);
      expect(logRows(next.text).map((row) => row.ip)).toEqual(seeded.slice(50, 100).map((event) => event.ip));
      expect(linkNamed(next.text, 'first')).toBe('/admin/security-log?kind=failed-sign-ins&from=2025-11-01');
    });

    it('walks a kind of several types (one query per type, merged) exactly once in order, ties across types included', async () => {
      const { admin, person: viewer } = await adminOf(t, 'Kinds Org', 'Kim Admin');
      const user = await createUser(t, { organizer: 'Kinds Org', name: 'Kai Kinds', email: 'kai@kinds.test' });
      const types: AuditType[] = ['login.failed', 'code.failed', 'login.passkey_failed', 'password.changed'];
      const start = Date.UTC(2025, 10, 2);
      const events = await seed(
        Array.from({ length: 160 }, (_, i) => ({
          type: types[i % 4],
          organizerId: admin.organizerId,
          userId: user.id,
          ip: `10.5.0.${i}`,
          // Five events per instant, of different types.
          createdAt: new Date(start + Math.floor(i / 5) * 1000),
        })),
      );
      const expected = events
        .filter((event) => event.type !== 'password.changed')
        .sort(newestFirst)
        .map((event) => event.ip);
      const seen: string[] = [];
      let path: string | undefined = '/admin/security-log?kind=failed-sign-ins';
      while (path) {
        const page = await viewer.get(path);
        seen.push(...logRows(page.text).map((row) => row.ip));
        path = linkNamed(page.text, 'next');
      }
      expect(seen).toEqual(expected);
      const csv = parseCsv((await viewer.get('/admin/security-log/export.csv?kind=failed-sign-ins')).text);
      expect(csv.slice(1).map((row) => row[6])).toEqual(expected);
    });

    it('a changed or made-up cursor is a clear message on the page (400), never a 500', async () => {
      const first = await person.get('/admin/security-log');
      const cursor = new URLSearchParams(linkNamed(first.text, 'next')!.split('?')[1]).get('before')!;
      const forged = [
        'garbage!',
        cursor.slice(0, -3),
        Buffer.from('1:2:3').toString('base64url'),
        Buffer.from("1764000000000:' OR 1=1 --").toString('base64url'),
        Buffer.from(`${'9'.repeat(16)}:abc`).toString('base64url'),
        'x'.repeat(300),
      ];
      for (const before of forged) {
        const answer = await person.get(`/admin/security-log?before=${encodeURIComponent(before)}`);
        expect({ before, status: answer.status }).toEqual({ before, status: 400 });
        expect(answer.text).toContain('This link to older events was changed or cut short');
        expect(answer.text).toContain('href="/admin/security-log"');
      }
    });
  });

  describe('GET /admin/security-log/export.csv', () => {
    let person: Person;
    let seeded: AuditEvent[];

    beforeAll(async () => {
      let admin: User;
      ({ admin, person } = await adminOf(t, 'Csv Log Org', 'Cy Admin'));
      const formula = await createUser(t, {
        organizer: 'Csv Log Org',
        name: '=HYPERLINK("http://evil.test","Click")',
        email: 'formula@csv-log.test',
      });
      const plain = await createUser(t, { organizer: 'Csv Log Org', name: 'Cleo Plain', email: 'cleo@csv-log.test' });
      const start = Date.UTC(2025, 9, 1);
      const count = CSV_BATCH * 2 + 37;
      seeded = (
        await seed(
          Array.from({ length: count }, (_, i) => ({
            type: (i % 3 ? 'login.failed' : 'two_factor.reset') as AuditType,
            organizerId: admin.organizerId,
            userId: i % 2 ? formula.id : plain.id,
            actorId: i % 3 ? null : admin.id,
            ip: `10.4.${Math.floor(i / 250)}.${i % 250}`,
            // Ties at each batch's edges too.
            createdAt: new Date(start + Math.floor(i / 4) * 1000),
          })),
        )
      ).sort(newestFirst);
      await createUser(t, { organizer: 'Csv Log Org B', name: 'Other Csv', email: 'other@csv-log-b.test' });
    });

    it('is an attachment of every matching event (all batches, each once, in the log’s order), formula-safe', async () => {
      const answer = await person.get('/admin/security-log/export.csv');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
      const date = t.clock.now().toISOString().slice(0, 10);
      expect(answer.headers['content-disposition']).toBe(`attachment; filename="security-log-csv-log-org-${date}.csv"`);
      expect(answer.text.startsWith('\uFEFF')).toBe(true);
      const rows = parseCsv(answer.text);
      expect(rows[0]).toEqual(['Time', 'Person', 'Email', 'Event', 'Note', 'By', 'Client address']);
      const body = rows.slice(1).filter((row) => row[6].startsWith('10.'));
      expect(rows).toHaveLength(1 + seeded.length + 1); // and the admin's own sign-in
      expect(body.map((row) => row[6])).toEqual(seeded.map((event) => event.ip));
      expect(body.map((row) => row[0])).toEqual(seeded.map((event) => event.createdAt.toISOString()));
      const formula = body.find((row) => row[2] === 'formula@csv-log.test')!;
      expect(formula[1]).toBe('\'=HYPERLINK("http://evil.test","Click")');
      const reset = body.find((row) => row[3] === 'QR resent (2FA reset)')!;
      expect(reset[5]).toBe('Cy Admin');
      expect(answer.text).not.toContain('csv-log-b.test');
    });

    it('has the same rows as the filtered log, page after page', async () => {
      const query = 'person=cleo%40csv-log.test&kind=two_factor.reset&from=2025-10-01&to=2025-10-01';
      const fromPages: string[] = [];
      let path: string | undefined = `/admin/security-log?${query}`;
      while (path) {
        const page = await person.get(path);
        fromPages.push(...logRows(page.text).map((row) => row.ip));
        path = linkNamed(page.text, 'next');
      }
      expect(fromPages.length).toBeGreaterThan(EVENTS_PER_PAGE);
      const csv = parseCsv((await person.get(`/admin/security-log/export.csv?${query}`)).text);
      expect(csv.slice(1).map((row) => row[6])).toEqual(fromPages);
    });
  });

  describe('the chart of the last 30 days', () => {
    it('counts sign-ins, failed sign-ins and locks per UTC day, today included, by the clock, on day boundaries', async () => {
      const saved = t.clock.nowMs();
      const today = Date.UTC(2026, 2, 10);
      t.clock.set(today + 15 * 3600_000);
      try {
        // Signed in at 15:00 today: that sign-in is counted too.
        const { admin, person } = await adminOf(t, 'Chart Org', 'Cora Admin');
        const user = await createUser(t, { organizer: 'Chart Org', name: 'Chad Chart', email: 'chad@chart.test' });
        const other = await createUser(t, { organizer: 'Chart Org B', name: 'Chet Other', email: 'chet@chart-b.test' });
        const at = (daysBack: number, ms: number) => new Date(today - daysBack * DAY + ms);
        const org = admin.organizerId;
        const event = (type: AuditType, createdAt: Date) => ({ type, organizerId: org, userId: user.id, createdAt });
        await seed([
          // Today: its first and its last millisecond (later than now, still today), not tomorrow.
          event('login.succeeded', at(0, 0)),
          event('login.succeeded', at(0, DAY - 1)),
          event('login.succeeded', at(-1, 0)),
          event('login.failed', at(0, 5)),
          event('code.failed', at(0, 6)),
          event('login.passkey_failed', at(0, 7)),
          // Yesterday's last millisecond, 3 days ago, the first day shown (29 days back) and the day before it.
          event('login.locked', at(1, DAY - 1)),
          event('code.locked', at(3, 1000)),
          event('code.failed', at(29, 0)),
          event('login.failed', at(30, DAY - 1)),
          // Not counted: other kinds, another organizer.
          event('password.changed', at(0, 10)),
          event('code.replayed', at(0, 11)),
          { type: 'login.succeeded', organizerId: other.organizerId, userId: other.id, createdAt: at(0, 12) },
        ]);
        const page = await person.get('/admin/security-log');
        expect(page.status).toBe(200);
        const numbers = chartNumbers(page.text);
        expect(numbers.size).toBe(30);
        const iso = (daysBack: number) => new Date(today - daysBack * DAY).toISOString().slice(0, 10);
        expect([...numbers.keys()][0]).toBe(iso(29));
        expect([...numbers.keys()][29]).toBe(iso(0));
        expect(numbers.get(iso(0))).toEqual([3, 3, 0]);
        expect(numbers.get(iso(1))).toEqual([0, 0, 1]);
        expect(numbers.get(iso(3))).toEqual([0, 0, 1]);
        expect(numbers.get(iso(29))).toEqual([0, 1, 0]);
        const rest = [...numbers].filter(([date]) => ![0, 1, 3, 29].map(iso).includes(date));
        expect(rest.every(([, counts]) => counts.every((count) => count === 0))).toBe(true);
        // The SVG: an image with its title and a description that says the totals.
        expect(page.text).toMatch(/<svg class="chart"[^>]*role="img"[^>]*aria-labelledby="chart-title"/);
        expect(page.text).toContain(
          '<title id="chart-title">Sign-ins, failed sign-ins and locks per day, last 30 days</title>',
        );
        expect(page.text).toMatch(
          /<desc id="chart-desc">From Feb 9, 2026 to Mar 10, 2026 \(UTC\): 3 sign-ins, 4 failed sign-ins and 2 locks\./,
        );
        expect(page.text).not.toMatch(/<script(?! src="\/assets\/app\.js")/);
        // One bar per day with events in each panel.
        expect(page.text.match(/class="bar bar-sign-ins"/g)).toHaveLength(1);
        expect(page.text).toContain('Sign-ins: 3</text>');
        expect(page.text.match(/class="bar bar-failed-sign-ins"/g)).toHaveLength(2);
        expect(page.text.match(/class="bar bar-locks"/g)).toHaveLength(2);
      } finally {
        t.clock.set(saved);
      }
    });
  });
});
