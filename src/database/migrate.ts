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
      await executor.executePendingMigrations();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.release();
  }
}
