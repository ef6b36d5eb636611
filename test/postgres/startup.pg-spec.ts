import { Client } from 'pg';
import request from 'supertest';
import { ManualClock } from '../utils/manual-clock';
import { resetPostgresSchema } from '../utils/postgres';
import { createTestApp, TEST_START, TestApp } from '../utils/test-app';
import { testDatabaseUrl } from './two-instances';

/**
 * Issue 5: several instances may be started at the same moment (a deploy, a container
 * orchestrator) on an empty or outdated database. Each runs the pending migrations at
 * start; they must take turns, so that every instance comes up and each migration runs once.
 */
describe('instances starting together on an empty PostgreSQL database', () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    for (const t of apps) await t.close();
  });

  it('all three come up and serve; every migration ran exactly once', async () => {
    const url = testDatabaseUrl();
    await resetPostgresSchema(url);
    const started = await Promise.allSettled(
      [1, 2, 3].map(() =>
        createTestApp({ keepDatabase: true, clock: new ManualClock(TEST_START), env: { DB_POOL_SIZE: '1' } }),
      ),
    );
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
    expect(started.map((result) => (result.status === 'rejected' ? String(result.reason) : 'started'))).toEqual([
      'started',
      'started',
      'started',
    ]);

    for (const t of apps) {
      const health = await request(t.server).get('/healthz');
      expect(health.status).toBe(200);
    }
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT name, COUNT(*)::int AS times FROM migrations GROUP BY name');
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((row) => row.times !== 1)).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
