import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The users list's order, (LOWER(name), email) within an organizer, as an index (issue 16):
 * the CSV export reads the organizer in keyset batches of that order, each batch a range of
 * this index instead of a sort of the whole organizer. An expression index (SQLite 3.9+,
 * PostgreSQL): the queries must say exactly `LOWER(u.name)` for the planners to match it.
 */
export class AddUserListOrderIndex1765100000000 implements MigrationInterface {
  name = 'AddUserListOrderIndex1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE INDEX "IDX_users_organizer_name_email" ON "users" ("organizer_id", LOWER("name"), "email")');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX "IDX_users_organizer_name_email"');
  }
}
