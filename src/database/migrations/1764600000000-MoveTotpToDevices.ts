import { randomUUID } from 'node:crypto';
import { MigrationInterface, QueryRunner, Table } from 'typeorm';

const BATCH = 500;

type OldRow = {
  id: string;
  secret: string | null;
  pending: string | null;
  confirmedAt: string | number | null;
  lastStep: string | number | null;
  createdAt: string | number;
};
type DeviceRow = {
  id: string;
  user_id: string;
  slot: string;
  secret_enc: string;
  last_step: number | null;
  confirmed_at: number | null;
  created_at: number;
};

/**
 * Second factors as their own model (issue 12): the TOTP secret, the unconfirmed one and
 * the last accepted step move from `users` to `totp_devices` (one `active` and one
 * `pending` row at most per user), and `users.totp_reset_at`, which is about every factor,
 * becomes `second_factor_reset_at`. Ciphertexts move as they are (bound to the user's id).
 */
export class MoveTotpToDevices1764600000000 implements MigrationInterface {
  name = 'MoveTotpToDevices1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'totp_devices',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'slot', type: 'varchar', length: '8' },
          { name: 'secret_enc', type: 'varchar', length: '255' },
          { name: 'last_step', type: 'bigint', isNullable: true },
          { name: 'confirmed_at', type: 'bigint', isNullable: true },
          { name: 'created_at', type: 'bigint' },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ columnNames: ['user_id', 'slot'], isUnique: true }],
      }),
    );
    // Raw SQL throughout: a migration reads and writes the schema of its day, not today's entities.
    const users: OldRow[] = await q.query(
      'SELECT "id", "totp_secret_enc" AS "secret", "totp_pending_secret_enc" AS "pending", "totp_confirmed_at" AS "confirmedAt", ' +
        '"totp_last_step" AS "lastStep", "created_at" AS "createdAt" FROM "users" WHERE "totp_secret_enc" IS NOT NULL OR "totp_pending_secret_enc" IS NOT NULL',
    );
    const devices: DeviceRow[] = [];
    for (const user of users) {
      if (user.secret && user.confirmedAt != null) {
        const confirmedAt = Number(user.confirmedAt);
        devices.push({
          id: randomUUID(),
          user_id: user.id,
          slot: 'active',
          secret_enc: user.secret,
          last_step: user.lastStep == null ? null : Number(user.lastStep),
          confirmed_at: confirmedAt,
          created_at: confirmedAt,
        });
      }
      if (user.pending) {
        devices.push({
          id: randomUUID(),
          user_id: user.id,
          slot: 'pending',
          secret_enc: user.pending,
          last_step: null,
          confirmed_at: null,
          created_at: Number(user.createdAt),
        });
      }
    }
    const columns = ['id', 'user_id', 'slot', 'secret_enc', 'last_step', 'confirmed_at', 'created_at'] as const;
    for (let i = 0; i < devices.length; i += BATCH) {
      const batch = devices.slice(i, i + BATCH);
      let n = 0;
      const rows = batch.map(() => `(${columns.map(() => placeholder(q, ++n)).join(', ')})`).join(', ');
      await q.query(
        `INSERT INTO "totp_devices" (${columns.map((c) => `"${c}"`).join(', ')}) VALUES ${rows}`,
        batch.flatMap((device) => columns.map((c) => device[c])),
      );
    }
    // Plain ALTER TABLE on both databases: TypeORM's SQLite runner would rebuild `users`, and a
    // rebuilt table's DROP cascades into every table that references it whenever foreign
    // keys are on (TypeORM turns them off only outside a transaction).
    await q.query('ALTER TABLE "users" RENAME COLUMN "totp_reset_at" TO "second_factor_reset_at"');
    for (const column of ['totp_secret_enc', 'totp_pending_secret_enc', 'totp_confirmed_at', 'totp_last_step'])
      await q.query(`ALTER TABLE "users" DROP COLUMN "${column}"`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [column, type] of [
      ['totp_secret_enc', 'varchar(255)'],
      ['totp_pending_secret_enc', 'varchar(255)'],
      ['totp_confirmed_at', 'bigint'],
      ['totp_last_step', 'bigint'],
    ]) {
      await q.query(`ALTER TABLE "users" ADD COLUMN "${column}" ${type} NULL`);
    }
    await q.query('ALTER TABLE "users" RENAME COLUMN "second_factor_reset_at" TO "totp_reset_at"');
    const devices: DeviceRow[] = await q.query('SELECT * FROM "totp_devices"');
    for (const device of devices) {
      if (device.slot === 'active') {
        await q.query(
          `UPDATE "users" SET "totp_secret_enc" = ${placeholder(q, 1)}, "totp_confirmed_at" = ${placeholder(q, 2)}, "totp_last_step" = ${placeholder(q, 3)} WHERE "id" = ${placeholder(q, 4)}`,
          [device.secret_enc, device.confirmed_at, device.last_step, device.user_id],
        );
      } else {
        await q.query(
          `UPDATE "users" SET "totp_pending_secret_enc" = ${placeholder(q, 1)} WHERE "id" = ${placeholder(q, 2)}`,
          [device.secret_enc, device.user_id],
        );
      }
    }
    await q.dropTable('totp_devices');
  }
}

/** A bound parameter's placeholder: `$n` on PostgreSQL, `?` on SQLite. */
function placeholder(q: QueryRunner, n: number): string {
  return q.connection.options.type === 'postgres' ? `$${n}` : '?';
}
