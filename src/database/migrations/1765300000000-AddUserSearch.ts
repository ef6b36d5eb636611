import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The users list's search without reading every row of the organizer (issue 16).
 *
 * Searches of 3 characters or more are substrings of the name or the email, case-insensitive:
 * - SQLite: an FTS5 table with the trigram tokenizer, `users_search` (user_id and organizer_id
 *   stored, not indexed; name and email indexed), kept in step with `users` by triggers in the
 *   same transaction as every insert, change of name, email or organizer, and delete. Its own
 *   content (not an external-content table on users' implicit rowid, which VACUUM may renumber);
 *   its rowid is the INTEGER PRIMARY KEY of `users_search_keys`, the one row per user that the
 *   triggers find by user id through its unique index (the FTS table cannot look up an
 *   unindexed column without reading all of it).
 * - PostgreSQL: pg_trgm GIN indexes on LOWER(name) and LOWER(email), which serve `LIKE '%…%'`;
 *   without GIN's pending list (fastupdate off): new entries go straight into the index, so
 *   that a search never reads a list of recent inserts linearly (until a VACUUM) and the
 *   planner's cost of these indexes stays true; adding people is rare, searching is not.
 *
 * Searches of 1 or 2 characters (too short for trigrams) are names or emails starting with them,
 * a range of an index in code point order: SQLite's BINARY order of UTF-8 text is that order,
 * and its (organizer_id, LOWER(name), email) index and the unique email index serve the ranges.
 * On PostgreSQL the indexes of the list order and of the email follow the database's collation
 * (C.UTF-8 here, but en_US.UTF-8 and the like elsewhere, where a prefix is not one range: "ch"
 * in Czech, ignored punctuation), so the ranges are written `COLLATE "C"` and get indexes of
 * their own in that collation: exact on every server, the same order and matches as SQLite.
 * (AddSearchStartIndexes replaced these ranges with indexes of the first characters, in the list's order.)
 *
 * The "Not set up yet" filter in the list's order: (organizer_id, has_second_factor, LOWER(name),
 * email), on the column AddAdoptionCounters maintains, so each page of the filter is a range.
 */
export class AddUserSearch1765300000000 implements MigrationInterface {
  name = 'AddUserSearch1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      'CREATE INDEX "IDX_users_organizer_factor_name_email" ON "users" ("organizer_id", "has_second_factor", LOWER("name"), "email")',
    );
    if (q.connection.options.type === 'postgres') {
      await q.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
      await q.query(
        'CREATE INDEX "IDX_users_name_trgm" ON "users" USING gin (LOWER("name") gin_trgm_ops) WITH (fastupdate = off)',
      );
      await q.query(
        'CREATE INDEX "IDX_users_email_trgm" ON "users" USING gin (LOWER("email") gin_trgm_ops) WITH (fastupdate = off)',
      );
      await q.query(
        'CREATE INDEX "IDX_users_organizer_name_prefix" ON "users" ("organizer_id", (LOWER("name") COLLATE "C"))',
      );
      await q.query('CREATE INDEX "IDX_users_email_prefix" ON "users" (("email" COLLATE "C"))');
      return;
    }
    await q.query(
      'CREATE TABLE "users_search_keys" ("rowid" INTEGER PRIMARY KEY, "user_id" varchar(36) NOT NULL UNIQUE)',
    );
    await q.query(
      `CREATE VIRTUAL TABLE "users_search" USING fts5(user_id UNINDEXED, organizer_id UNINDEXED, name, email, tokenize = 'trigram')`,
    );
    await q.query('INSERT INTO "users_search_keys" ("user_id") SELECT "id" FROM "users"');
    await q.query(
      'INSERT INTO "users_search" ("rowid", "user_id", "organizer_id", "name", "email") ' +
        'SELECT k."rowid", u."id", u."organizer_id", u."name", u."email" FROM "users" u JOIN "users_search_keys" k ON k."user_id" = u."id"',
    );
    const key = (user: 'new' | 'old') => `(SELECT "rowid" FROM "users_search_keys" WHERE "user_id" = ${user}."id")`;
    await q.query(
      `CREATE TRIGGER "users_search_insert" AFTER INSERT ON "users" BEGIN
        INSERT INTO "users_search_keys" ("user_id") VALUES (new."id");
        INSERT INTO "users_search" ("rowid", "user_id", "organizer_id", "name", "email")
          VALUES (${key('new')}, new."id", new."organizer_id", new."name", new."email");
      END`,
    );
    await q.query(
      `CREATE TRIGGER "users_search_update" AFTER UPDATE OF "name", "email", "organizer_id" ON "users" BEGIN
        UPDATE "users_search" SET "organizer_id" = new."organizer_id", "name" = new."name", "email" = new."email"
          WHERE "rowid" = ${key('old')};
      END`,
    );
    await q.query(
      `CREATE TRIGGER "users_search_delete" AFTER DELETE ON "users" BEGIN
        DELETE FROM "users_search" WHERE "rowid" = ${key('old')};
        DELETE FROM "users_search_keys" WHERE "user_id" = old."id";
      END`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') {
      await q.query('DROP INDEX "IDX_users_email_prefix"');
      await q.query('DROP INDEX "IDX_users_organizer_name_prefix"');
      await q.query('DROP INDEX "IDX_users_email_trgm"');
      await q.query('DROP INDEX "IDX_users_name_trgm"');
      // The extension stays: other schemas of the database may use it, and it holds no data.
    } else {
      await q.query('DROP TRIGGER "users_search_delete"');
      await q.query('DROP TRIGGER "users_search_update"');
      await q.query('DROP TRIGGER "users_search_insert"');
      await q.query('DROP TABLE "users_search"');
      await q.query('DROP TABLE "users_search_keys"');
    }
    await q.query('DROP INDEX "IDX_users_organizer_factor_name_email"');
  }
}
