import { AuditService } from '../../src/audit/audit.service';
import { formatDateTime } from '../../src/i18n/format';
import { OneTimeTokensService } from '../../src/users/one-time-tokens.service';
import { User } from '../../src/users/user.entity';
import { UsersService } from '../../src/users/users.service';
import { csrfFrom, Person } from '../utils/agent';
import { adminOf, hasButton, hrefsIn, pressAndConfirm, signedIn, wrongCode } from '../utils/admin';
import { lastMailTo, linkIn } from '../utils/mail';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { parseCsv } from '../utils/csv';

// Several argon2id hashes (OWASP parameters) per test: give a loaded machine room.
jest.setTimeout(90_000);

/** The visible text of an element with this id (tags stripped, spaces collapsed). */
function textOf(html: string, id: string): string {
  const start = html.indexOf(`id="${id}"`);
  if (start < 0) throw new Error(`No #${id} in page:\n${html.slice(0, 3000)}`);
  const open = html.lastIndexOf('<', start);
  const tag = html.slice(open + 1).match(/^\w+/)![0];
  const end = html.indexOf(`</${tag}>`, start);
  return html
    .slice(html.indexOf('>', start) + 1, end)
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#x27;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

/** The rows of the users table: the text of each cell. */
function tableRows(html: string): string[][] {
  const body = html.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      cell[1]
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

describe('admin oversight: 2FA adoption, "Not set up yet", CSV export, Unlock account', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  /** Locks an account the way its owner does: the "This wasn't me" link of a security email, confirmed. */
  async function lockWithNotMe(user: User): Promise<void> {
    const { token } = await t.get(OneTimeTokensService).issue(user.id, 'not-me', 24 * 60 * 60 * 1000, null);
    const link = `/not-me/${token}`;
    const confirmed = await new Person(t.server).submit(link, link, {});
    expect(confirmed.status).toBe(200);
    expect((await t.get(UsersService).getById(user.id)).accountLockedAt).not.toBeNull();
  }

  async function flashAt(person: Person, path: string): Promise<string> {
    const page = await person.get(path);
    return page.text.match(/<p class="flash flash-\w+"[^>]*>([\s\S]*?)<\/p>/)?.[1] ?? '';
  }

  describe('users list: adoption and "Not set up yet"', () => {
    const org = 'Oversight Org';
    let admin: User;
    let person: Person;
    let list: (query?: string) => Promise<string>;

    beforeAll(async () => {
      ({ admin } = await adminOf(t, org, 'Olive Admin'));
      for (const name of ['Ada Active', 'Art Active']) {
        const user = await createUser(t, { organizer: org, name, twoFactor: true });
        const browser = new Person(t.server);
        await browser.login(user.email, DEFAULT_PASSWORD);
        await browser.setUpTwoFactor(t.clock);
      }
      const locked = await createUser(t, { organizer: org, name: 'Leo Locked', twoFactor: true });
      const leo = new Person(t.server);
      await leo.login(locked.email, DEFAULT_PASSWORD);
      const { secret } = await leo.setUpTwoFactor(t.clock);
      const leo2 = new Person(t.server);
      await leo2.login(locked.email, DEFAULT_PASSWORD);
      for (let i = 0; i < 5; i++) await leo2.submit('/2fa/verify', '/2fa/verify', { code: wrongCode(secret, t.clock) });
      await createUser(t, { organizer: org, name: 'Pat Pending', twoFactor: true });
      // More than a page (20 a page) of invited users who will set up 2FA: the counts must cover them all.
      for (let n = 1; n <= 22; n++) {
        await createUser(t, {
          organizer: org,
          name: `Ivan Invitee ${String(n).padStart(2, '0')}`,
          email: `ivan${n}@oversight.test`,
          twoFactor: true,
          password: null,
        });
      }
      await createUser(t, { organizer: org, name: 'Oscar Off', twoFactor: false });
      await lockWithNotMe(await createUser(t, { organizer: org, name: 'Xena Reported', twoFactor: false }));
      await createUser(t, { organizer: 'Oversight Other Org', name: 'Otto Outsider', twoFactor: true, password: null });
      await createUser(t, { organizer: 'Oversight Other Org', name: 'Olaf Outsider', twoFactor: false });
      // Sessions end after 30 idle minutes; the admin signs in again after the lockouts above.
      person = await signedIn(t, admin);
      list = async (query = '') => {
        const page = await person.get(`/admin/users${query}`);
        expect(page.status).toBe(200);
        return page.text;
      };
    });

    it('shows the organizer’s 2FA adoption counted over all its users, not the page', async () => {
      const page = await list();
      expect(tableRows(page)).toHaveLength(20);
      expect(textOf(page, 'adoption')).toContain(
        "2 of 29 active · 23 pending setup · 1 locked · 3 off · 1 account locked by the user (This wasn't me)",
      );
      expect(textOf(page, 'adoption')).toContain('26 not set up yet');
      expect(hrefsIn(page)).toContain('/admin/users?show=not-set-up');
    });

    it('counts a user whom the organizer policy gives a deadline as pending setup', async () => {
      await person.submit('/admin/organizer', '/admin/organizer', { requireTwoFactor: 'on', graceDays: '30' });
      const page = await list();
      // Olive (the admin), Oscar and Xena have no authenticator: the policy now covers them.
      expect(textOf(page, 'adoption')).toContain('2 of 29 active · 26 pending setup · 1 locked');
      expect(textOf(page, 'adoption')).not.toMatch(/\d+ off/);
      expect(textOf(page, 'adoption')).toContain('Your organizer requires 2FA for everyone.');
      await person.submit('/admin/organizer', '/admin/organizer', { graceDays: '30' });
      expect(textOf(await list(), 'adoption')).toContain('2 of 29 active · 23 pending setup · 1 locked · 3 off');
    });

    it('filters to "Not set up yet": users without an active authenticator, with pagination and search kept', async () => {
      const page = await list('?show=not-set-up');
      expect(page).toMatch(/<option value="not-set-up" selected>Not set up yet<\/option>/);
      expect(page).toContain('26 users without an active authenticator, page 1 of 2');
      const firstPage = tableRows(page).map((row) => row[0]);
      expect(firstPage).toHaveLength(20);
      expect(firstPage).not.toEqual(expect.arrayContaining(['Ada Active']));
      expect(hrefsIn(page)).toContain('/admin/users?show=not-set-up&page=2');
      const second = tableRows(await list('?show=not-set-up&page=2')).map((row) => row[0]);
      expect(second).toHaveLength(6);
      const all = [...firstPage, ...second];
      for (const name of ['Ada Active', 'Art Active', 'Leo Locked', 'Otto Outsider', 'Olaf Outsider'])
        expect(all).not.toContain(name);
      for (const name of ['Pat Pending', 'Oscar Off', 'Xena Reported', 'Olive Admin (you)', 'Ivan Invitee 22'])
        expect(all).toContain(name);

      const searched = await list('?q=invitee&show=not-set-up');
      expect(searched).toContain('22 users matching “invitee” without an active authenticator, page 1 of 2');
      expect(hrefsIn(searched)).toContain('/admin/users?q=invitee&show=not-set-up&page=2');
      expect(tableRows(await list('?q=invitee&show=not-set-up&page=2')).map((row) => row[0])).toEqual([
        'Ivan Invitee 21',
        'Ivan Invitee 22',
      ]);

      const none = await list('?q=active&show=not-set-up');
      expect(tableRows(none)).toEqual([]);
      expect(none).toContain('No user matching “active” is without an active authenticator.');
      expect(tableRows(await list('?q=active')).map((row) => row[0])).toEqual(['Ada Active', 'Art Active']);
      // An unknown filter is no filter.
      expect(await list('?show=bogus')).toContain('29 users, page 1 of 2');
    });

    it('marks an account locked by its owner apart from the 2FA word', async () => {
      const row = tableRows(await list('?q=xena'))[0];
      expect(row[3]).toBe('Off Account locked');
    });
  });

  describe('GET /admin/users/export.csv', () => {
    const org = 'Csv Org A';
    let admin: User;
    let person: Person;

    beforeAll(async () => {
      ({ admin, person } = await adminOf(t, org, 'Ann Admin'));
      await createUser(t, {
        organizer: org,
        name: '=HYPERLINK("http://evil.test","click")',
        email: 'formula@csv.test',
        twoFactor: false,
      });
      await createUser(t, {
        organizer: org,
        name: '+41 22 000 00 00',
        email: 'plus@csv.test',
        twoFactor: true,
        password: null,
      });
      await createUser(t, { organizer: org, name: '-2+3', email: 'minus@csv.test', twoFactor: false });
      await createUser(t, { organizer: org, name: '@SUM(A1:A9)', email: 'at@csv.test', twoFactor: false });
      await createUser(t, {
        organizer: org,
        name: 'Zoë "Zed", Jr.',
        email: 'zoe@csv.test',
        twoFactor: true,
        role: 'admin',
      });
      const active = await createUser(t, {
        organizer: org,
        name: 'Max Active',
        email: 'max@csv.test',
        twoFactor: true,
      });
      const browser = new Person(t.server);
      await browser.login(active.email, DEFAULT_PASSWORD);
      await browser.setUpTwoFactor(t.clock);
      await createUser(t, { organizer: 'Csv Org B', name: 'Bob Other', email: 'bob@csv-b.test', twoFactor: false });
      person = await signedIn(t, admin);
    });

    async function exportCsv(query = '') {
      const answer = await person.get(`/admin/users/export.csv${query}`);
      return { answer, text: answer.text };
    }

    it('is a CSV download of the admin’s organizer only, with the list’s columns in PRODUCT.md’s words', async () => {
      const { answer, text } = await exportCsv();
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
      const date = t.clock.now().toISOString().slice(0, 10);
      expect(answer.headers['content-disposition']).toBe(`attachment; filename="users-csv-org-a-${date}.csv"`);
      expect(answer.headers['cache-control']).toContain('no-store');
      expect(text).not.toContain('Bob Other');
      expect(text).not.toContain('csv-b.test');

      const [header, ...rows] = parseCsv(text.replace(/^\uFEFF/, ''));
      expect(header).toEqual(['Name', 'Email', 'Role', '2FA', 'Last sign-in', 'Created', 'Factors']);
      expect(rows.map((row) => row[1]).sort()).toEqual(
        [
          admin.email,
          'at@csv.test',
          'formula@csv.test',
          'max@csv.test',
          'minus@csv.test',
          'plus@csv.test',
          'zoe@csv.test',
        ].sort(),
      );
      const byEmail = Object.fromEntries(rows.map((row) => [row[1], row]));
      expect(byEmail['zoe@csv.test'].slice(0, 4)).toEqual(['Zoë "Zed", Jr.', 'zoe@csv.test', 'Admin', 'Pending setup']);
      expect(byEmail['max@csv.test'][3]).toBe('Active');
      expect(byEmail['minus@csv.test'][3]).toBe('Off');
      expect(byEmail[admin.email][4]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(byEmail['plus@csv.test'][4]).toBe('');
      for (const row of rows) expect(row[5]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('neutralises spreadsheet formulas: cells starting with = + - @ get a leading apostrophe', async () => {
      const { text } = await exportCsv();
      const rows = parseCsv(text.replace(/^\uFEFF/, '')).slice(1);
      const byEmail = Object.fromEntries(rows.map((row) => [row[1], row]));
      expect(byEmail['formula@csv.test'][0]).toBe(`'=HYPERLINK("http://evil.test","click")`);
      expect(byEmail['plus@csv.test'][0]).toBe("'+41 22 000 00 00");
      expect(byEmail['minus@csv.test'][0]).toBe("'-2+3");
      expect(byEmail['at@csv.test'][0]).toBe("'@SUM(A1:A9)");
      for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    });

    it('follows the list’s search and "Not set up yet" filter, and is linked from the list with them', async () => {
      const zoe = parseCsv((await exportCsv('?q=zo%C3%AB')).text.replace(/^\uFEFF/, ''));
      expect(zoe.slice(1).map((row) => row[1])).toEqual(['zoe@csv.test']);
      const notSetUp = parseCsv((await exportCsv('?show=not-set-up')).text.replace(/^\uFEFF/, ''))
        .slice(1)
        .map((row) => row[1]);
      expect(notSetUp).toHaveLength(6);
      expect(notSetUp).not.toContain('max@csv.test');

      expect(hrefsIn((await person.get('/admin/users')).text)).toContain('/admin/users/export.csv');
      expect(hrefsIn((await person.get('/admin/users?q=zo&show=not-set-up')).text)).toContain(
        '/admin/users/export.csv?q=zo&show=not-set-up',
      );
    });

    it('is 403 for members and sends a signed-out visitor to the login page', async () => {
      const member = await createUser(t, { organizer: org, twoFactor: false });
      const browser = await signedIn(t, member);
      const refused = await browser.get('/admin/users/export.csv');
      expect(refused.status).toBe(403);
      expect(refused.text).not.toContain('csv.test');
      const stranger = await new Person(t.server).get('/admin/users/export.csv');
      expect(stranger.status).toBe(303);
      expect(stranger.headers.location).toMatch(/^\/login/);
    });
  });

  describe('Unlock account (POST /admin/users/:id/unlock)', () => {
    it('shows the lock apart from the 2FA state, confirms, unlocks, audits and tells the user', async () => {
      const org = 'Unlock Org';
      const { admin, person } = await adminOf(t, org, 'Uma Admin');
      const user = await createUser(t, { organizer: org, name: 'Rita Reported', twoFactor: false });
      await lockWithNotMe(user);
      expect((await new Person(t.server).login(user.email, DEFAULT_PASSWORD)).status).toBe(403);

      const userPage = `/admin/users/${user.id}`;
      const page = await person.get(userPage);
      const since = formatDateTime(t.clock.now(), 'en', 'UTC');
      expect(textOf(page.text, 'account-lock')).toContain(`Locked by the user (This wasn't me) since ${since}`);
      expect(textOf(page.text, 'two-factor-state')).toBe('Off');
      expect(hasButton(page.text, `${userPage}/unlock`, 'Unlock account')).toBe(true);

      const { step, result } = await pressAndConfirm(person, userPage, `${userPage}/unlock`);
      expect(step.status).toBe(200);
      expect(step.text).toContain('Unlock the account of Rita Reported');
      expect(hasButton(step.text, `${userPage}/unlock`, 'Unlock account')).toBe(true);
      expect(result.status).toBe(303);
      expect(result.headers.location).toBe(userPage);
      expect(await flashAt(person, userPage)).toContain('The account of Rita Reported is unlocked');

      expect((await t.get(UsersService).getById(user.id)).accountLockedAt).toBeNull();
      const events = (await t.get(AuditService).recentForUser(user.id)).filter(
        (event) => event.type === 'account.unlocked',
      );
      expect(events).toHaveLength(1);
      expect(events[0].actorId).toBe(admin.id);
      const after = await person.get(userPage);
      expect(after.text).not.toContain('id="account-lock"');
      expect(after.text).toContain('Unlocked');

      const mail = await lastMailTo(t, user.email, /unlocked/);
      expect(mail.text).toContain('Uma Admin');
      expect(linkIn(mail, '/not-me/')).toMatch(/^\/not-me\//);
      const login = await new Person(t.server).login(user.email, DEFAULT_PASSWORD);
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe('/');

      // Not locked any more: a second unlock is refused, with nothing recorded.
      const again = await person.post(`${userPage}/unlock`, { confirm: 'yes' }, userPage);
      expect(again.headers.location).toBe(userPage);
      expect(await flashAt(person, userPage)).toContain('is not locked');
      expect(
        (await t.get(AuditService).recentForUser(user.id)).filter((event) => event.type === 'account.unlocked'),
      ).toHaveLength(1);
    });

    it('needs a CSRF token, is 403 for members and 404 for another organizer’s admin; the account stays locked', async () => {
      const org = 'Unlock Guard Org';
      const { person } = await adminOf(t, org);
      const user = await createUser(t, { organizer: org, twoFactor: false });
      const member = await createUser(t, { organizer: org, twoFactor: false });
      await lockWithNotMe(user);
      const action = `/admin/users/${user.id}/unlock`;

      expect((await person.agent.post(action).type('form').send({ confirm: 'yes' }).redirects(0)).status).toBe(403);
      const memberBrowser = await signedIn(t, member);
      const memberToken = csrfFrom((await memberBrowser.get('/')).text);
      expect(
        (await memberBrowser.agent.post(action).type('form').send({ confirm: 'yes', _csrf: memberToken }).redirects(0))
          .status,
      ).toBe(403);
      const { person: outsider } = await adminOf(t, 'Unlock Outsider Org');
      expect((await outsider.post(action, { confirm: 'yes' }, '/admin/users')).status).toBe(404);

      expect((await t.get(UsersService).getById(user.id)).accountLockedAt).not.toBeNull();
      expect((await t.get(AuditService).recentForUser(user.id)).map((event) => event.type)).not.toContain(
        'account.unlocked',
      );
    });
  });
});
