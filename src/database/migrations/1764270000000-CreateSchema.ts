import { MigrationInterface, QueryRunner, Table, TableColumnOptions } from 'typeorm';

/*
 * One set of migrations for SQLite and PostgreSQL: written with TypeORM's schema
 * builder and portable column types only (varchar, integer, bigint, boolean, text).
 * Instants are epoch milliseconds in BIGINT (see database/columns.ts).
 */
const id = (name = 'id'): TableColumnOptions => ({ name, type: 'varchar', length: '36', isPrimary: true });
const ref = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: '36',
  isNullable: nullable,
});
const str = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const instant = (name: string, nullable = true): TableColumnOptions => ({ name, type: 'bigint', isNullable: nullable });
const count = (name: string): TableColumnOptions => ({ name, type: 'integer', default: 0 });
const flag = (name: string, value: boolean): TableColumnOptions => ({ name, type: 'boolean', default: value });

export class CreateSchema1764270000000 implements MigrationInterface {
  name = 'CreateSchema1764270000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'organizers',
        columns: [
          id(),
          { ...str('name', 200), isUnique: true },
          flag('require_two_factor', false),
          count('two_factor_grace_days'),
          instant('created_at', false),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          id(),
          ref('organizer_id'),
          { ...str('email', 254), isUnique: true },
          str('name', 200),
          str('role', 16),
          str('password_hash', 255, true),
          flag('is_active', true),
          flag('two_factor_required', true),
          str('totp_secret_enc', 255, true),
          str('totp_pending_secret_enc', 255, true),
          instant('totp_confirmed_at'),
          { name: 'totp_last_step', type: 'bigint', isNullable: true },
          instant('totp_reset_at'),
          count('failed_code_count'),
          instant('code_locked_until'),
          str('security_stamp', 64),
          instant('two_factor_deadline'),
          instant('last_login_at'),
          instant('created_at', false),
        ],
        foreignKeys: [
          { columnNames: ['organizer_id'], referencedTableName: 'organizers', referencedColumnNames: ['id'] },
        ],
        indices: [{ columnNames: ['organizer_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'one_time_tokens',
        columns: [
          id(),
          ref('user_id'),
          str('purpose', 32),
          { ...str('token_hash', 64), isUnique: true },
          instant('expires_at', false),
          instant('used_at'),
          instant('revoked_at'),
          ref('created_by_id', true),
          instant('created_at', false),
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ columnNames: ['user_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'recovery_codes',
        columns: [id(), ref('user_id'), str('code_hash', 64), instant('used_at'), instant('created_at', false)],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ columnNames: ['user_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          id(),
          ref('organizer_id', true),
          ref('user_id', true),
          ref('actor_id', true),
          str('type', 64),
          { name: 'detail', type: 'text', isNullable: true },
          str('ip', 64, true),
          instant('created_at', false),
        ],
        indices: [{ columnNames: ['organizer_id'] }, { columnNames: ['user_id', 'created_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { ...str('id_hash', 64), isPrimary: true },
          ref('user_id', true),
          { name: 'data', type: 'text' },
          instant('expires_at', false),
        ],
        indices: [{ columnNames: ['user_id'] }, { columnNames: ['expires_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'login_throttles',
        columns: [
          { ...str('key_hash', 64), isPrimary: true },
          count('failed_count'),
          instant('locked_until'),
          instant('updated_at', false),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'login_throttles',
      'sessions',
      'audit_events',
      'recovery_codes',
      'one_time_tokens',
      'users',
      'organizers',
    ]) {
      await q.dropTable(table);
    }
  }
}
