import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * One table for every attempt limit (issue 11): per email, per device cookie, per client
 * address and per account's second factor, each reserved before its secret is checked.
 * It replaces `login_throttles` and the users' code counters (counts start from zero).
 */
export class AddAttemptCounters1764400000000 implements MigrationInterface {
  name = 'AddAttemptCounters1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'attempt_counters',
        columns: [
          { name: 'key', type: 'varchar', length: '100', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'reserved_count', type: 'integer', default: 0 },
          { name: 'failed_count', type: 'integer', default: 0 },
          { name: 'window_started_at', type: 'bigint' },
          { name: 'locked_until', type: 'bigint', isNullable: true },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.createIndex(
      'attempt_counters',
      new TableIndex({ name: 'IDX_attempt_counters_user_id', columnNames: ['user_id'] }),
    );
    await q.dropTable('login_throttles');
    // Plain ALTER TABLE: TypeORM's SQLite runner would rebuild `users`, whose DROP cascades into
    // the tables that reference it when foreign keys are on (see MoveTotpToDevices).
    await q.query('ALTER TABLE "users" DROP COLUMN "failed_code_count"');
    await q.query('ALTER TABLE "users" DROP COLUMN "code_locked_until"');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "users" ADD COLUMN "code_locked_until" bigint NULL');
    await q.query('ALTER TABLE "users" ADD COLUMN "failed_code_count" integer NOT NULL DEFAULT 0');
    await q.createTable(
      new Table({
        name: 'login_throttles',
        columns: [
          { name: 'key_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'failed_count', type: 'integer', default: 0 },
          { name: 'locked_until', type: 'bigint', isNullable: true },
          { name: 'updated_at', type: 'bigint' },
        ],
      }),
    );
    await q.dropTable('attempt_counters');
  }
}
