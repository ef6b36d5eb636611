import { randomUUID } from 'node:crypto';
import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

const BATCH = 500;

type OldRow = { id: string; secret: string | null; pending: string | null; confirmedAt: string | number | null; lastStep: string | number | null; createdAt: string | number };
type DeviceRow = { id: string; user_id: string; slot: string; secret_enc: string; last_step: number | null; confirmed_at: number | null; created_at: number };

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
        foreignKeys: [{ columnNames: ['user_id'], referencedTableName: 'users', referencedColumnNames: ['id'], onDelete: 'CASCADE' }],
        indices: [{ columnNames: ['user_id', 'slot'], isUnique: true }],
      }),
    );
    const users: OldRow[] = await q.manager
      .createQueryBuilder()
      .select(['u.id AS "id"', 'u.totp_secret_enc AS "secret"', 'u.totp_pending_secret_enc AS "pending"', 'u.totp_confirmed_at AS "confirmedAt"', 'u.totp_last_step AS "lastStep"', 'u.created_at AS "createdAt"'])
      .from('users', 'u')
      .where('u.totp_secret_enc IS NOT NULL OR u.totp_pending_secret_enc IS NOT NULL')
      .getRawMany();
    const devices: DeviceRow[] = [];
    for (const user of users) {
      if (user.secret && user.confirmedAt != null) {
        const confirmedAt = Number(user.confirmedAt);
        devices.push({ id: randomUUID(), user_id: user.id, slot: 'active', secret_enc: user.secret, last_step: user.lastStep == null ? null : Number(user.lastStep), confirmed_at: confirmedAt, created_at: confirmedAt });
      }
      if (user.pending) {
        devices.push({ id: randomUUID(), user_id: user.id, slot: 'pending', secret_enc: user.pending, last_step: null, confirmed_at: null, created_at: Number(user.createdAt) });
      }
    }
    for (let i = 0; i < devices.length; i += BATCH) {
      await q.manager.createQueryBuilder().insert().into('totp_devices').values(devices.slice(i, i + BATCH)).execute();
    }
    await q.renameColumn('users', 'totp_reset_at', 'second_factor_reset_at');
    for (const column of ['totp_secret_enc', 'totp_pending_secret_enc', 'totp_confirmed_at', 'totp_last_step']) await q.dropColumn('users', column);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.addColumns('users', [
      new TableColumn({ name: 'totp_secret_enc', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'totp_pending_secret_enc', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'totp_confirmed_at', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'totp_last_step', type: 'bigint', isNullable: true }),
    ]);
    await q.renameColumn('users', 'second_factor_reset_at', 'totp_reset_at');
    const devices: DeviceRow[] = await q.manager.createQueryBuilder().select('*').from('totp_devices', 'd').getRawMany();
    for (const device of devices) {
      const set =
        device.slot === 'active'
          ? { totp_secret_enc: device.secret_enc, totp_confirmed_at: device.confirmed_at, totp_last_step: device.last_step }
          : { totp_pending_secret_enc: device.secret_enc };
      await q.manager.createQueryBuilder().update('users').set(set).where('id = :id', { id: device.user_id }).execute();
    }
    await q.dropTable('totp_devices');
  }
}
