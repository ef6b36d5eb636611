'use strict';
/**
 * What the in-process benches (security-log.js, users-export.js) share: the command line, a
 * fresh DATA_DIR or throw-away PostgreSQL database per measurement, the results file, and the
 * plans of the queries a piece of work sends. They run the app from its sources (ts-node).
 */
const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { Client } = require('pg');

const ADMIN_URL = process.env.PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const args = process.argv.slice(2);
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const flag = (name) => args.includes(`--${name}`);

/** The databases asked for: SQLite unless --pg-only, PostgreSQL unless --no-pg. */
function databasesAsked() {
  const databases = flag('pg-only') ? [] : ['sqlite'];
  if (!flag('no-pg')) databases.push('postgres');
  return databases;
}

/**
 * The app's environment for one measurement on `database`: a fresh DATA_DIR, and on
 * PostgreSQL a throw-away database; `dispose()` removes both.
 */
async function benchEnvironment(name, database, secretFill) {
  const dataDir = mkdtempSync(join(tmpdir(), `tixngo-bench-${name}-`));
  const pgName = `tixngo_bench_${name}_${process.pid}_${Date.now()}`;
  const env = {
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    APP_SECRET: 'bench-app-secret-' + secretFill.repeat(40),
    PUBLIC_URL: 'http://127.0.0.1:3000',
    SEED_DEMO_DATA: 'false',
  };
  if (database === 'postgres') {
    await adminQuery(`CREATE DATABASE ${pgName}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${pgName}`;
    env.DATABASE_URL = url.toString();
  }
  return {
    env,
    async dispose() {
      rmSync(dataDir, { recursive: true, force: true });
      if (database === 'postgres') await adminQuery(`DROP DATABASE IF EXISTS ${pgName}`);
    },
  };
}

/**
 * The main loop of an in-process bench: for each database asked and each size, `measure(database,
 * size)` (an object with `timings`, logged), then the results file bench/results/<name>-<time>.json
 * and `printSummary(results)`. `extra` goes into the results beside the sizes. Exits 1 on failure.
 */
function runBench({ name, unit, sizes, extra = {}, measure, printSummary }) {
  const log = benchLog(name);
  const main = async () => {
    const results = { startedAt: new Date().toISOString(), ...extra, sizes, databases: {} };
    for (const database of databasesAsked()) {
      results.databases[database] = {};
      for (const size of sizes) {
        log(`${database}, ${size.toLocaleString('en')} ${unit}`);
        results.databases[database][size] = await measure(database, size);
        log(JSON.stringify(results.databases[database][size].timings));
      }
    }
    const file = writeResults(name, results);
    printSummary(results);
    log(`written to ${file}`);
  };
  main().catch((error) => {
    console.error(error && error.stack ? error.stack : error);
    process.exit(1);
  });
}

/** A bench's log lines: `[name hh:mm:ss] …`. */
function benchLog(name) {
  return (...parts) => console.log(`[${name} ${new Date().toISOString().slice(11, 19)}]`, ...parts);
}

/** Writes bench/results/<name>-<time>.json; returns its path. */
function writeResults(name, results) {
  mkdirSync(join(__dirname, '..', 'results'), { recursive: true });
  const file = join(__dirname, '..', 'results', `${name}-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  return file;
}

/** The queries on `table` that `work` sends, and the database's plan for each. */
async function explainAll(dataSource, database, table, work) {
  const runner = dataSource.createQueryRunner();
  const prototype = Object.getPrototypeOf(runner);
  const original = prototype.query;
  const captured = [];
  const onTable = new RegExp(`FROM "${table}"`);
  prototype.query = function (sql, parameters, ...rest) {
    if (onTable.test(sql) && !/^EXPLAIN/.test(sql)) captured.push({ sql, parameters });
    return original.call(this, sql, parameters, ...rest);
  };
  try {
    await work();
  } finally {
    prototype.query = original;
  }
  const plans = [];
  for (const { sql, parameters } of captured) {
    if (database === 'sqlite') {
      const db = dataSource.driver.databaseConnection;
      const rows = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(parameters ?? []));
      plans.push({ sql: sql.slice(0, 400), plan: rows.map((row) => row.detail) });
    } else {
      const rows = await runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, parameters);
      plans.push({ sql: sql.slice(0, 400), plan: rows.map((row) => row['QUERY PLAN']) });
    }
  }
  await runner.release();
  return plans;
}

async function adminQuery(sql) {
  const client = new Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 10000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

module.exports = { option, flag, databasesAsked, benchEnvironment, writeResults, explainAll, runBench, benchLog };
