#!/usr/bin/env node
/*
 * npm run test:postgres: the same app on PostgreSQL.
 *
 * 1. creates a throw-away database (tixngo_test_<pid>_<time>) as user postgres on
 *    127.0.0.1:5432, or through the admin URL in PG_ADMIN_URL;
 * 2. runs the migrations with the TypeORM CLI through ormconfig.ts (npm run
 *    migration:run), checks that `migration:generate` finds nothing to change (entities
 *    and migrations agree on PostgreSQL), reverts and runs them again (every `down` works);
 * 3. runs the e2e suite (test/e2e) on it: TEST_DATABASE_URL switches test/utils/test-app.ts
 *    to PostgreSQL, one file at a time (each resets the `public` schema);
 * 4. runs the two-instance specs (test/postgres/*.pg-spec.ts);
 * 5. drops the database, whatever happened.
 * Exits non-zero when any step failed. Extra arguments go to both Jest runs (e.g. --ci).
 */
const { spawnSync } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');
const { Client } = require('pg');

const root = resolve(__dirname, '..', '..');
const adminUrl = process.env.PG_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const database = `tixngo_test_${process.pid}_${Date.now()}`;
const jestArgs = process.argv.slice(2);

function databaseUrl(name) {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(sql) {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 10000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Runs a command in the project folder with the given extra environment; returns true on exit 0. */
function run(title, command, args, env) {
  console.log(`\n--- ${title}\n$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, TZ: 'UTC', ...env } });
  if (result.error) console.error(result.error.message);
  const ok = result.status === 0;
  console.log(`--- ${title}: ${ok ? 'passed' : `FAILED (exit ${result.status ?? result.signal})`}`);
  return ok;
}

/** The migration CLI (npm run migration:*) against the throw-away database, with a throw-away DATA_DIR. */
function migrationSteps(url) {
  const dataDir = mkdtempSync(join(tmpdir(), 'tixngo-pg-cli-'));
  const env = {
    DATABASE_URL: url,
    DATA_DIR: dataDir,
    APP_SECRET: 'test-postgres-runner-secret-0123456789abcdef',
    NODE_ENV: 'test',
  };
  try {
    return (
      run('migration:run (ormconfig.ts)', 'npm', ['run', '--silent', 'migration:run'], env) &&
      run(
        'migration:generate --check: entities and migrations agree',
        'npm',
        ['run', '--silent', 'typeorm', '--', 'migration:generate', '--check', 'src/database/migrations/Unexpected'],
        env,
      ) &&
      run('migration:revert', 'npm', ['run', '--silent', 'migration:revert'], env) &&
      run('migration:run again', 'npm', ['run', '--silent', 'migration:run'], env)
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function jest(title, pathPattern, url) {
  const bin = require.resolve('jest/bin/jest');
  return run(
    title,
    process.execPath,
    [bin, '--config', 'test/postgres/jest.config.js', '--runInBand', ...jestArgs, pathPattern],
    { TEST_DATABASE_URL: url },
  );
}

async function main() {
  const url = databaseUrl(database);
  try {
    await admin(`CREATE DATABASE "${database}"`);
  } catch (error) {
    console.error(
      `Cannot create the test database through ${adminUrl.replace(/\/\/[^@/]*@/, '//…@')}: ${error.message}`,
    );
    console.error('Start PostgreSQL (127.0.0.1:5432, user postgres) or set PG_ADMIN_URL.');
    return 1;
  }
  console.log(`Throw-away database: ${database}`);

  const results = {};
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    results['migrations (CLI)'] = migrationSteps(url);
    if (!stop) results['e2e suite on PostgreSQL'] = jest('e2e suite on PostgreSQL', 'test/e2e/', url);
    if (!stop) results['two-instance specs'] = jest('two instances, one PostgreSQL', 'test/postgres/', url);
  } finally {
    try {
      await admin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      console.log(`\nDropped ${database}.`);
    } catch (error) {
      console.error(`Could not drop ${database}: ${error.message}`);
      results['drop database'] = false;
    }
  }

  console.log('\nPostgreSQL summary:');
  for (const [step, ok] of Object.entries(results)) console.log(`  ${ok ? 'ok    ' : 'FAILED'} ${step}`);
  if (stop) console.log('  (interrupted)');
  return !stop && Object.values(results).every(Boolean) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
