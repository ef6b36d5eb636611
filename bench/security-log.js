'use strict';
/**
 * The security log at scale (issue 14): how long its first page and its chart take with 1,000
 * and 1,000,000 events, on SQLite and on PostgreSQL, and the query plans behind them.
 *
 *   node bench/security-log.js [--sizes=1000,1000000] [--runs=7] [--no-pg] [--pg-only] [--csv]
 *
 * Runs the app from its sources (ts-node, types not checked: nothing is built), in this
 * process, on 127.0.0.1. For each database and size:
 *   1. a fresh DATA_DIR (SQLite) or a throw-away PostgreSQL database (user postgres on
 *      127.0.0.1:5432, or PG_ADMIN_URL), migrated by the app;
 *   2. an organizer with an admin and 50 members, and N events of theirs spread over the
 *      last 365 days (a realistic mix of types: most sign-ins, some failures, a few locks),
 *      plus N/10 events of another organizer; SQLite: one prepared INSERT in one
 *      transaction; PostgreSQL: INSERT … SELECT over generate_series, then VACUUM ANALYZE
 *      (what autovacuum would have done on a database that old);
 *   3. the admin signs in over HTTP, then the median of --runs timings (after 2 warm-ups) of:
 *      the page (first page + chart), the page filtered by kind, by person, a page deep in the
 *      log (its cursor in the middle of the events), and, in SQL alone, the chart's count and
 *      the first page's rows; with --csv, one full CSV export (time, rows, the app's RSS);
 *   4. the plans of those queries as the app sends them (EXPLAIN QUERY PLAN on SQLite,
 *      EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL), captured from TypeORM's query runner.
 * Results are printed and written to bench/results/security-log-<time>.json.
 */
require('ts-node').register({ transpileOnly: true });
require('reflect-metadata');
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const { NestFactory } = require('@nestjs/core');
const request = require('supertest');
const { DataSource } = require('typeorm');
const { AppModule } = require('../src/app.module');
const { configureApp, migrate } = require('../src/app.setup');
const { AppConfig } = require('../src/config/app-config');
const { AuditService } = require('../src/audit/audit.service');
const { OrganizersService } = require('../src/organizers/organizers.service');
const { UsersService } = require('../src/users/users.service');
const { SecurityLogService } = require('../src/admin/security-log/security-log.service');
const { CHARTED_TYPES } = require('../src/admin/security-log/event-kinds');
const { encodeCursor } = require('../src/admin/security-log/log-cursor');

const { option, flag, benchEnvironment, explainAll, runBench, benchLog } = require('./lib/in-process');
const SIZES = option('sizes', '1000,1000000').split(',').map(Number);
const RUNS = Number(option('runs', '7'));
const PASSWORD = 'Bench mark: the security log 2026';
const DAY = 86_400_000;
const MEMBERS = 50;

/** The mix of event types, per 200 events. */
const MIX = Object.entries({
  'login.succeeded': 118,
  'session.logout': 24,
  'login.failed': 28,
  'code.failed': 10,
  'login.passkey_failed': 2,
  'login.locked': 1,
  'code.locked': 1,
  'password.changed': 4,
  'two_factor.setup': 4,
  'recovery_code.used': 2,
  'account.invitation_accepted': 2,
  'two_factor.reset': 2,
  'mail.failed': 2,
}).flatMap(([type, weight]) => Array(weight).fill(type));
if (MIX.length !== 200) throw new Error(`the mix has ${MIX.length} slots, not 200`);

const log = benchLog('security-log');
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const ms = (value) => Number(value.toFixed(2));

async function measure(database, size) {
  const { env, dispose } = await benchEnvironment('log', database, 'f');
  let app;
  try {
    const config = AppConfig.fromEnv(env);
    app = await NestFactory.create(AppModule.forRoot({ config }), { bodyParser: false, logger: ['error'] });
    configureApp(app);
    await migrate(app);
    await app.init();
    const server = app.getHttpServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

    const users = app.get(UsersService);
    const organizers = app.get(OrganizersService);
    const organizer = await organizers.create('Bench Log Events');
    const other = await organizers.create('Bench Other Events');
    const admin = await users.create({
      organizerId: organizer.id,
      email: 'admin@bench-log.test',
      name: 'Bench Admin',
      role: 'admin',
      twoFactorRequired: false,
      password: PASSWORD,
    });
    const members = [];
    for (let i = 0; i < MEMBERS; i++) {
      members.push(
        await users.create({
          organizerId: organizer.id,
          email: `member${i}@bench-log.test`,
          name: `Member ${i}`,
          role: 'member',
          twoFactorRequired: false,
        }),
      );
    }
    const outsider = await users.create({
      organizerId: other.id,
      email: 'outsider@bench-other.test',
      name: 'Outsider',
      role: 'member',
      twoFactorRequired: false,
    });

    const dataSource = app.get(DataSource);
    const now = Date.now();
    const seedStart = performance.now();
    await seed(dataSource, database, {
      organizerId: organizer.id,
      userIds: members.map((m) => m.id),
      count: size,
      now,
    });
    await seed(dataSource, database, {
      organizerId: other.id,
      userIds: [outsider.id],
      count: Math.ceil(size / 10),
      now,
    });
    if (database === 'postgres') {
      const runner = dataSource.createQueryRunner();
      await runner.query('SET statement_timeout = 0');
      await runner.query('VACUUM ANALYZE audit_events');
      await runner.query('RESET statement_timeout');
      await runner.release();
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;
    log(
      `seeded ${size.toLocaleString('en')} (+${Math.ceil(size / 10).toLocaleString('en')}) events in ${seedSeconds.toFixed(1)} s`,
    );

    // The admin signs in (password only) with a browser's cookies and CSRF token.
    const agent = request.agent(server);
    const form = await agent.get('/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)[1];
    const login = await agent
      .post('/login')
      .type('form')
      .send({ email: admin.email, password: PASSWORD, next: '', _csrf: csrf })
      .redirects(0);
    if (login.status !== 303 || login.headers.location !== '/') throw new Error(`sign-in answered ${login.status}`);

    // A cursor in the middle of the organizer's events: a page as deep as OFFSET N/2 would be.
    const middle = await dataSource
      .createQueryRunner()
      .query(
        `SELECT "id", "created_at" AS "createdAt" FROM "audit_events" WHERE "organizer_id" = ${placeholder(database, 1)} ` +
          `ORDER BY "created_at" DESC, "id" DESC LIMIT 1 OFFSET ${Math.floor(size / 2)}`,
        [organizer.id],
      );
    const deep = encodeCursor({ createdAt: Number(middle[0].createdAt), id: middle[0].id });

    const pages = {
      page: '/admin/security-log',
      page_kind_failed: '/admin/security-log?kind=failed-sign-ins',
      page_kind_locks: '/admin/security-log?kind=locks',
      page_person: `/admin/security-log?person=${encodeURIComponent(members[7].email)}`,
      page_deep: `/admin/security-log?before=${deep}`,
      page_last_7_days: `/admin/security-log?from=${isoDay(now - 6 * DAY)}&to=${isoDay(now)}`,
    };
    const timings = {};
    for (const [name, path] of Object.entries(pages)) {
      timings[`${name}_ms`] = ms(
        await timed(async () => {
          const answer = await agent.get(path).redirects(0);
          if (answer.status !== 200) throw new Error(`${path} answered ${answer.status}`);
        }),
      );
    }
    const audit = app.get(AuditService);
    const securityLog = app.get(SecurityLogService);
    const today = Math.floor(now / DAY);
    timings.sql_chart_ms = ms(
      await timed(() =>
        audit.countPerDay(organizer.id, CHARTED_TYPES, new Date((today - 29) * DAY), new Date((today + 1) * DAY)),
      ),
    );
    timings.sql_first_page_ms = ms(await timed(() => securityLog.rows(organizer.id, {}, undefined, 51)));

    const plans = await explainAll(dataSource, database, 'audit_events', async () => {
      await audit.countPerDay(organizer.id, CHARTED_TYPES, new Date((today - 29) * DAY), new Date((today + 1) * DAY));
      for (const path of Object.values(pages)) await securityLog.page(admin, queryOf(path));
    });

    let csv;
    if (flag('csv')) {
      const before = process.memoryUsage().rss;
      const start = performance.now();
      const answer = await agent.get('/admin/security-log/export.csv').buffer(true).parse(collect);
      csv = {
        seconds: ms((performance.now() - start) / 1000),
        rows: answer.body.rows - 1,
        megabytes: ms(answer.body.bytes / 1e6),
        rss_growth_mb: ms((process.memoryUsage().rss - before) / 1e6),
      };
      log(`CSV: ${JSON.stringify(csv)}`);
    }
    return {
      events: size,
      otherOrganizerEvents: Math.ceil(size / 10),
      seedSeconds: ms(seedSeconds),
      timings,
      csv,
      plans,
    };
  } finally {
    await app?.close();
    await dispose();
  }
}

/** N events of an organizer over the last 365 days, newest at `now`, in one transaction. */
async function seed(dataSource, database, { organizerId, userIds, count, now }) {
  const spacing = (365 * DAY) / count;
  if (database === 'sqlite') {
    const db = dataSource.driver.databaseConnection;
    const insert = db.prepare(
      'INSERT INTO "audit_events" ("id", "organizer_id", "user_id", "actor_id", "type", "detail", "ip", "created_at") VALUES (?, ?, ?, NULL, ?, NULL, ?, ?)',
    );
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        insert.run(
          randomUUID(),
          organizerId,
          userIds[i % userIds.length],
          MIX[(i * 7919) % 200],
          `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          Math.floor(now - i * spacing - ((i * 104729) % 1000)),
        );
      }
    })();
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    // The app's statement timeout is for requests, not for a million-row seed.
    await runner.query('SET statement_timeout = 0');
    await runner.query(
      `INSERT INTO "audit_events" ("id", "organizer_id", "user_id", "actor_id", "type", "detail", "ip", "created_at")
       SELECT gen_random_uuid()::text, $1, ($2::text[])[1 + (i % $3)::int], NULL, ($4::text[])[1 + ((i * 7919) % 200)::int], NULL,
              '10.' || ((i >> 16) & 255) || '.' || ((i >> 8) & 255) || '.' || (i & 255),
              floor($5::bigint - i * $6::float8 - ((i * 104729) % 1000))::bigint
       FROM generate_series(0::bigint, $7::bigint - 1) AS i`,
      [organizerId, userIds, userIds.length, MIX, now, spacing, count],
    );
    await runner.query('RESET statement_timeout');
  } finally {
    await runner.release();
  }
}

/** The median time of RUNS calls, after 2 warm-ups. */
async function timed(work) {
  for (let i = 0; i < 2; i++) await work();
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await work();
    times.push(performance.now() - start);
  }
  return median(times);
}

function queryOf(path) {
  return Object.fromEntries(new URL(path, 'http://x').searchParams);
}

function placeholder(database, n) {
  return database === 'postgres' ? `$${n}` : '?';
}

function isoDay(at) {
  return new Date(at).toISOString().slice(0, 10);
}

/** supertest parser that counts instead of keeping the export in memory. */
function collect(res, done) {
  let bytes = 0;
  let rows = 0;
  res.on('data', (chunk) => {
    bytes += chunk.length;
    for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows += 1;
  });
  res.on('end', () => done(null, { bytes, rows }));
}

function printSummary(results) {
  for (const [database, sizes] of Object.entries(results.databases)) {
    console.log(`\n${database}`);
    const names = Object.keys(Object.values(sizes)[0].timings);
    console.log(['', ...Object.keys(sizes).map((s) => `${Number(s).toLocaleString('en')} events`)].join('\t'));
    for (const name of names) console.log([name, ...Object.values(sizes).map((r) => r.timings[name])].join('\t'));
  }
}

runBench({
  name: 'security-log',
  unit: 'events',
  sizes: SIZES,
  extra: { runs: RUNS },
  measure,
  printSummary,
});
