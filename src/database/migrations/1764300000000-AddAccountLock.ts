import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** "This wasn't me": an account locked by its owner until an admin unlocks it. */
export class AddAccountLock1764300000000 implements MigrationInterface {
  name = 'AddAccountLock1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('users', new TableColumn({ name: 'account_locked_at', type: 'bigint', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('users', 'account_locked_at');
  }
}
