import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 17: a person's language (null: their browser's) and an organizer's time zone (UTC
 * until an admin sets one). Plain ALTER TABLE: TypeORM's SQLite runner would rebuild `users`,
 * whose DROP cascades into the tables that reference it (see MoveTotpToDevices).
 */
export class AddLanguageAndTimeZone1765500000000 implements MigrationInterface {
  name = 'AddLanguageAndTimeZone1765500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "users" ADD COLUMN "language" varchar(8) NULL');
    await q.query(`ALTER TABLE "organizers" ADD COLUMN "time_zone" varchar(64) NOT NULL DEFAULT 'UTC'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "organizers" DROP COLUMN "time_zone"');
    await q.query('ALTER TABLE "users" DROP COLUMN "language"');
  }
}
