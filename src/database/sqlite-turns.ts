import type { DataSource, QueryRunner } from 'typeorm';

interface SqliteDriver {
  createQueryRunner(mode?: string): QueryRunner;
  databaseConnection: { inTransaction: boolean };
}

const patched = new WeakSet<QueryRunner>();

/**
 * SQLite answers synchronously (better-sqlite3), so a page's queries, resolved as microtasks,
 * ran in one turn of the event loop: while an admin read a big organizer's pages, a visitor's
 * GET /login waited for whole pages at a time (p99 over 1 s with two admins busy, bench growth
 * phase). After each query made through TypeORM outside a transaction, the request now gives
 * the event loop a turn (setImmediate), as an asynchronous driver would, so other requests go
 * on between its queries. Never inside a transaction: every query shares the one connection,
 * and another request's statement would run inside it. And if another request opened one
 * during that turn, this request waits until it has ended before it goes on, for the same
 * reason. The few hot statements (database/prepared-sql.ts) are not TypeORM's: unchanged.
 * PostgreSQL's driver is asynchronous: nothing to do there.
 */
export function takeTurnsBetweenQueries(dataSource: DataSource): void {
  if (dataSource.options.type !== 'better-sqlite3') return;
  const driver = dataSource.driver as unknown as SqliteDriver;
  const create = driver.createQueryRunner.bind(driver);
  driver.createQueryRunner = (mode?: string) => {
    const runner = create(mode);
    if (!patched.has(runner)) {
      patched.add(runner);
      // BaseQueryRunner's protected transactionDepth (its nesting of SAVEPOINTs): read below. Were a
      // TypeORM release to rename it, every query would take its turn even while a transaction
      // settles: its first query (at start) fails instead.
      if (typeof depthOf(runner) !== 'number')
        throw new Error("TypeORM's query runner has no transactionDepth: the SQLite turns cannot see transactions");
      // The class's own query, looked up at each call (a test may wrap it to read the plans).
      const type = Object.getPrototypeOf(runner) as { query: (...args: unknown[]) => Promise<unknown> };
      runner.query = (async (...args: unknown[]) => {
        const result = await type.query.apply(runner, args);
        // TypeORM's own transaction state (one runner for every request on SQLite) moves right
        // after BEGIN, COMMIT and ROLLBACK return: no turn until it has settled.
        const settled = !runner.isTransactionActive && depthOf(runner) === 0;
        if (settled) await nextTurn(driver.databaseConnection);
        return result;
      }) as QueryRunner['query'];
    }
    return runner;
  };
}

/** The runner's BaseQueryRunner.transactionDepth (protected: there for subclasses of TypeORM's runners). */
function depthOf(runner: QueryRunner): unknown {
  return (runner as unknown as { transactionDepth?: unknown }).transactionDepth;
}

async function nextTurn(connection: { inTransaction: boolean }): Promise<void> {
  if (connection.inTransaction) return;
  await new Promise((resolve) => setImmediate(resolve));
  while (connection.inTransaction) await new Promise((resolve) => setTimeout(resolve, 1));
}
