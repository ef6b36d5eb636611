/** PostgreSQL SQLSTATEs that mean "the database cannot answer now", not "this request is wrong". */
const UNAVAILABLE_SQLSTATES = new Set([
  '53300', // too_many_connections
  '57014', // query_canceled (DB_STATEMENT_TIMEOUT_MS)
  '57P01', // admin_shutdown (also pg_terminate_backend)
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, or connections not allowed)
  '3D000', // invalid_catalog_name: the database is gone
]);
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'SQLITE_BUSY',
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|database system is (starting up|shutting down)/i;

/**
 * Whether an error means the database is unreachable or overloaded (connection refused
 * or cut, statement timeout, pool exhausted): the app answers 503 and serves again as
 * soon as the database is back, instead of a 500 (issue 5).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (
    let e = error as { code?: unknown; severity?: unknown; driverError?: unknown; message?: unknown } | undefined,
      depth = 0;
    e && depth < 3;
    depth++
  ) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)) return true;
    // FATAL: PostgreSQL refused or ended the connection itself (e.g. "not currently accepting connections").
    if (e.severity === 'FATAL' || e.severity === 'PANIC') return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.test(e.message)) return true;
    e = e.driverError as typeof e;
  }
  return false;
}

/**
 * Whether an INSERT or UPDATE broke a unique index (PostgreSQL 23505, SQLite
 * SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY). Read from the error itself: on PostgreSQL a
 * failed statement aborts its transaction, so a follow-up query to find out cannot run.
 */
export function isUniqueViolation(error: unknown): boolean {
  for (let e = error as { code?: unknown; driverError?: unknown } | undefined, depth = 0; e && depth < 3; depth++) {
    if (e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
      return true;
    e = e.driverError as typeof e;
  }
  return false;
}
