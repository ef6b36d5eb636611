import { DataSource, QueryRunner } from 'typeorm';
import type { TestApp } from './test-app';

/** A statement the app sent, with the database's plan for it (one line per plan step). */
export interface PlannedQuery {
  sql: string;
  parameters: unknown[];
  plan: string[];
}

type QueryFn = QueryRunner['query'];

/**
 * The statements that `work` sends through TypeORM whose SQL names one of `tables`, each with
 * the plan the database chooses for it. On SQLite, EXPLAIN QUERY PLAN. On PostgreSQL, EXPLAIN
 * with sequential scans and explicit sorts priced out (enable_seqscan, enable_sort off, for that
 * one EXPLAIN): on a test's small tables the planner would rightly prefer a scan, so a Seq Scan
 * or a Sort left in the plan means no index can serve the query at all.
 * `sorted: true` leaves sorts priced as usual, for a query that must sort what an index found
 * (a search's matches put in the list's order): priced out, the planner would rather walk an
 * index in that order and filter every row of it, the plan the test means to rule out.
 */
export async function plansOf(
  t: TestApp,
  tables: string[],
  work: () => Promise<unknown>,
  options: PlanOptions = {},
): Promise<PlannedQuery[]> {
  const dataSource = t.get(DataSource);
  const probe = dataSource.createQueryRunner();
  const prototype = Object.getPrototypeOf(probe) as { query: QueryFn };
  await probe.release();
  const original = prototype.query;
  const names = new RegExp(`"(${tables.join('|')})"`);
  const captured: { sql: string; parameters: unknown[] }[] = [];
  prototype.query = function (this: QueryRunner, sql: string, parameters?: unknown[], ...rest: unknown[]) {
    if (names.test(sql) && /^\s*(SELECT|WITH)\b/i.test(sql)) captured.push({ sql, parameters: parameters ?? [] });
    return (original as (...args: unknown[]) => Promise<unknown>).call(this, sql, parameters, ...rest);
  } as QueryFn;
  try {
    await work();
  } finally {
    prototype.query = original;
  }
  return Promise.all(captured.map(async (query) => ({ ...query, plan: await planOf(dataSource, query, options) })));
}

export interface PlanOptions {
  /** PostgreSQL: keep sorts at their usual price (enable_sort on). */
  sorted?: boolean;
}

/** The plan of one statement, as plansOf reads it. */
export async function planOf(
  dataSource: DataSource,
  query: { sql: string; parameters: unknown[] },
  options: PlanOptions = {},
): Promise<string[]> {
  if (dataSource.options.type === 'better-sqlite3') {
    const db = (
      dataSource.driver as unknown as {
        databaseConnection: { prepare(sql: string): { all(...p: unknown[]): unknown[] } };
      }
    ).databaseConnection;
    // Indented by depth (two spaces a level), as PostgreSQL's plans are: sortsWithin reads the nesting.
    const rows = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.parameters) as SqlitePlanRow[];
    const depth = new Map<number, number>();
    return rows.map((row) => {
      const level = (depth.get(row.parent) ?? -1) + 1;
      depth.set(row.id, level);
      return `${'  '.repeat(level)}${row.detail}`;
    });
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.startTransaction();
    await runner.query('SET LOCAL enable_seqscan = off');
    if (!options.sorted) await runner.query('SET LOCAL enable_sort = off');
    await runner.query('SET LOCAL enable_incremental_sort = off');
    const rows: { 'QUERY PLAN': string }[] = await runner.query(`EXPLAIN ${query.sql}`, query.parameters);
    return rows.map((row) => row['QUERY PLAN']);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

/** A row of SQLite's EXPLAIN QUERY PLAN: its step, and the step it belongs to (0: the top). */
interface SqlitePlanRow {
  id: number;
  parent: number;
  detail: string;
}

/**
 * The sorts (SQLite `USE TEMP B-TREE`, PostgreSQL `Sort`) nested in a step matching `parent`
 * (SQLite: a line of more indentation after it; PostgreSQL: a node under it): for a query whose
 * parts must each read an index in order, while what joins them may sort their few rows.
 */
export function sortsWithin(plan: string[], parent: RegExp): string[] {
  const sorts: string[] = [];
  const indent = (line: string) => line.length - line.trimStart().length;
  plan.forEach((line, at) => {
    if (!parent.test(line.trim())) return;
    for (const inner of plan.slice(at + 1)) {
      if (indent(inner) <= indent(line)) break;
      if (/USE TEMP B-TREE|^(->\s*)?(Incremental )?Sort\s+\(/.test(inner.trim())) sorts.push(inner.trim());
    }
  });
  return sorts;
}

/**
 * What is wrong with a plan for a query whose cost must not grow with the tables: a full scan
 * of one of `tables` (SQLite `SCAN x` without an index, or a scan of a whole index without a
 * bound; PostgreSQL `Seq Scan`), or a sort of rows the index should have given in order
 * (SQLite `USE TEMP B-TREE`, PostgreSQL `Sort`). An empty list: the plan is fine.
 */
export function planProblems(query: PlannedQuery, tables: string[]): string[] {
  const problems: string[] = [];
  query.plan.forEach((line, at) => {
    const step = line.trim();
    if (/USE TEMP B-TREE/.test(step)) problems.push(step);
    if (/^(->\s*)?(Incremental )?Sort\s+\(/.test(step)) problems.push(step);
    for (const table of tables) {
      if (new RegExp(`Seq Scan on ${table}\\b`).test(step)) problems.push(step);
      // SQLite: "SCAN u" / "SCAN users" (every row), or "SCAN u USING [COVERING] INDEX x" (every entry of an index).
      const scan = /^SCAN (\S+)/.exec(step);
      if (scan && aliasOf(query.sql, scan[1]) === table) problems.push(step);
      // PostgreSQL: an index read from end to end, filtering (no Index Cond bounds it).
      if (new RegExp(`Index (Only )?Scan (Backward )?using \\S+ on ${table}\\b`).test(step) && !bounded(query.plan, at))
        problems.push(`${step} (no Index Cond)`);
    }
  });
  return problems;
}

/** Whether the plan node at `at` has an Index Cond among its own detail lines (before the next node). */
function bounded(plan: string[], at: number): boolean {
  for (const line of plan.slice(at + 1)) {
    if (line.trim().startsWith('->')) return false;
    if (line.trim().startsWith('Index Cond:')) return true;
  }
  return false;
}

/** The table an alias in the SQL stands for (`FROM "users" "u"` → users), or the name itself. */
function aliasOf(sql: string, name: string): string {
  const match = new RegExp(`"(\\w+)"\\s+(?:AS\\s+)?"?${name}"?(?=[\\s,)])`, 'i').exec(sql);
  return match ? match[1] : name;
}
