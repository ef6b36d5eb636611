import { rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { DataSource } from 'typeorm';
import { USERS_CSV_BATCH } from '../../src/admin/admin-user-list.service';
import { SecondFactors } from '../../src/two-factor/factors/second-factors.service';
import { User } from '../../src/users/user.entity';
import { Person } from '../utils/agent';
import { adminOf } from '../utils/admin';
import { parseCsv } from '../utils/csv';
import { bulkName, seedUsers } from '../utils/bulk-users';
import { createTestApp, createUser, TestApp } from '../utils/test-app';

/**
 * GET /admin/users/export.csv streams (issue 16): keyset batches in the list's order
 * (LOWER(name), email), each batch's 2FA data asked for that batch only, a turn of the event
 * loop between batches, so a sign-in is answered while an export runs. The columns, words and
 * formula safety of a small export are admin-oversight.e2e-spec.ts's.
 */
describe('Users CSV export, streamed (GET /admin/users/export.csv)', () => {
  const ORG = 'Bulk Export Org';
  const OTHER = 'Bulk Other Org';
  const SEEDED = 5000;
  let t: TestApp;
  let admin: User;
  let person: Person;
  /** Every user of ORG in the list's order: LOWER(name), then email. */
  let expected: { name: string; email: string }[];

  /** Few distinct names, in three cases: most batch boundaries fall inside a run of equal LOWER(name). */
  const seed = (organizer: string, count: number, prefix: string) =>
    seedUsers(t, organizer, count, prefix, {
      name: (i) => (i % 97 === 0 ? `=cmd|' /C calc'!A${i}` : bulkName(i)),
      twoFactorRequired: (i) => i % 2 === 0,
      createdAt: (i) => new Date(t.clock.nowMs() - i * 1000),
    });

  beforeAll(async () => {
    t = await createTestApp();
    ({ admin, person } = await adminOf(t, ORG, 'Ann Admin'));
    const ours = await seed(ORG, SEEDED, 'p');
    await seed(OTHER, 300, 'x');
    expected = [...ours, admin]
      .map(({ name, email }) => ({ name, email }))
      .sort((a, b) => cmp(a.name.toLowerCase(), b.name.toLowerCase()) || cmp(a.email, b.email));
  }, 60_000);

  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('has every user of the organizer exactly once, in the list’s order, across batch boundaries and ties', async () => {
    const answer = await person.get('/admin/users/export.csv');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.text.startsWith('\uFEFF')).toBe(true);
    const [header, ...rows] = parseCsv(answer.text);
    expect(header).toEqual(['Name', 'Email', 'Role', '2FA', 'Last sign-in', 'Created', 'Factors']);
    expect(rows).toHaveLength(SEEDED + 1);
    expect(rows.map((row) => row[1])).toEqual(expected.map((user) => user.email));
    expect(new Set(rows.map((row) => row[1])).size).toBe(rows.length);
    // Only the admin's organizer.
    expect(rows.some((row) => row[1].startsWith('x'))).toBe(false);
    // Formula-safe in every batch, and the words of every other column kept.
    for (const row of rows) {
      expect(row[0]).not.toMatch(/^[=+\-@\t\r]/);
      expect(['Admin', 'Member']).toContain(row[2]);
      expect(['Off', 'Pending setup']).toContain(row[3]);
    }
    expect(rows.filter((row) => row[0].startsWith("'=cmd|")).length).toBe(Math.ceil(SEEDED / 97));
  });

  it('keeps the search and the filter across batches', async () => {
    const searched = parseCsv((await person.get('/admin/users/export.csv?q=person%200042')).text).slice(1);
    const want = expected.filter((user) => user.name.toLowerCase() === 'person 0042').map((user) => user.email);
    expect(want.length).toBeGreaterThan(5);
    expect(searched.map((row) => row[1])).toEqual(want);
    const notSetUp = parseCsv((await person.get('/admin/users/export.csv?show=not-set-up')).text).slice(1);
    expect(notSetUp.map((row) => row[1])).toEqual(expected.map((user) => user.email));
  });

  it('asks the 2FA data a batch at a time, with a turn of the event loop between batches', async () => {
    const factors = t.get(SecondFactors);
    const original = factors.kindsOf.bind(factors);
    const events: string[] = [];
    const sizes: number[] = [];
    jest.spyOn(factors, 'kindsOf').mockImplementation((ids) => {
      const batch = sizes.length;
      sizes.push(ids.length);
      events.push(`batch ${batch}`);
      setImmediate(() => events.push(`turn after ${batch}`));
      return original(ids);
    });
    const answer = await person.get('/admin/users/export.csv');
    expect(parseCsv(answer.text)).toHaveLength(SEEDED + 2);
    const batches = Math.ceil((SEEDED + 1) / USERS_CSV_BATCH);
    expect(sizes).toHaveLength(batches);
    for (const size of sizes) expect(size).toBeLessThanOrEqual(USERS_CSV_BATCH);
    // A request that arrives during batch i is served before batch i + 1 is read.
    for (let i = 0; i < batches - 1; i++) {
      expect(events.indexOf(`turn after ${i}`)).toBeLessThan(events.indexOf(`batch ${i + 1}`));
    }
  });

  it('sends the first rows before reading the rest, and answers GET /login while the export is under way', async () => {
    const factors = t.get(SecondFactors);
    const original = factors.kindsOf.bind(factors);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const secondBatch = new Promise<void>((resolve) => (reached = resolve));
    let calls = 0;
    // The export's second batch waits until the test lets it go: the export is then surely unfinished.
    jest.spyOn(factors, 'kindsOf').mockImplementation(async (ids) => {
      calls += 1;
      if (calls === 2) {
        reached();
        await held;
      }
      return original(ids);
    });
    let firstChunk!: (text: string) => void;
    const gotFirstChunk = new Promise<string>((resolve) => (firstChunk = resolve));
    let finished = false;
    const exporting = person
      .get('/admin/users/export.csv')
      .buffer(true)
      .parse((response, done) => {
        const res = response as unknown as IncomingMessage;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!text) firstChunk(chunk);
          text += chunk;
        });
        res.on('end', () => {
          finished = true;
          done(null, text);
        });
      })
      .then((answer) => answer);

    await secondBatch;
    const first = await gotFirstChunk;
    expect(first.startsWith('\uFEFF"Name","Email"')).toBe(true);
    const login = await new Person(t.server).get('/login');
    expect(login.status).toBe(200);
    expect(login.text).toContain('Sign in');
    expect(finished).toBe(false);

    release();
    const answer = await exporting;
    expect(finished).toBe(true);
    const rows = parseCsv(answer.body as string).slice(1);
    expect(rows.map((row) => row[1])).toEqual(expected.map((user) => user.email));
  });

  it('cuts the connection when a batch fails after the headers were sent (never a CSV that looks complete)', async () => {
    const factors = t.get(SecondFactors);
    const original = factors.kindsOf.bind(factors);
    let calls = 0;
    jest.spyOn(factors, 'kindsOf').mockImplementation(async (ids) => {
      calls += 1;
      if (calls === 3) throw new Error('the database went away');
      return original(ids);
    });
    const error = await person
      .get('/admin/users/export.csv')
      .then(() => null)
      .catch((caught: Error) => caught);
    expect(error).not.toBeNull();
    // The app goes on answering.
    expect((await new Person(t.server).get('/login')).status).toBe(200);
  });
});

/** The planner's statistics (migrate in app.setup.ts → database/migrate.ts), which the export's index plans rely on. */
describe('Planner statistics at start', () => {
  const postgres = !!process.env.TEST_DATABASE_URL;

  (postgres ? it : it.skip)('PostgreSQL: the tables are analyzed once the migrations ran', async () => {
    const t = await createTestApp();
    try {
      // reltuples is -1 until a table was first analyzed (or vacuumed); ANALYZE makes it 0 on an empty table.
      const rows: { relname: string; reltuples: number }[] = await t
        .get(DataSource)
        .query(`SELECT relname, reltuples FROM pg_class WHERE relname IN ('users', 'audit_events', 'totp_devices')`);
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(Number(row.reltuples)).toBeGreaterThanOrEqual(0);
    } finally {
      await t.close();
    }
  });

  (postgres ? it.skip : it)(
    'SQLite: ANALYZE when there are no statistics yet, so a restart knows the users index',
    async () => {
      const first = await createTestApp();
      const dataDir = first.dataDir;
      try {
        const tables = await first.get(DataSource).query("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'");
        expect(tables).toHaveLength(1);
        for (let i = 0; i < 3; i++) await createUser(first, { organizer: 'Stats Org', twoFactor: false });
        await first.get(DataSource).query('DELETE FROM sqlite_stat1');
        await first.app.close();
        const second = await createTestApp({ dataDir, keepDatabase: true });
        try {
          const stats: { idx: string }[] = await second
            .get(DataSource)
            .query("SELECT idx FROM sqlite_stat1 WHERE tbl = 'users'");
          expect(stats.map((row) => row.idx)).toContain('IDX_users_organizer_name_email');
        } finally {
          await second.close();
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
