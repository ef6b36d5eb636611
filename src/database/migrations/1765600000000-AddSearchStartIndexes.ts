import { MigrationInterface, QueryRunner } from 'typeorm';

/** The ways a short search matches (userStarts): the lowered name's or the email's first 1 or 2 characters. */
const STARTS = [
  ['name', 'LOWER("name")'],
  ['email', '"email"'],
] as const;
const LENGTHS = [1, 2] as const;

/**
 * Searches of 1 or 2 characters in the users list's order, a page at a time (issue 16).
 *
 * Such a search (too short for trigrams) finds the people whose name or email starts with it.
 * Thousands of an organizer's people may match ("ma"), and in the list's order they cannot be
 * found by ranges of the name and email indexes without sorting them all, nor by walking the
 * list's order index testing each person: the matches of a prefix lie together in that order
 * (all the "Ma…" names), so the walk reads every name before them (63,522 rows for "ma" at
 * 100k people, 111 ms on PostgreSQL).
 *
 * So each way of matching gets an index whose equality is the search and whose order is the
 * list's: (organizer_id, SUBSTR(x, 1, n), LOWER(name), email) for the lowered name and the
 * email (stored lowered), n = 1 and 2. A page of a short search is then two index ranges read
 * in order, a page of each, merged (AdminUserListService.read), whatever the organizer's size
 * and whatever the database's collation (an equality of the first characters, not a range
 * between texts). They replace AddUserSearch's COLLATE "C" prefix ranges on PostgreSQL.
 */
export class AddSearchStartIndexes1765600000000 implements MigrationInterface {
  name = 'AddSearchStartIndexes1765600000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [what, expression] of STARTS)
      for (const length of LENGTHS)
        await q.query(
          `CREATE INDEX "IDX_users_${what}_start${length}" ON "users" ("organizer_id", SUBSTR(${expression}, 1, ${length}), LOWER("name"), "email")`,
        );
    if (q.connection.options.type === 'postgres') {
      await q.query('DROP INDEX "IDX_users_organizer_name_prefix"');
      await q.query('DROP INDEX "IDX_users_email_prefix"');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') {
      await q.query(
        'CREATE INDEX "IDX_users_organizer_name_prefix" ON "users" ("organizer_id", (LOWER("name") COLLATE "C"))',
      );
      await q.query('CREATE INDEX "IDX_users_email_prefix" ON "users" (("email" COLLATE "C"))');
    }
    for (const [what] of STARTS)
      for (const length of LENGTHS) await q.query(`DROP INDEX "IDX_users_${what}_start${length}"`);
  }
}
