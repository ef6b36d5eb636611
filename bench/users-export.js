'use strict';
/**
 * The users CSV export at scale (issue 16): memory, first byte and total time of
 * GET /admin/users/export.csv for an organizer of N users, and how long an anonymous
 * GET /login waits while it runs, on SQLite and on PostgreSQL, with the plans of its queries.
 *
 *   node --expose-gc bench/users-export.js [--sizes=100000,300000] [--no-pg] [--pg-only]
 *
 * Runs the app from its sources (ts-node, types not checked), in this process, on 127.0.0.1.
 * For each database and size:
 *   1. a fresh DATA_DIR (SQLite) or a throw-away PostgreSQL database (user postgres on
 *      127.0.0.1:5432, or PG_ADMIN_URL), migrated by the app (the time of that first start,
 *      statistics included, is start_empty_ms);
 *   2. an organizer with an admin and N members (a third with an active authenticator app,
 *      names with many ties), and N/10 users of another organizer; SQLite: one prepared INSERT
 *      in one transaction; PostgreSQL: INSERT … SELECT over generate_series; then the start
 *      again on the seeded database (migrate: no migration, statistics: start_seeded_ms);
 *   3. the admin signs in over HTTP; an idle GET /login is timed 50 times; then one export
 *      alone, read as it comes (counted, not kept): time to first byte, total time, rows,
 *      peak RSS and heap growth of this process (sampled every 20 ms, after a GC when run with
 *      --expose-gc); then one more while another client asks GET /login one request after
 *      the other, and the latencies of those; and once more with a full GC every 0.5 s (the
 *      heap then: what the export keeps alive, live_heap_growth_mb);
 *   4. the plans of the export's queries on users (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE).
 * Results are printed and written to bench/results/users-export-<time>.json.
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
const { OrganizersService } = require('../src/organizers/organizers.service');
const { UsersService } = require('../src/users/users.service');
const { AdminUserListService } = require('../src/admin/admin-user-list.service');

const { option, benchEnvironment, explainAll, runBench, benchLog } = require('./lib/in-process');
const SIZES = option('sizes', '100000').split(',').map(Number);
const PASSWORD = 'Bench mark: the users export 2026';

const log = benchLog('users-export');
const ms = (value) => Number(value.toFixed(2));
const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
};

async function startApp(env) {
  const config = AppConfig.fromEnv(env);
  const app = await NestFactory.create(AppModule.forRoot({ config }), { bodyParser: false, logger: ['error'] });
  configureApp(app);
  const start = performance.now();
  await migrate(app);
  const migrateMs = performance.now() - start;
  await app.init();
  return { app, migrateMs };
}

async function measure(database, size) {
  const { env, dispose } = await benchEnvironment('export', database, 'e');
  let app;
  try {
    const first = await startApp(env);
    app = first.app;
    const organizers = app.get(OrganizersService);
    const organizer = await organizers.create('Bench Export Events');
    const other = await organizers.create('Bench Other Events');
    const admin = await app.get(UsersService).create({
      organizerId: organizer.id,
      email: 'admin@bench-export.test',
      name: 'Bench Admin',
      role: 'admin',
      twoFactorRequired: false,
      password: PASSWORD,
    });
    const seedStart = performance.now();
    await seed(app.get(DataSource), database, organizer.id, size, 'm');
    await seed(app.get(DataSource), database, other.id, Math.ceil(size / 10), 'o');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    log(
      `seeded ${size.toLocaleString('en')} (+${Math.ceil(size / 10).toLocaleString('en')}) users in ${seedSeconds.toFixed(1)} s`,
    );
    await app.close();

    // The start on the seeded database: no migration left, statistics (PRAGMA optimize, or nothing on PostgreSQL).
    const second = await startApp(env);
    app = second.app;
    const server = app.getHttpServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));

    const agent = request.agent(server);
    const form = await agent.get('/login');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)[1];
    const login = await agent
      .post('/login')
      .type('form')
      .send({ email: admin.email, password: PASSWORD, next: '', _csrf: csrf })
      .redirects(0);
    if (login.status !== 303 || login.headers.location !== '/') throw new Error(`sign-in answered ${login.status}`);

    const visitor = request(server);
    const idle = [];
    for (let i = 0; i < 50; i++) {
      const start = performance.now();
      await visitor.get('/login').expect(200);
      idle.push(performance.now() - start);
    }

    // Once alone, for memory and time; once while another client asks GET /login in a loop.
    const alone = await exportOnce(agent, null);
    const probed = await exportOnce(agent, visitor);
    const collected = await exportOnce(agent, null, true);
    for (const run of [alone, probed, collected]) {
      if (run.status !== 200) throw new Error(`the export answered ${run.status}`);
      if (run.rows !== size + 1) throw new Error(`the export has ${run.rows} rows, not ${size + 1}`);
    }
    const during = probed.during;
    const timings = {
      start_empty_ms: ms(first.migrateMs),
      start_seeded_ms: ms(second.migrateMs),
      export_first_byte_ms: ms(alone.firstByte),
      export_total_ms: ms(alone.total),
      export_rows: alone.rows,
      export_mb: ms(alone.bytes / 1e6),
      rss_growth_mb: ms(alone.rssGrowth / 1e6),
      heap_growth_mb: ms(alone.heapGrowth / 1e6),
      live_heap_growth_mb: ms(collected.heapGrowth / 1e6),
      export_with_probe_total_ms: ms(probed.total),
      login_idle_p50_ms: ms(quantile(idle, 0.5)),
      login_idle_p99_ms: ms(quantile(idle, 0.99)),
      login_during_count: during.length,
      login_during_p50_ms: ms(quantile(during, 0.5) ?? 0),
      login_during_p99_ms: ms(quantile(during, 0.99) ?? 0),
      login_during_max_ms: ms(Math.max(0, ...during)),
    };
    const plans = await explainAll(app.get(DataSource), database, 'users', () =>
      drain(app.get(AdminUserListService).exportCsv(admin, {}), 3),
    );
    return { users: size, otherOrganizerUsers: Math.ceil(size / 10), seedSeconds: ms(seedSeconds), timings, plans };
  } finally {
    await app?.close();
    await dispose();
  }
}

/**
 * One export, read as it comes (counted, not kept): time to first byte and in all, the peak
 * RSS and heap growth of this process (sampled every 20 ms); with `visitor`, GET /login asked
 * one after the other while it runs, and their latencies.
 */
async function exportOnce(agent, visitor, collectGarbage = false) {
  if (global.gc) global.gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  let ticks = 0;
  const sampler = setInterval(() => {
    // With collectGarbage, a full GC every 0.5 s first: the heap then is what the export keeps alive.
    if (collectGarbage && global.gc && ++ticks % 25 === 0) global.gc();
    else if (collectGarbage) return;
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
  }, 20);
  const start = performance.now();
  let firstByte = null;
  let exporting = true;
  const during = [];
  const prober =
    visitor &&
    (async () => {
      while (exporting) {
        const at = performance.now();
        await visitor.get('/login').expect(200);
        if (exporting) during.push(performance.now() - at);
      }
    })();
  const answer = await agent
    .get('/admin/users/export.csv')
    .buffer(true)
    .parse((res, done) => {
      let bytes = 0;
      let rows = 0;
      res.on('data', (chunk) => {
        if (firstByte === null) firstByte = performance.now() - start;
        bytes += chunk.length;
        for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) rows += 1;
      });
      res.on('end', () => done(null, { bytes, rows }));
    });
  const total = performance.now() - start;
  exporting = false;
  await prober;
  clearInterval(sampler);
  return {
    status: answer.status,
    rows: answer.body.rows - 1,
    bytes: answer.body.bytes,
    firstByte,
    total,
    rssGrowth: peakRss - before.rss,
    heapGrowth: peakHeap - before.heapUsed,
    during,
  };
}

/** The first `chunks` chunks of an export (its header and first batches): enough for the plans. */
async function drain(exported, chunks) {
  const { lines } = await exported;
  let n = 0;
  for await (const line of lines) {
    void line;
    if (++n >= chunks) break;
  }
}

/**
 * N users of an organizer, in one transaction: names of 1,000 people in three cases (ties),
 * half required to use 2FA, every third with an active authenticator app.
 */
async function seed(dataSource, database, organizerId, count, prefix) {
  const now = Date.now();
  if (database === 'sqlite') {
    const db = dataSource.driver.databaseConnection;
    const user = db.prepare(
      'INSERT INTO "users" ("id", "organizer_id", "email", "name", "role", "password_hash", "is_active", "two_factor_required", "security_stamp", "created_at") VALUES (?, ?, ?, ?, \'member\', NULL, 1, ?, ?, ?)',
    );
    const device = db.prepare(
      'INSERT INTO "totp_devices" ("id", "user_id", "slot", "secret_enc", "last_step", "confirmed_at", "created_at") VALUES (?, ?, \'active\', \'x\', NULL, ?, ?)',
    );
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const id = randomUUID();
        const n = String(i % 1000).padStart(4, '0');
        user.run(
          id,
          organizerId,
          `${prefix}${i}@bench-export.test`,
          [`person ${n}`, `Person ${n}`, `PERSON ${n}`][i % 3],
          i % 2,
          randomUUID(),
          now - i * 1000,
        );
        if (i % 3 === 0) device.run(randomUUID(), id, now, now);
      }
    })();
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SET statement_timeout = 0');
    await runner.query(
      `INSERT INTO "users" ("id", "organizer_id", "email", "name", "role", "password_hash", "is_active", "two_factor_required", "security_stamp", "created_at")
       SELECT md5($3 || i)::uuid::text, $1, $3 || i || '@bench-export.test',
              (ARRAY['person ', 'Person ', 'PERSON '])[1 + (i % 3)] || lpad((i % 1000)::text, 4, '0'),
              'member', NULL, true, (i % 2) = 1, gen_random_uuid()::text, $4::bigint - i * 1000
       FROM generate_series(0::bigint, $2::bigint - 1) AS i`,
      [organizerId, count, prefix, now],
    );
    await runner.query(
      `INSERT INTO "totp_devices" ("id", "user_id", "slot", "secret_enc", "last_step", "confirmed_at", "created_at")
       SELECT gen_random_uuid()::text, md5($1 || i)::uuid::text, 'active', 'x', NULL, $3::bigint, $3::bigint
       FROM generate_series(0::bigint, $2::bigint - 1, 3) AS i`,
      [prefix, count, now],
    );
    await runner.query('VACUUM ANALYZE users, totp_devices');
    await runner.query('RESET statement_timeout');
  } finally {
    await runner.release();
  }
}

function printSummary(results) {
  for (const [database, sizes] of Object.entries(results.databases)) {
    console.log(`\n${database}`);
    const names = Object.keys(Object.values(sizes)[0].timings);
    console.log(['', ...Object.keys(sizes).map((s) => `${Number(s).toLocaleString('en')} users`)].join('\t'));
    for (const name of names) console.log([name, ...Object.values(sizes).map((r) => r.timings[name])].join('\t'));
    for (const [size, result] of Object.entries(sizes)) {
      console.log(`\nplans, ${database}, ${Number(size).toLocaleString('en')} users`);
      for (const { sql, plan } of result.plans)
        console.log(`  ${sql.slice(0, 120)}…\n    ${plan.map((line) => line.slice(0, 160)).join('\n    ')}`);
    }
  }
}

runBench({
  name: 'users-export',
  unit: 'users',
  sizes: SIZES,
  measure,
  printSummary,
});
