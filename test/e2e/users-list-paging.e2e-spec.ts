import { DataSource } from 'typeorm';
import { OFFSET_PAGES, SEARCH_COUNT_CAP, USERS_PER_PAGE } from '../../src/admin/admin-user-list.service';
import { encodeListCursor } from '../../src/admin/user-list-cursor';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { adminOf, hrefsIn } from '../utils/admin';
import { PlannedQuery, planProblems, plansOf, sortsWithin } from '../utils/query-plan';
import { seedUsers } from '../utils/bulk-users';
import { createTestApp, createUser, TestApp } from '../utils/test-app';

/**
 * The users list at scale (issue 16): keyset pages (Next, Previous, First, Last, `?page=N`,
 * "Go to"), the search through an index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL; a
 * prefix for 1–2 characters), bounded counts, and the plans of every list query.
 */
jest.setTimeout(120_000);

/** The rows of the users table: [name, email] of each. */
function rowsOf(html: string): { name: string; email: string }[] {
  const body = html.match(/<tbody>([\s\S]*?)<\/tbody>/)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) => {
    const cells = [...row[1].matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      cell[1]
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&')
        .replace(/&#x27;/g, "'")
        .trim(),
    );
    return { name: cells[0].replace(/ \(you\)$/, ''), email: cells[1] };
  });
}

function linkOf(html: string, rel: string): string | undefined {
  const match = new RegExp(`<a href="([^"]*)" rel="${rel}">`).exec(html);
  return match ? hrefsIn(match[0])[0] : undefined;
}

function captionOf(html: string): string {
  return (html.match(/<caption>([\s\S]*?)<\/caption>/)?.[1] ?? '').replace(/\s+/g, ' ').trim();
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The list's order: LOWER(name) (ASCII names here: every database lowers them alike), then email. */
function listOrder<T extends { name: string; email: string }>(users: T[]): T[] {
  return [...users].sort((a, b) => cmp(a.name.toLowerCase(), b.name.toLowerCase()) || cmp(a.email, b.email));
}

describe('users list: keyset pages, search and counts', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  describe('paging with ties', () => {
    const ORG = 'Ties Org';
    let person: Person;
    let expected: { name: string; email: string }[];

    beforeAll(async () => {
      const made = await adminOf(t, ORG, 'Ada Admin');
      person = made.person;
      const users = [{ name: made.admin.name, email: made.admin.email }];
      // 67 users, most of them sharing one of three names in different cases: page edges fall inside runs of ties.
      for (let i = 0; i < 66; i++) {
        const name = i % 11 === 0 ? `Zed ${i}` : ['same name', 'Same Name', 'SAME NAME', 'Other'][i % 4];
        const email = `u${String((i * 37) % 101).padStart(3, '0')}@ties.test`;
        await createUser(t, { organizer: ORG, name, email, password: null });
        users.push({ name, email });
      }
      expected = listOrder(users);
    });

    it('shows every user exactly once, in order, following Next to the end and Previous back to the start', async () => {
      const pages = Math.ceil(expected.length / USERS_PER_PAGE);
      const seen: { name: string; email: string }[] = [];
      let html = (await person.get('/admin/users')).text;
      for (let page = 1; ; page++) {
        expect(captionOf(html)).toBe(`${expected.length} users, page ${page} of ${pages}`);
        seen.push(...rowsOf(html));
        const next = linkOf(html, 'next');
        if (!next) break;
        expect(next).toMatch(/^\/admin\/users\?after=[A-Za-z0-9_-]+$/);
        html = (await person.get(next)).text;
      }
      expect(seen).toEqual(expected);
      expect(linkOf(html, 'last')).toBeUndefined();
      expect(linkOf(html, 'first')).toBe('/admin/users');

      const back: { name: string; email: string }[][] = [];
      for (let page = pages; ; page--) {
        expect(html).toContain(`Page ${page} of ${pages}`);
        back.unshift(rowsOf(html));
        const previous = linkOf(html, 'prev');
        if (!previous) break;
        html = (await person.get(previous)).text;
      }
      expect(back.flat()).toEqual(expected);
      expect(back.every((rows) => rows.length === USERS_PER_PAGE || rows === back[back.length - 1])).toBe(true);
    });

    it('opens the last page by the Last link (page=N ≥ pages), and takes old ?page=N links', async () => {
      const first = await person.get('/admin/users');
      const lastHref = linkOf(first.text, 'last')!;
      expect(lastHref).toBe('/admin/users?page=4');
      const last = await person.get(lastHref);
      expect(rowsOf(last.text)).toEqual(expected.slice(60));
      expect(last.text).toContain('Page 4 of 4');
      expect(rowsOf((await person.get('/admin/users?page=999')).text)).toEqual(expected.slice(60));
      const second = await person.get('/admin/users?page=2');
      expect(rowsOf(second.text)).toEqual(expected.slice(20, 40));
      expect(second.text).toContain('Page 2 of 4');
      expect(rowsOf((await person.get(linkOf(second.text, 'next')!)).text)).toEqual(expected.slice(40, 60));
      expect(rowsOf((await person.get(linkOf(second.text, 'prev')!)).text)).toEqual(expected.slice(0, 20));
      expect(rowsOf((await person.get('/admin/users?page=abc')).text)).toEqual(expected.slice(0, 20));
    });

    it('goes to a name with ?from= (names ≥ the text, any case), with Previous and Next from there', async () => {
      const page = await person.get('/admin/users?from=SAME');
      expect(page.status).toBe(200);
      const start = expected.findIndex((user) => user.name.toLowerCase() >= 'same');
      expect(rowsOf(page.text)).toEqual(expected.slice(start, start + USERS_PER_PAGE));
      expect(captionOf(page.text)).toBe(`${expected.length} users`);
      expect(page.text).toContain('value="SAME"');
      const previous = await person.get(linkOf(page.text, 'prev')!);
      expect(rowsOf(previous.text)).toEqual(
        expected.slice(Math.max(0, start - USERS_PER_PAGE), start).length === USERS_PER_PAGE
          ? expected.slice(start - USERS_PER_PAGE, start)
          : expected.slice(0, USERS_PER_PAGE),
      );
      const next = await person.get(linkOf(page.text, 'next')!);
      expect(rowsOf(next.text)).toEqual(expected.slice(start + USERS_PER_PAGE, start + 2 * USERS_PER_PAGE));
      // Before every name: the first page, without Previous.
      const top = await person.get('/admin/users?from=a');
      expect(rowsOf(top.text)).toEqual(expected.slice(0, USERS_PER_PAGE));
      expect(linkOf(top.text, 'prev')).toBeUndefined();
      // After every name: the first page rather than an empty one.
      expect(rowsOf((await person.get('/admin/users?from=zzzz')).text)).toEqual(expected.slice(0, USERS_PER_PAGE));
    });

    it('answers a changed or made-up cursor with 400, a clear message and the first page', async () => {
      const forged = [
        'not-a-cursor',
        Buffer.from('{"page":1}').toString('base64url'),
        Buffer.from('[1,"a"]').toString('base64url'),
        Buffer.from('[-1,"a","b@c"]').toString('base64url'),
        Buffer.from('[1,"a",""]').toString('base64url'),
        Buffer.from(`[1,"${'a'.repeat(300)}","b@c"]`).toString('base64url'),
        'A'.repeat(5000),
        '%%%',
        '',
      ];
      for (const cursor of forged) {
        for (const param of ['after', 'before']) {
          const answer = await person.get(`/admin/users?${param}=${encodeURIComponent(cursor)}`);
          expect(answer.status).toBe(400);
          expect(answer.text).toContain('This link to another page of the list was changed or cut short.');
          expect(rowsOf(answer.text)).toEqual(expected.slice(0, USERS_PER_PAGE));
        }
      }
      // A well-formed cursor is only a position: one pointing anywhere reads from there, in this organizer.
      const made = encodeListCursor({ name: 'other', email: 'u000@ties.test', page: 2 });
      const answer = await person.get(`/admin/users?after=${made}`);
      expect(answer.status).toBe(200);
    });
  });

  describe('search', () => {
    const ORG = 'Finders Org';
    let person: Person;
    let renamed: User;

    beforeAll(async () => {
      ({ person } = await adminOf(t, ORG, 'Fay Admin'));
      for (const [name, email] of [
        ['Anna 100% Sure', 'anna@find.test'],
        ['Bob_Smith', 'bob.smith@find.test'],
        ['Bobby Tables', 'tables@find.test'],
        ['Dan "The Man" Doe', 'dan@find.test'],
        ['Star*Gazer', 'gazer@find.test'],
        ['Abbott Costello', 'costello@find.test'],
        ['Carla', 'bo.carla@elsewhere.test'],
        ['Ünal Öz', 'unal@find.test'],
      ])
        await createUser(t, { organizer: ORG, name, email, password: null });
      renamed = await createUser(t, { organizer: ORG, name: 'Old Name', email: 'rename@find.test', password: null });
      await createUser(t, { organizer: 'Finders Other Org', name: 'Bob Outsider', email: 'bob@outsider.test' });
      await createUser(t, { organizer: 'Finders Other Org', name: 'Bobby Tables', email: 'bobby@outsider.test' });
    });

    const names = async (q: string) =>
      rowsOf((await person.get(`/admin/users?q=${encodeURIComponent(q)}`)).text).map((row) => row.name);

    it('finds 3 characters or more anywhere in the name or the email, case-insensitively, in list order', async () => {
      expect(await names('BOB')).toEqual(['Bob_Smith', 'Bobby Tables']);
      expect(await names('tables')).toEqual(['Bobby Tables']);
      expect(await names('ELSEWHERE')).toEqual(['Carla']);
      expect(await names('bott cost')).toEqual(['Abbott Costello']);
      expect(await names('find.test')).toHaveLength(8);
    });

    it('takes % _ * and quotes as typed', async () => {
      expect(await names('00%')).toEqual(['Anna 100% Sure']);
      expect(await names('b_s')).toEqual(['Bob_Smith']);
      expect(await names('b%b')).toEqual([]);
      expect(await names('r*g')).toEqual(['Star*Gazer']);
      expect(await names('ar*')).toEqual(['Star*Gazer']);
      expect(await names('"the man"')).toEqual(['Dan "The Man" Doe']);
      expect(await names('n "t')).toEqual(['Dan "The Man" Doe']);
      expect(await names('" OR 1=1 --')).toEqual([]);
      expect(await names('*')).toEqual([]);
    });

    it('finds 1 or 2 characters at the start of a name or an email only', async () => {
      expect(await names('bo')).toEqual(['Bob_Smith', 'Bobby Tables', 'Carla']);
      expect(await names('B')).toEqual(['Bob_Smith', 'Bobby Tables', 'Carla']);
      expect(await names('ab')).toEqual(['Abbott Costello']);
      expect(await names('an')).toEqual(['Anna 100% Sure']);
      expect(await names('%')).toEqual([]);
      expect(await names('_')).toEqual([]);
      expect(await names('"')).toEqual([]);
    });

    it('never shows a user of another organizer', async () => {
      for (const q of ['bob', 'bo', 'b', 'outsider', 'bobby tables', 'out'])
        for (const name of await names(q)) expect(name).not.toBe('Bob Outsider');
      expect(await names('bobby')).toEqual(['Bobby Tables']);
    });

    it('finds a renamed user by the new name and no longer by the old one', async () => {
      expect(await names('old name')).toEqual(['Old Name']);
      await t.get(DataSource).getRepository(User).update(renamed.id, { name: 'Quentin Newname' });
      expect(await names('old name')).toEqual([]);
      expect(await names('newname')).toEqual(['Quentin Newname']);
      expect(await names('qu')).toEqual(['Quentin Newname']);
      await t.get(DataSource).getRepository(User).update(renamed.id, { email: 'quentin@moved.test' });
      expect(await names('rename@')).toEqual([]);
      expect(await names('moved.test')).toEqual(['Quentin Newname']);
    });

    it('says so when nothing matches, and exports the same matches as CSV', async () => {
      const none = await person.get('/admin/users?q=nobody-like-this');
      expect(none.status).toBe(200);
      expect(none.text).toContain('No user matches “nobody-like-this”');
      const csv = await person.get('/admin/users/export.csv?q=bob');
      expect(csv.text).toContain('Bob_Smith');
      expect(csv.text).toContain('Bobby Tables');
      expect(csv.text).not.toContain('Outsider');
      expect(csv.text).not.toContain('outsider');
    });
  });

  describe('a big organizer (bulk users, planner statistics)', () => {
    const ORG = 'Bulk List Org';
    const SEEDED = 2000;
    const OTHERS = 4000;
    const OTHER_NAMES = ['Ada', 'Ben', 'Cleo', 'Dev', 'Eli', 'Fay', 'Gus', 'Hal', 'Ivy', 'Jo', 'Kai', 'Lou'];
    let person: Person;
    let expected: { name: string; email: string }[];

    const seed = (organizer: string, count: number, prefix: string) => seedUsers(t, organizer, count, prefix);

    beforeAll(async () => {
      const made = await adminOf(t, ORG, 'Bea Admin');
      person = made.person;
      const ours = await seed(ORG, SEEDED, 'p');
      // And people of other names, so that the "person" searches are a part of the organizer, as in life.
      const others = await seedUsers(t, ORG, OTHERS, 'o', {
        name: (i) => `${OTHER_NAMES[i % OTHER_NAMES.length]} ${i}`,
      });
      ours.push(...others);
      await seed('Bulk List Other Org', 300, 'x');
      // Planner statistics, and on PostgreSQL the visibility map of a table just filled (autovacuum's work, in life).
      const dataSource = t.get(DataSource);
      await dataSource.query(dataSource.options.type === 'postgres' ? 'VACUUM ANALYZE' : 'ANALYZE');
      expected = listOrder([...ours, made.admin].map(({ name, email }) => ({ name, email })));
    });

    it('counts a search up to 1,000 matches: “1,000+”, no page count and no Last link beyond', async () => {
      const page = await person.get('/admin/users?q=person');
      expect(captionOf(page.text)).toBe(`${SEARCH_COUNT_CAP.toLocaleString('en')}+ users matching “person”, page 1`);
      expect(linkOf(page.text, 'last')).toBeUndefined();
      const next = await person.get(linkOf(page.text, 'next')!);
      expect(captionOf(next.text)).toBe('1,000+ users matching “person”, page 2');
      expect(rowsOf(next.text)).toEqual(
        expected.filter((user) => user.name.toLowerCase().includes('person')).slice(20, 40),
      );
      const few = await person.get('/admin/users?q=person%200042');
      expect(captionOf(few.text)).toMatch(/^3 users matching “person 0042”$/);
    });

    it('opens a deep ?page=N as the first page with a note; a shallow one by its number', async () => {
      const deep = await person.get(`/admin/users?page=${OFFSET_PAGES + 5}`);
      expect(deep.status).toBe(200);
      expect(deep.text).toContain(`Page ${OFFSET_PAGES + 5} cannot be opened by its number`);
      expect(rowsOf(deep.text)).toEqual(expected.slice(0, USERS_PER_PAGE));
      const shallow = await person.get(`/admin/users?page=${OFFSET_PAGES}`);
      expect(rowsOf(shallow.text)).toEqual(
        expected.slice((OFFSET_PAGES - 1) * USERS_PER_PAGE, OFFSET_PAGES * USERS_PER_PAGE),
      );
      const pages = Math.ceil(expected.length / USERS_PER_PAGE);
      const last = await person.get(`/admin/users?page=${pages}`);
      expect(rowsOf(last.text)).toEqual(expected.slice((pages - 1) * USERS_PER_PAGE));
    });

    it('reads every list query through an index, without a scan of users or a sort (EXPLAIN, both databases)', async () => {
      const first = await person.get('/admin/users');
      const next = linkOf(first.text, 'next')!;
      const second = await person.get(next);
      const previous = linkOf(second.text, 'prev')!;
      const pages = Math.ceil(expected.length / USERS_PER_PAGE);
      const filtered = await person.get('/admin/users?show=not-set-up');
      const work: Record<string, string> = {
        first: '/admin/users',
        next,
        previous,
        last: `/admin/users?page=${pages}`,
        offset: '/admin/users?page=3',
        from: '/admin/users?from=person%200500',
        filter: '/admin/users?show=not-set-up',
        'filter next': linkOf(filtered.text, 'next')!,
        'filter last': linkOf(filtered.text, 'last')!,
        // More than 1,000 matches: the order index walked, each user tested (userSearch's `dense`).
        'search, dense': '/admin/users?q=person',
        'search, dense, next': linkOf((await person.get('/admin/users?q=person')).text, 'next')!,
        'csv batch': '/admin/users/export.csv',
        'csv batch, filter': '/admin/users/export.csv?show=not-set-up',
      };
      for (const [what, path] of Object.entries(work)) {
        const queries = listQueries(await plansOf(t, ['users'], () => person.get(path)));
        expect({ what, count: queries.length > 0 }).toEqual({ what, count: true });
        for (const query of queries)
          expect({ what, sql: query.sql, problems: planProblems(query, ['users']) }).toEqual({
            what,
            sql: query.sql,
            problems: [],
          });
      }
    });

    it('finds search matches through the search index: no scan of users; only the matches are sorted', async () => {
      const postgres = t.get(DataSource).options.type === 'postgres';
      for (const [what, path, index] of [
        ['search', '/admin/users?q=son%200042', postgres ? /IDX_users_(name|email)_trgm/ : /VIRTUAL TABLE INDEX/],
        [
          'search, csv',
          '/admin/users/export.csv?q=son%200042',
          postgres ? /IDX_users_(name|email)_trgm/ : /VIRTUAL TABLE INDEX/,
        ],
      ] as const) {
        const queries = listQueries(await plansOf(t, ['users'], () => person.get(path), { sorted: true }));
        expect({ what, count: queries.length > 0 }).toEqual({ what, count: true });
        for (const query of queries) {
          const scans = planProblems(query, ['users']).filter((step) => !/TEMP B-TREE|Sort/.test(step));
          expect({ what, sql: query.sql, scans }).toEqual({ what, sql: query.sql, scans: [] });
          expect({ what, plan: query.plan.join('\n') }).toEqual({ what, plan: expect.stringMatching(index) });
        }
      }
    });

    it('reads a short search as a page of each start index, in the list order: no scan, no sort of the matches (EXPLAIN, both databases)', async () => {
      // Thousands start with "pe" here (every "Person …"): a page must not cost their number.
      const dense = await person.get('/admin/users?q=pe');
      expect(captionOf(dense.text)).toBe('1,000+ users matching “pe”, page 1');
      const work: Record<string, string> = {
        'first page': '/admin/users?q=pe',
        'next page': linkOf(dense.text, 'next')!,
        'one character': '/admin/users?q=p',
        filter: '/admin/users?q=pe&show=not-set-up',
        'few matches': '/admin/users?q=be',
        'csv batch': '/admin/users/export.csv?q=pe',
      };
      const postgres = t.get(DataSource).options.type === 'postgres';
      for (const [what, path] of Object.entries(work)) {
        const queries = listQueries(await plansOf(t, ['users'], () => person.get(path))).filter((query) =>
          /UNION/.test(query.sql),
        );
        // The count and the page (or the CSV's batch): each a union of the two start indexes.
        expect({ what, count: queries.length >= (what === 'csv batch' ? 1 : 2) }).toEqual({ what, count: true });
        for (const query of queries) {
          const plan = query.plan.join('\n');
          const scans = planProblems(query, ['users']).filter((step) => !/TEMP B-TREE|Sort/.test(step));
          expect({ what, sql: query.sql, scans }).toEqual({ what, sql: query.sql, scans: [] });
          expect({ what, plan }).toEqual({ what, plan: expect.stringMatching(/IDX_users_name_start[12]/) });
          expect({ what, plan }).toEqual({ what, plan: expect.stringMatching(/IDX_users_email_start[12]/) });
          // Each part reads its index in the list's order, at most a page (or the count's cap) of it;
          // only the union of those few rows is put in order.
          expect({ what, partsLimited: /LIMIT \d+\) p0 UNION .* LIMIT \d+\) p1/.test(query.sql) }).toEqual({
            what,
            partsLimited: true,
          });
          expect({ what, sorts: sortsWithin(query.plan, postgres ? /^(->\s*)?Append\b/ : /^CO-ROUTINE p\d$/) }).toEqual(
            {
              what,
              sorts: [],
            },
          );
        }
      }
    });

    it('pages through a short search that thousands match, in the list order, each user once', async () => {
      const starting = expected.filter(
        (user) => user.name.toLowerCase().startsWith('pe') || user.email.startsWith('pe'),
      );
      expect(starting.length).toBeGreaterThan(SEARCH_COUNT_CAP);
      let page = await person.get('/admin/users?q=pe');
      const seen: { name: string; email: string }[] = [];
      for (let i = 0; i < 3; i++) {
        seen.push(...rowsOf(page.text));
        page = await person.get(linkOf(page.text, 'next')!);
      }
      expect(seen).toEqual(starting.slice(0, 3 * USERS_PER_PAGE));
      const previous = await person.get(linkOf(page.text, 'prev')!);
      expect(rowsOf(previous.text)).toEqual(starting.slice(2 * USERS_PER_PAGE, 3 * USERS_PER_PAGE));
      const shallow = await person.get('/admin/users?q=pe&page=3');
      expect(rowsOf(shallow.text)).toEqual(starting.slice(2 * USERS_PER_PAGE, 3 * USERS_PER_PAGE));
      const from = await person.get('/admin/users?q=pe&from=person%200500');
      expect(rowsOf(from.text)).toEqual(
        starting.filter((user) => user.name.toLowerCase() >= 'person 0500').slice(0, USERS_PER_PAGE),
      );
    });
  });
});

/** The list's own queries (its pages, counts and CSV batches), not the sign-in's or the 2FA data's. */
function listQueries(queries: PlannedQuery[]): PlannedQuery[] {
  return queries.filter((query) => /LOWER\("?u"?\."?name"?\)|"one"/.test(query.sql));
}
