import { createHash } from 'node:crypto';
import { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

type Row = Record<string, unknown>;

interface SqliteStatement {
  get(...params: unknown[]): Row | undefined;
  run(...params: unknown[]): { changes: number };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface PgPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[]; rowCount: number | null }>;
}

/**
 * The few statements every request runs (read the session, read the signed-in user,
 * write the session), as fixed SQL prepared once: on SQLite a better-sqlite3 statement
 * reused for the life of the connection, on PostgreSQL a named prepared statement on each
 * pooled connection. TypeORM builds, escapes and parses its SQL anew on every call, which
 * cost ~150 µs per read here (npm run bench, issue 6); everything else keeps using it.
 *
 * SQL is written once with `?` placeholders and double-quoted identifiers; PostgreSQL gets
 * `$1, $2, …`. Values are always bound, never spliced into the text.
 */
export class PreparedSql {
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly pgTexts = new Map<string, { name: string; text: string }>();

  constructor(readonly dataSource: DataSource) {}

  /** Reads of one entity by one column, e.g. `lookup(User, 'id')`. */
  lookup<T extends ObjectLiteral>(entity: EntityTarget<T>, by: keyof T & string): EntityLookup<T> {
    return new EntityLookup(this, entity, by);
  }

  /** The first row, or null. */
  async get(sql: string, params: unknown[]): Promise<Row | null> {
    const sqlite = this.sqliteConnection();
    if (sqlite) return this.statement(sqlite, sql).get(...params) ?? null;
    const result = await this.pg().query({ ...this.pgStatement(sql), values: params });
    return result.rows[0] ?? null;
  }

  /** Runs a write; resolves with the number of rows changed. */
  async run(sql: string, params: unknown[]): Promise<number> {
    const sqlite = this.sqliteConnection();
    if (sqlite) return this.statement(sqlite, sql).run(...params).changes;
    const result = await this.pg().query({ ...this.pgStatement(sql), values: params });
    return result.rowCount ?? 0;
  }

  private sqliteConnection(): SqliteConnection | null {
    if (this.dataSource.options.type !== 'better-sqlite3') return null;
    return (this.dataSource.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
  }

  private statement(connection: SqliteConnection, sql: string): SqliteStatement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = connection.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private pg(): PgPool {
    return (this.dataSource.driver as unknown as { master: PgPool }).master;
  }

  private pgStatement(sql: string): { name: string; text: string } {
    let statement = this.pgTexts.get(sql);
    if (!statement) {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      // The same name always means the same text, on every pooled connection.
      statement = { name: 'tixngo_' + createHash('sha256').update(text).digest('hex').slice(0, 24), text };
      this.pgTexts.set(sql, statement);
    }
    return statement;
  }
}

/**
 * Reads one entity by one column through PreparedSql, hydrated the way TypeORM's find
 * does it (the entity's class, each column's type conversion and transformer, from the
 * entity metadata and the driver), so callers get the same object as from a repository.
 */
export class EntityLookup<T extends ObjectLiteral> {
  private readonly metadata: EntityMetadata;
  private readonly columns: ColumnMetadata[];
  private readonly sql: string;

  constructor(
    private readonly prepared: PreparedSql,
    entity: EntityTarget<T>,
    by: keyof T & string,
  ) {
    this.metadata = prepared.dataSource.getMetadata(entity);
    const column = this.metadata.findColumnWithPropertyName(by);
    if (!column) throw new Error(`${this.metadata.name} has no column ${by}`);
    this.columns = this.metadata.columns.filter((c) => !c.isVirtual && !c.isVirtualProperty);
    const columns = this.columns.map((c) => `"${c.databaseName}"`).join(', ');
    this.sql = `SELECT ${columns} FROM "${this.metadata.tableName}" WHERE "${column.databaseName}" = ? LIMIT 1`;
  }

  async find(value: unknown): Promise<T | null> {
    const row = await this.prepared.get(this.sql, [value]);
    return row ? this.hydrate(row) : null;
  }

  private hydrate(row: Row): T {
    const entity = this.metadata.create() as T;
    for (const column of this.columns) {
      column.setEntityValue(
        entity,
        this.prepared.dataSource.driver.prepareHydratedValue(row[column.databaseName], column),
      );
    }
    return entity;
  }
}
