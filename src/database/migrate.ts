import { DataSource, MigrationExecutor } from 'typeorm';

/** The key of the PostgreSQL advisory lock the instances take turns on at start (any fixed bigint). */
export const MIGRATION_LOCK_KEY = 5_116_044_221_707_331;

/**
 * Runs the pending migrations, each in its own transaction. On PostgreSQL several
 * instances may start at the same moment: they take turns on a session advisory lock,
 * held on the very connection that migrates (so a pool of 1 is enough), and whoever
 * comes second finds nothing left to do. Migrations are exempt from
 * DB_STATEMENT_TIMEOUT_MS, which is meant for requests, and so is the wait for the lock.
 */
export async function runPendingMigrations(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    await sqliteStatistics(dataSource);
    return;
  }
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SET statement_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const ran = await executor.executePendingMigrations();
      // New tables and indexes have no statistics until autovacuum comes by: the planner gets them now.
      if (ran.length) await runner.query(`ANALYZE ${appTables(dataSource)}`);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.release();
  }
}

/**
 * SQLite keeps planner statistics only when asked (sqlite_stat1): ANALYZE once when there are
 * none yet (a new database, or one from before this), bounded by analysis_limit so that a big
 * old file is not read whole at start, then PRAGMA optimize at every start, which re-analyzes
 * only the tables whose size changed much since (cheap, and nothing on an empty database).
 */
async function sqliteStatistics(dataSource: DataSource): Promise<void> {
  const [{ stats }] = await dataSource.query(
    "SELECT COUNT(*) AS stats FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'",
  );
  const analyzed = Number(stats) > 0 && (await dataSource.query('SELECT 1 FROM sqlite_stat1 LIMIT 1')).length > 0;
  await dataSource.query('PRAGMA analysis_limit = 1000');
  if (!analyzed) await dataSource.query('ANALYZE');
  await dataSource.query('PRAGMA optimize');
}

/** The app's tables (its entities'), quoted, for ANALYZE on PostgreSQL. */
function appTables(dataSource: DataSource): string {
  return [...new Set(dataSource.entityMetadatas.map((entity) => entity.tablePath))]
    .map((table) =>
      table
        .split('.')
        .map((part) => `"${part}"`)
        .join('.'),
    )
    .join(', ');
}
