import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { Person } from '../utils/agent';
import { createTestApp, createUser, DEFAULT_PASSWORD, TestApp } from '../utils/test-app';
import { testDatabaseUrl } from './two-instances';

/** A connection to the server's maintenance database, to act on the test database from outside. */
async function adminClient(): Promise<Client> {
  const url = new URL(testDatabaseUrl());
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

const databaseName = () => decodeURIComponent(new URL(testDatabaseUrl()).pathname.slice(1));

/**
 * Issue 5, item 4: pool size and statement timeout come from the environment and reach
 * the pg driver; /healthz says 503 while the database is unreachable, and the app
 * serves again once it is back, without a restart.
 */
describe('PostgreSQL connection settings and outage', () => {
  let t: TestApp;
  let admin: Client;

  beforeAll(async () => {
    testDatabaseUrl();
    admin = await adminClient();
    t = await createTestApp({ env: { DB_POOL_SIZE: '3', DB_STATEMENT_TIMEOUT_MS: '1500' } });
  });
  afterAll(async () => {
    await admin?.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS true`).catch(() => undefined);
    await admin?.end();
    await t?.close();
  });

  describe('DB_STATEMENT_TIMEOUT_MS', () => {
    it('is the session statement_timeout of every pooled connection: a longer query is cancelled', async () => {
      const dataSource = t.get(DataSource);
      const [{ statement_timeout }] = await dataSource.query('SHOW statement_timeout');
      expect(statement_timeout).toBe('1500ms');
      const started = Date.now();
      await expect(dataSource.query('SELECT pg_sleep(5)')).rejects.toThrow(/statement timeout/);
      expect(Date.now() - started).toBeLessThan(4000);
    });
  });

  describe('DB_POOL_SIZE', () => {
    it('caps the connections of one instance', async () => {
      const dataSource = t.get(DataSource);
      const rows = await Promise.all(
        Array.from(
          { length: 9 },
          () => dataSource.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.2)') as Promise<{ pid: number }[]>,
        ),
      );
      const pids = new Set(rows.map(([row]) => row.pid));
      expect(pids.size).toBe(3);
    });
  });

  describe('GET /healthz', () => {
    it('answers 503 while the database refuses connections, and 200 again once it is back, without a restart', async () => {
      const user = await createUser(t, { twoFactor: false });
      const person = new Person(t.server);
      expect((await person.login(user.email, DEFAULT_PASSWORD)).headers.location).toBe('/');
      const healthy = await request(t.server).get('/healthz');
      expect(healthy.status).toBe(200);
      expect(healthy.body).toEqual({ status: 'ok' });

      // The database goes away: no new connections, and the pool's connections are cut.
      await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS false`);
      await admin.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [databaseName()],
      );
      try {
        // As a load balancer asks (no cookie), and as a signed-in browser does.
        for (let i = 0; i < 3; i++) {
          const down = await request(t.server).get('/healthz');
          expect(down.status).toBe(503);
          expect(down.body.status).not.toBe('ok');
        }
        expect((await person.get('/healthz')).status).toBe(503);
        const page = await person.get('/');
        expect(page.status).toBe(503);
        expect(page.text).not.toMatch(/at .*\.(js|ts):\d+/);
        const login = await request(t.server).get('/login');
        expect(login.status).toBeLessThan(500);
      } finally {
        await admin.query(`ALTER DATABASE "${databaseName()}" ALLOW_CONNECTIONS true`);
      }

      const back = await request(t.server).get('/healthz');
      expect(back.status).toBe(200);
      expect(back.body).toEqual({ status: 'ok' });
      // The session lived in the database all along: the same person is still signed in.
      const dashboard = await person.get('/');
      expect(dashboard.status).toBe(200);
      expect(dashboard.text).toContain('Signed in as');
    });
  });
});
