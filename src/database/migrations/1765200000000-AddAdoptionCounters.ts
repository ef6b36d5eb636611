import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/*
 * What one user adds to their organizer's counts: 1 to the total, and 1 or 0 to each count.
 * The rule of the adoption counts (SecondFactors.adoption): confirmed is `has_second_factor`;
 * required_unconfirmed, a user without one whom the admin's setting or the policy's deadline
 * requires to set 2FA up; account_locked, "This wasn't me". The same text on both databases.
 */
const CONTRIBUTION = {
  confirmed: (r: string) => `CASE WHEN ${r}."has_second_factor" THEN 1 ELSE 0 END`,
  required_unconfirmed: (r: string) =>
    `CASE WHEN NOT ${r}."has_second_factor" AND (${r}."two_factor_required" OR ${r}."two_factor_deadline" IS NOT NULL) THEN 1 ELSE 0 END`,
  account_locked: (r: string) => `CASE WHEN ${r}."account_locked_at" IS NOT NULL THEN 1 ELSE 0 END`,
};
const COUNTS = Object.keys(CONTRIBUTION) as (keyof typeof CONTRIBUTION)[];

/*
 * Whether the user in `userId` has a confirmed second factor: an active authenticator or any
 * passkey (TotpFactor.confirmedSql, PasskeyFactor.confirmedSql, as of this migration: a
 * migration keeps the definitions of its day; adoption-counts.e2e-spec.ts checks they agree).
 */
const hasSecondFactor = (userId: string) =>
  `(EXISTS (SELECT 1 FROM "totp_devices" td WHERE td."user_id" = ${userId} AND td."slot" = 'active') ` +
  `OR EXISTS (SELECT 1 FROM "passkeys" pk WHERE pk."user_id" = ${userId}))`;

/** The users whose `has_second_factor` is stale once the factors of `userIds` (a subquery or a value) changed. */
const syncSecondFactor = (userIds: string) =>
  `UPDATE "users" SET "has_second_factor" = ${hasSecondFactor('"users"."id"')} ` +
  `WHERE "users"."id" IN (${userIds}) AND "users"."has_second_factor" <> ${hasSecondFactor('"users"."id"')}`;

/**
 * Counts that stay flat as organizers grow (issue 16). The adoption counts of the admin pages
 * were a scan of every user of the organizer (and of their factors and locks) on every users
 * list and policy page. Now:
 * - `users.has_second_factor`, kept equal to "has a confirmed second factor" by triggers on
 *   totp_devices and passkeys;
 * - `organizer_user_counts`, one row per organizer (total, confirmed, required_unconfirmed,
 *   account_locked), kept by triggers on users.
 * Triggers, not the app, so that no write path (pages, CLI, seed, policy, a later data
 * migration) can forget them, and each count changes in the transaction of its change.
 * On PostgreSQL the counter row is a hot row per organizer: the users triggers are per
 * statement, with transition tables, so a statement that changes many users (the organizer
 * policy) sums its deltas and locks the row once, after its user rows, and a statement that
 * changes no count (a sign-in's last_login_at) does not write or lock it at all. Transition
 * tables forbid column lists and several events per trigger: one trigger per event.
 * The code locks are not counted (they expire by the clock): adoption reads the few users
 * locked now, through a partial index on attempt_counters.locked_until.
 */
export class AddAdoptionCounters1765200000000 implements MigrationInterface {
  name = 'AddAdoptionCounters1765200000000';

  async up(q: QueryRunner): Promise<void> {
    const postgres = q.connection.options.type === 'postgres';
    // Plain ALTER TABLE (see MoveTotpToDevices: no table rebuild).
    await q.query('ALTER TABLE "users" ADD COLUMN "has_second_factor" boolean NOT NULL DEFAULT false');
    await q.createTable(
      new Table({
        name: 'organizer_user_counts',
        columns: [
          { name: 'organizer_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'total', type: 'integer', default: 0 },
          ...COUNTS.map((name) => ({ name, type: 'integer', default: 0 })),
        ],
        foreignKeys: [
          {
            columnNames: ['organizer_id'],
            referencedTableName: 'organizers',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await q.query(
      'CREATE INDEX "IDX_attempt_counters_locked_until" ON "attempt_counters" ("locked_until") WHERE "locked_until" IS NOT NULL',
    );
    // The factor triggers first: they lock their tables against writes until this commits, so
    // no factor added meanwhile is missed by the backfill; the users triggers after it.
    if (postgres) await this.factorTriggersPostgres(q);
    else await this.factorTriggersSqlite(q);
    await q.query(syncSecondFactor('SELECT "id" FROM "users"'));
    await q.query(
      `INSERT INTO "organizer_user_counts" ("organizer_id", "total", ${COUNTS.map((c) => `"${c}"`).join(', ')}) ` +
        `SELECT u."organizer_id", COUNT(*), ${COUNTS.map((c) => `SUM(${CONTRIBUTION[c]('u')})`).join(', ')} ` +
        'FROM "users" u GROUP BY u."organizer_id"',
    );
    if (postgres) await this.userTriggersPostgres(q);
    else await this.userTriggersSqlite(q);
  }

  async down(q: QueryRunner): Promise<void> {
    const postgres = q.connection.options.type === 'postgres';
    for (const [trigger, table] of TRIGGERS)
      await q.query(`DROP TRIGGER "${trigger}"${postgres ? ` ON "${table}"` : ''}`);
    if (postgres) for (const fn of FUNCTIONS_POSTGRES) await q.query(`DROP FUNCTION "${fn}"()`);
    await q.query('DROP INDEX "IDX_attempt_counters_locked_until"');
    await q.dropTable('organizer_user_counts');
    await q.query('ALTER TABLE "users" DROP COLUMN "has_second_factor"');
  }

  private async factorTriggersSqlite(q: QueryRunner): Promise<void> {
    const sync = (userId: string) => `${syncSecondFactor(userId)};`;
    await q.query(
      `CREATE TRIGGER "totp_devices_insert_second_factor" AFTER INSERT ON "totp_devices" WHEN NEW."slot" = 'active' ` +
        `BEGIN ${sync('NEW."user_id"')} END`,
    );
    await q.query(
      `CREATE TRIGGER "totp_devices_delete_second_factor" AFTER DELETE ON "totp_devices" WHEN OLD."slot" = 'active' ` +
        `BEGIN ${sync('OLD."user_id"')} END`,
    );
    await q.query(
      'CREATE TRIGGER "totp_devices_update_second_factor" AFTER UPDATE OF "slot", "user_id" ON "totp_devices" ' +
        'WHEN OLD."slot" IS NOT NEW."slot" OR OLD."user_id" IS NOT NEW."user_id" ' +
        `BEGIN ${sync('OLD."user_id"')} ${sync('NEW."user_id"')} END`,
    );
    await q.query(
      `CREATE TRIGGER "passkeys_insert_second_factor" AFTER INSERT ON "passkeys" BEGIN ${sync('NEW."user_id"')} END`,
    );
    await q.query(
      `CREATE TRIGGER "passkeys_delete_second_factor" AFTER DELETE ON "passkeys" BEGIN ${sync('OLD."user_id"')} END`,
    );
  }

  private async userTriggersSqlite(q: QueryRunner): Promise<void> {
    /** Adds `sign` times the row `r`'s contribution to its organizer's counts. */
    const add = (r: string, sign: '+' | '-') =>
      `INSERT INTO "organizer_user_counts" ("organizer_id", "total", ${COUNTS.map((c) => `"${c}"`).join(', ')}) ` +
      `VALUES (${r}."organizer_id", ${sign}1, ${COUNTS.map((c) => `${sign}(${CONTRIBUTION[c](r)})`).join(', ')}) ` +
      `ON CONFLICT ("organizer_id") DO UPDATE SET "total" = "total" + excluded."total", ` +
      `${COUNTS.map((c) => `"${c}" = "${c}" + excluded."${c}"`).join(', ')};`;
    await q.query(`CREATE TRIGGER "users_insert_counts" AFTER INSERT ON "users" BEGIN ${add('NEW', '+')} END`);
    await q.query(`CREATE TRIGGER "users_delete_counts" AFTER DELETE ON "users" BEGIN ${add('OLD', '-')} END`);
    // Only the columns the counts read, and only when a contribution changes: a sign-in never writes the row.
    const changed = [
      'OLD."organizer_id" IS NOT NEW."organizer_id"',
      ...COUNTS.map((c) => `${CONTRIBUTION[c]('OLD')} <> ${CONTRIBUTION[c]('NEW')}`),
    ].join(' OR ');
    await q.query(
      'CREATE TRIGGER "users_update_counts" AFTER UPDATE OF "organizer_id", "has_second_factor", "two_factor_required", ' +
        `"two_factor_deadline", "account_locked_at" ON "users" WHEN ${changed} ` +
        `BEGIN ${add('OLD', '-')} ${add('NEW', '+')} END`,
    );
  }

  private async factorTriggersPostgres(q: QueryRunner): Promise<void> {
    // One function for inserts and deletes of either table: each trigger names its transition table "changed".
    await q.query(
      'CREATE FUNCTION "users_sync_second_factor"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ' +
        `${syncSecondFactor('SELECT "user_id" FROM "changed"')}; RETURN NULL; END $$`,
    );
    await q.query(
      'CREATE FUNCTION "users_sync_second_factor_moved"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ' +
        `${syncSecondFactor('OLD."user_id", NEW."user_id"')}; RETURN NULL; END $$`,
    );
    for (const table of ['totp_devices', 'passkeys']) {
      await q.query(
        `CREATE TRIGGER "${table}_insert_second_factor" AFTER INSERT ON "${table}" REFERENCING NEW TABLE AS "changed" ` +
          'FOR EACH STATEMENT EXECUTE FUNCTION "users_sync_second_factor"()',
      );
      await q.query(
        `CREATE TRIGGER "${table}_delete_second_factor" AFTER DELETE ON "${table}" REFERENCING OLD TABLE AS "changed" ` +
          'FOR EACH STATEMENT EXECUTE FUNCTION "users_sync_second_factor"()',
      );
    }
    // A device changes slot one row at a time (its confirmation); every accepted code updates
    // last_step, which the WHEN skips without calling the function.
    await q.query(
      'CREATE TRIGGER "totp_devices_update_second_factor" AFTER UPDATE OF "slot", "user_id" ON "totp_devices" FOR EACH ROW ' +
        'WHEN (OLD."slot" IS DISTINCT FROM NEW."slot" OR OLD."user_id" IS DISTINCT FROM NEW."user_id") ' +
        'EXECUTE FUNCTION "users_sync_second_factor_moved"()',
    );
  }

  private async userTriggersPostgres(q: QueryRunner): Promise<void> {
    const columns = `"organizer_id", "total", ${COUNTS.map((c) => `"${c}"`).join(', ')}`;
    const signed = (table: string, sign: '+' | '-') =>
      `SELECT r."organizer_id", ${sign}1 AS "total", ${COUNTS.map((c) => `${sign}(${CONTRIBUTION[c]('r')}) AS "${c}"`).join(', ')} FROM "${table}" r`;
    /**
     * One UPSERT of the statement's summed deltas per organizer, in organizer order (a statement
     * that spans organizers locks their rows in one order), none when nothing changed.
     */
    const upsert = (rows: string) =>
      `INSERT INTO "organizer_user_counts" AS oc (${columns}) ` +
      `SELECT d."organizer_id", SUM(d."total"), ${COUNTS.map((c) => `SUM(d."${c}")`).join(', ')} FROM (${rows}) d ` +
      `GROUP BY d."organizer_id" HAVING SUM(d."total") <> 0 OR ${COUNTS.map((c) => `SUM(d."${c}") <> 0`).join(' OR ')} ` +
      `ORDER BY d."organizer_id" ON CONFLICT ("organizer_id") DO UPDATE SET "total" = oc."total" + excluded."total", ` +
      `${COUNTS.map((c) => `"${c}" = oc."${c}" + excluded."${c}"`).join(', ')}`;
    await q.query(
      'CREATE FUNCTION "organizer_user_counts_apply"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ' +
        `IF TG_OP = 'INSERT' THEN ${upsert(signed('added', '+'))}; ` +
        `ELSIF TG_OP = 'DELETE' THEN ${upsert(signed('removed', '-'))}; ` +
        `ELSE ${upsert(`${signed('added', '+')} UNION ALL ${signed('removed', '-')}`)}; ` +
        'END IF; RETURN NULL; END $$',
    );
    await q.query(
      'CREATE TRIGGER "users_insert_counts" AFTER INSERT ON "users" REFERENCING NEW TABLE AS "added" ' +
        'FOR EACH STATEMENT EXECUTE FUNCTION "organizer_user_counts_apply"()',
    );
    await q.query(
      'CREATE TRIGGER "users_delete_counts" AFTER DELETE ON "users" REFERENCING OLD TABLE AS "removed" ' +
        'FOR EACH STATEMENT EXECUTE FUNCTION "organizer_user_counts_apply"()',
    );
    // Every UPDATE of users fires it (no column list with transition tables); one that changes
    // no contribution sums to zero and writes nothing.
    await q.query(
      'CREATE TRIGGER "users_update_counts" AFTER UPDATE ON "users" REFERENCING OLD TABLE AS "removed" NEW TABLE AS "added" ' +
        'FOR EACH STATEMENT EXECUTE FUNCTION "organizer_user_counts_apply"()',
    );
  }
}

/** Every trigger of this migration, with its table (the same names on both databases), last made first. */
const TRIGGERS = [
  ['users_update_counts', 'users'],
  ['users_delete_counts', 'users'],
  ['users_insert_counts', 'users'],
  ['passkeys_delete_second_factor', 'passkeys'],
  ['passkeys_insert_second_factor', 'passkeys'],
  ['totp_devices_update_second_factor', 'totp_devices'],
  ['totp_devices_delete_second_factor', 'totp_devices'],
  ['totp_devices_insert_second_factor', 'totp_devices'],
];
const FUNCTIONS_POSTGRES = [
  'organizer_user_counts_apply',
  'users_sync_second_factor_moved',
  'users_sync_second_factor',
];
