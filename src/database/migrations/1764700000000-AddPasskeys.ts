import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/**
 * Passkeys and security keys (WebAuthn credentials), a second factor of their own (issue 13),
 * the organizer's switch "Allow sign-in with a passkey alone" (on by default), and its policy
 * "Require a passkey for admins" with a grace period (the admins' deadlines live on users).
 */
export class AddPasskeys1764700000000 implements MigrationInterface {
  name = 'AddPasskeys1764700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'passkeys',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'credential_id', type: 'varchar', length: '1400' },
          { name: 'public_key', type: 'text' },
          { name: 'counter', type: 'bigint', default: 0 },
          { name: 'transports', type: 'varchar', length: '200', default: "'[]'" },
          { name: 'name', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ columnNames: ['user_id'] }, { columnNames: ['credential_id'], isUnique: true }],
      }),
    );
    // Plain ALTER TABLE (see MoveTotpToDevices: no table rebuild).
    await q.query('ALTER TABLE "organizers" ADD COLUMN "allow_passkey_sign_in" boolean NOT NULL DEFAULT true');
    await q.query('ALTER TABLE "organizers" ADD COLUMN "require_admin_passkey" boolean NOT NULL DEFAULT false');
    await q.query('ALTER TABLE "organizers" ADD COLUMN "admin_passkey_grace_days" integer NOT NULL DEFAULT 0');
    await q.query('ALTER TABLE "users" ADD COLUMN "passkey_deadline" bigint NULL');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE "users" DROP COLUMN "passkey_deadline"');
    await q.query('ALTER TABLE "organizers" DROP COLUMN "admin_passkey_grace_days"');
    await q.query('ALTER TABLE "organizers" DROP COLUMN "require_admin_passkey"');
    await q.query('ALTER TABLE "organizers" DROP COLUMN "allow_passkey_sign_in"');
    await q.dropTable('passkeys');
  }
}
